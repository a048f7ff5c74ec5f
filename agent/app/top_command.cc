// `redline top`: rates over each interval, from programs it loads itself or
// from a running agent's /api/v1/snapshot (--connect). This file holds the
// sources and the batch mode (-b: top -b style text, or --json).
#include "agent/app/top_command.h"

#include <httplib.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/base/logging.h"
#include "agent/identity/host_identity.h"
#include "agent/metrics/snapshot_json.h"
#include "agent/model/history_time.h"
#include "agent/probes/probe_set.h"
#include "agent/probes/store.h"
#include "agent/top/top_model.h"
#include "agent/top/top_tui.h"
#include "agent/top/top_why.h"

namespace redline {
namespace {

// Loads the programs in this process, like `redline run` without serving.
class LocalSource : public SnapshotSource {
 public:
  static absl::StatusOr<std::unique_ptr<LocalSource>> Open(
      const ProbeSetOptions& opts) {
    auto set = LoadProbes(opts, nullptr);
    if (!set.ok()) return set.status();
    return std::unique_ptr<LocalSource>(new LocalSource(std::move(*set)));
  }
  ~LocalSource() override { set_->Detach(); }
  absl::StatusOr<Snapshot> Next() override {
    store_.Refresh();
    return *store_.Latest();
  }

 private:
  explicit LocalSource(std::unique_ptr<ProbeSet> set)
      : set_(std::move(set)), store_(set_->view) {}
  std::unique_ptr<ProbeSet> set_;
  Store store_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
        HexDigit(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// --connect=https://user:pass@host:port (an agent with basic_auth_users):
// the URL without the user info, which is percent-decoded as curl does
// and kept out of every message.
struct AgentUrl {
  std::string url;
  std::string user, password;
  bool has_auth = false;
};

AgentUrl SplitUserInfo(const std::string& url) {
  AgentUrl a{url};
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.rfind('@', end - 1);
  if (at == std::string::npos || at < start || end == start) return a;
  const std::string info = url.substr(start, at - start);
  a.url = url.substr(0, start) + url.substr(at + 1);
  const size_t colon = info.find(':');
  a.user = PercentDecode(info.substr(0, colon));
  if (colon != std::string::npos) {
    a.password = PercentDecode(info.substr(colon + 1));
  }
  a.has_auth = true;
  return a;
}

// A running agent: GET <url>/api/v1/snapshot.
class RemoteSource : public SnapshotSource {
 public:
  explicit RemoteSource(const std::string& connect)
      : RemoteSource(SplitUserInfo(connect)) {}
  explicit RemoteSource(AgentUrl u) : url_(u.url), client_(url_) {
    client_.set_connection_timeout(3);
    client_.set_read_timeout(10);
    if (u.has_auth) client_.set_basic_auth(u.user, u.password);
  }
  absl::StatusOr<Snapshot> Next() override {
    auto res = client_.Get(kSnapshotPath);
    if (!res) {
      return absl::UnavailableError(
          absl::StrCat("--connect ", url_, ": cannot reach the agent (",
                       res.error() == httplib::Error::Connection
                           ? "connection failed"
                           : httplib::to_string(res.error()),
                       ")"));
    }
    if (res->status == 401) {
      return absl::UnavailableError(absl::StrCat(
          "--connect ", url_, kSnapshotPath,
          ": HTTP 401, the agent wants credentials (or these are wrong): "
          "--connect=https://USER:PASSWORD@HOST:PORT"));
    }
    if (res->status != 200) {
      return absl::UnavailableError(
          absl::StrCat("--connect ", url_, kSnapshotPath, ": HTTP ",
                       res->status, " (is it a redline agent?)"));
    }
    auto snap = SnapshotFromJson(res->body);
    if (!snap.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connect ", url_, ": ", snap.status().message()));
    }
    return snap;
  }

  absl::StatusOr<HistoryInterval> At(int64_t at_ns) override {
    const std::string path =
        absl::StrFormat("%s?to=%d.%09d&limit=2", kHistoryPath,
                        at_ns / 1'000'000'000, at_ns % 1'000'000'000);
    auto res = client_.Get(path);
    if (!res) {
      return absl::UnavailableError(
          absl::StrCat("--connect ", url_, ": cannot reach the agent (",
                       httplib::to_string(res.error()), ")"));
    }
    if (res->status != 200) {
      return absl::UnavailableError(absl::StrCat(
          "--connect ", url_, kHistoryPath, ": HTTP ", res->status, ": ",
          OneLine(absl::StripTrailingAsciiWhitespace(res->body.substr(0, 200))),
          res->status == 404 ? " (an agent without history)" : ""));
    }
    double interval_s = 0;
    auto r = HistoryFromJson(res->body, &interval_s);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connect ", url_, ": ", r.status().message()));
    }
    const int64_t slack = static_cast<int64_t>(interval_s * 1.5e9);
    if (r->snapshots.size() < 2 || at_ns > r->newest_unix_ns + slack) {
      return absl::OutOfRangeError(KeptRange(*r, interval_s));
    }
    return HistoryInterval{std::move(r->snapshots[0]),
                           std::move(r->snapshots[1]), interval_s};
  }

 private:
  // The times --at can show: an interval needs the entry before it.
  static std::string KeptRange(const HistoryRange& r, double interval_s) {
    if (r.entries < 2) {
      return "the agent keeps no history yet (it needs two refreshes; "
             "--history=0 turns it off)";
    }
    const absl::TimeZone tz = absl::LocalTimeZone();
    return absl::StrCat(
        "outside the history the agent keeps: ",
        FormatClock(r.oldest_unix_ns + static_cast<int64_t>(interval_s * 1e9),
                    tz),
        " to ", FormatClock(r.newest_unix_ns, tz), " local time (", r.entries,
        " entries)");
  }

  std::string url_;
  httplib::Client client_;
};

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Sleeps up to `s` seconds; false if SIGINT/SIGTERM arrived.
bool Wait(double s) {
  timespec ts{static_cast<time_t>(s),
              static_cast<long>(
                  (s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && !g_stop) {
  }
  return !g_stop;
}

int Fail(absl::string_view msg) {
  std::fprintf(stderr, "redline top: %.*s\n", static_cast<int>(msg.size()),
               msg.data());
  return 2;
}

// One batch report of the interval prev..cur: the why view of --why, or
// the rows (filtered, sorted) as text or JSON.
void PrintReport(const Snapshot& prev, const Snapshot& cur, const Options& opts,
                 TopGrouping group, TopColumn sort) {
  std::string out;
  if (!opts.top_why.empty()) {
    const WhyView w = BuildWhyView(prev, cur, group, opts.top_why);
    out = opts.json ? FormatWhyJson(w) : FormatWhyText(w, 60) + "\n";
  } else {
    TopView v = BuildTopView(prev, cur, group);
    if (!opts.top_filter.empty()) {
      std::erase_if(v.rows, [&](const TopRow& r) {
        return !absl::StrContains(r.name, opts.top_filter);
      });
    }
    SortTopRows(&v.rows, sort);
    out = opts.json ? FormatTopJson(v, group)
                    : FormatTopText(v, group, 120) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// --at: the agent's interval that ended at or just before that time.
int PrintAt(SnapshotSource* source, const Options& opts, TopGrouping group,
            TopColumn sort) {
  auto at = ParseHistoryTime(opts.top_at, absl::Now(), absl::LocalTimeZone());
  if (!at.ok()) return Fail(absl::StrCat("--at: ", at.status().message()));
  auto interval = source->At(*at);
  if (!interval.ok()) {
    return Fail(absl::StrCat("--at ", OneLine(opts.top_at), ": ",
                             interval.status().message()));
  }
  PrintReport(interval->prev, interval->cur, opts, group, sort);
  return 0;
}

}  // namespace

int Top(const Options& opts, const ProbeSetOptions& probe_opts) {
  TopColumn sort = TopColumn::kCpu;
  bool found = false;
  for (int c = 0; c < kTopColumns; ++c) {
    if (absl::EqualsIgnoreCase(opts.top_sort,
                               TopColumnTitle(static_cast<TopColumn>(c)))) {
      sort = static_cast<TopColumn>(c);
      found = true;
    }
  }
  if (!found) {
    std::string cols;
    for (int c = 0; c < kTopColumns; ++c) {
      absl::StrAppend(&cols, c ? ", " : "",
                      TopColumnTitle(static_cast<TopColumn>(c)));
    }
    return Fail(absl::StrCat("--sort: unknown column '", opts.top_sort,
                             "' (want one of ", cols, ")"));
  }
  TopGrouping group = TopGrouping::kProcess;
  for (TopGrouping g : {TopGrouping::kProcess, TopGrouping::kContainer,
                        TopGrouping::kPod, TopGrouping::kUnit}) {
    if (opts.top_group == TopGroupingName(g)) group = g;
  }
  if (!opts.top_at.empty() && opts.connect.empty()) {
    return Fail(
        "--at reads a running agent's history: add --connect=URL "
        "(standalone top keeps none)");
  }
  if (!opts.top_at.empty() && !opts.batch && !opts.json) {
    return Fail(
        "--at is a batch view: add -b or --json (on the screen, [ "
        "and ] rewind)");
  }
  std::unique_ptr<SnapshotSource> source;
  if (!opts.connect.empty()) {
    source = std::make_unique<RemoteSource>(opts.connect);
  } else {
    auto local = LocalSource::Open(probe_opts);
    if (!local.ok()) {
      return Fail(absl::StrCat(local.status().message(),
                               " (standalone top loads BPF programs: run it "
                               "as root, or --connect to a running agent)"));
    }
    source = std::move(*local);
  }
  if (!opts.top_why.empty() && !opts.batch && !opts.json) {
    return Fail("--why is a batch view: add -b or --json");
  }
  if (!opts.batch && !opts.json) {
    // A wrong --connect URL is one line and exit 2 before the screen takes
    // the terminal, as in batch mode; later failures are shown on screen.
    if (!opts.connect.empty()) {
      if (auto first = source->Next(); !first.ok()) {
        return Fail(first.status().message());
      }
    }
    return RunTopScreen(source.get(),
                        {opts.delay_s, opts.top_filter, !opts.connect.empty()},
                        sort,
                        group);
  }
  if (!opts.top_at.empty()) return PrintAt(source.get(), opts, group, sort);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  auto prev = source->Next();
  if (!prev.ok()) return Fail(prev.status().message());
  for (uint32_t i = 0; opts.iterations == 0 || i < opts.iterations; ++i) {
    if (!Wait(opts.delay_s)) break;
    auto cur = source->Next();
    if (!cur.ok()) return Fail(cur.status().message());
    PrintReport(*prev, *cur, opts, group, sort);
    prev = std::move(cur);
  }
  return 0;
}

}  // namespace redline
