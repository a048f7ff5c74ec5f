#include "agent/model/history_time.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporters/one_line.h"

namespace redline {
namespace {

// Echoed input is cut and kept on one line.
std::string Quote(absl::string_view s) {
  return absl::StrCat("'", prom::OneLine(s.substr(0, 64)),
                      s.size() > 64 ? "...'" : "'");
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// "1764558180" or "1764558180.123456789", exactly (a double would round
// the nanoseconds a client asks about to the entry's neighbours).
bool ParseUnixSeconds(absl::string_view text, int64_t* ns) {
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  const absl::string_view frac =
      dot == absl::string_view::npos ? "" : text.substr(dot + 1);
  int64_t s = 0, f = 0;
  if (!AllDigits(whole) || whole.size() > 11 || frac.size() > 9 ||
      (dot != absl::string_view::npos && !AllDigits(frac)) ||
      !absl::SimpleAtoi(whole, &s) ||
      (!frac.empty() && !absl::SimpleAtoi(frac, &f))) {
    return false;
  }
  for (size_t i = frac.size(); i < 9; ++i) f *= 10;
  *ns = s * 1'000'000'000 + f;
  return true;
}

// "14:03" or "14:03:25" today in tz; false if not that form.
bool ParseClock(absl::string_view text, absl::Time now, absl::TimeZone tz,
                absl::Time* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() < 2 || parts.size() > 3) return false;
  int v[3] = {0, 0, 0};
  const int max[3] = {23, 59, 59};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() > 2 || !AllDigits(parts[i]) ||
        !absl::SimpleAtoi(parts[i], &v[i]) || v[i] > max[i]) {
      return false;
    }
  }
  const absl::CivilDay today = absl::ToCivilDay(now, tz);
  *out = absl::FromCivil(absl::CivilSecond(today.year(), today.month(),
                                           today.day(), v[0], v[1], v[2]),
                         tz);
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseHistoryTime(absl::string_view text, absl::Time now,
                                         absl::TimeZone tz) {
  text = absl::StripAsciiWhitespace(text);
  absl::Time t;
  std::string err;
  if (!text.empty() && text[0] == '-') {
    absl::Duration back;
    if (absl::ParseDuration(text.substr(1), &back) &&
        back >= absl::ZeroDuration() && back < absl::Hours(24 * 366)) {
      return absl::ToUnixNanos(now - back);
    }
  } else if (int64_t ns; ParseUnixSeconds(text, &ns)) {
    return ns;
  } else if (ParseClock(text, now, tz, &t)) {
    return absl::ToUnixNanos(t);
  } else if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::ToUnixNanos(t);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad time ", Quote(text),
      ": want -5m (before now), 14:03[:25] (today, local time), RFC 3339 "
      "(2026-12-01T14:03:00Z) or unix seconds"));
}

absl::StatusOr<absl::Duration> ParseHistoryKeep(absl::string_view text) {
  absl::Duration d;
  if (text == "0") return absl::ZeroDuration();
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      d > absl::Hours(24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "want a duration up to 24h such as 1h or 30m (0: off), got ",
        Quote(text)));
  }
  return d;
}

absl::StatusOr<HistoryQuery> ParseHistoryQuery(const std::string& from,
                                               const std::string& to,
                                               const std::string& limit,
                                               absl::Time now,
                                               absl::TimeZone tz) {
  HistoryQuery q;
  q.to_ns = absl::ToUnixNanos(now);
  if (!from.empty()) {
    auto t = ParseHistoryTime(from, now, tz);
    if (!t.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("from: ", t.status().message()));
    q.from_ns = *t;
  }
  if (!to.empty()) {
    auto t = ParseHistoryTime(to, now, tz);
    if (!t.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("to: ", t.status().message()));
    q.to_ns = *t;
  }
  if (q.from_ns > q.to_ns) {
    return absl::InvalidArgumentError("from is after to");
  }
  if (!limit.empty() && (!absl::SimpleAtoi(limit, &q.limit) || q.limit < 1 ||
                         q.limit > kHistoryMaxLimit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "limit: want 1 to ", kHistoryMaxLimit, ", got ", Quote(limit)));
  }
  return q;
}

std::string FormatClock(int64_t unix_ns, absl::TimeZone tz) {
  return absl::FormatTime("%H:%M:%S", absl::FromUnixNanos(unix_ns), tz);
}

}  // namespace redline
