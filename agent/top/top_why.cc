#include "agent/top/top_why.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/model/offcpu.h"

namespace redline {
namespace {

constexpr size_t kTopCulprits = 3;

struct Sums {
  uint64_t cpu = 0, steal = 0, rq = 0;
  std::array<uint64_t, kOffCpuReasons> off{};
  std::map<std::string, uint64_t> culprits;
  bool throttle = false;
  uint64_t throttled = 0;
};

Sums Sum(const Snapshot& s, TopGrouping g, const std::string& name,
         bool* found) {
  Sums out;
  for (const auto& [id, ws] : s.workloads) {
    if (TopGroupName(id, g) != name) continue;
    *found = true;
    out.cpu += ws.sched.cpu_ns;
    out.steal += ws.sched.steal_ns;
    out.rq += ws.sched.rq_sum_ns;
    for (int r = 0; r < kOffCpuReasons; ++r) out.off[r] += ws.sched.off_ns[r];
    for (const auto& [c, ns] : ws.rq_culprits) out.culprits[c] += ns;
    if (ws.has_throttle) {
      out.throttle = true;
      out.throttled += ws.throttle.throttled_ns;
    }
  }
  return out;
}

double Rate(uint64_t cur, uint64_t prev, double dt) {
  return cur > prev ? static_cast<double>(cur - prev) * 1e-9 / dt : 0;
}

}  // namespace

WhyView BuildWhyView(const Snapshot& prev, const Snapshot& cur, TopGrouping g,
                     const std::string& name) {
  WhyView v;
  v.name = name;
  v.interval_s = std::max(
      1e-3, static_cast<double>(cur.taken_unix_ns - prev.taken_unix_ns) * 1e-9);
  const double dt = v.interval_s;
  bool unused = false;
  const Sums p = Sum(prev, g, name, &unused);
  const Sums c = Sum(cur, g, name, &v.found);
  v.cpu = Rate(c.cpu, p.cpu, dt);
  v.steal = Rate(c.steal, p.steal, dt);
  v.runqueue = Rate(c.rq, p.rq, dt);
  v.total = v.cpu + v.steal + v.runqueue;
  for (int r = 0; r < kOffCpuReasons; ++r) {
    const double x = Rate(c.off[r], p.off[r], dt);
    v.offcpu.emplace_back(std::string(kOffCpuReasonNames[r]), x);
    v.total += x;
  }
  std::stable_sort(
      v.offcpu.begin(), v.offcpu.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::pair<std::string, double>> by;
  for (const auto& [who, ns] : c.culprits) {
    auto it = p.culprits.find(who);
    const double x = Rate(ns, it == p.culprits.end() ? 0 : it->second, dt);
    if (x > 0) by.emplace_back(who, x);
  }
  std::stable_sort(by.begin(), by.end(), [](const auto& a, const auto& b) {
    return a.second > b.second;
  });
  double rest = 0;
  for (size_t i = 0; i < by.size(); ++i) {
    if (i < kTopCulprits) {
      v.culprits.push_back(by[i]);
    } else {
      rest += by[i].second;
    }
  }
  if (rest > 0) v.culprits.emplace_back("[rest]", rest);
  if (c.throttle) v.throttled = Rate(c.throttled, p.throttled, dt);
  for (const TopRow& r : BuildTopView(prev, cur, g).rows) {
    if (r.name == name) v.row = r;
  }
  return v;
}

namespace {

char Letter(const std::string& part) {
  return part == "cpu"        ? 'C'
         : part == "runqueue" ? 'Q'
         : part == "steal"    ? 'H'  // the hypervisor's (S is sleep)
                              : static_cast<char>(std::toupper(
                                    static_cast<unsigned char>(part[0])));
}

std::string Pct(double x, double total) {
  return total > 0 ? absl::StrFormat("%5.1f%%", 100 * x / total) : "    -";
}

}  // namespace

std::string FormatWhyText(const WhyView& v, int width) {
  if (!v.found) return absl::StrCat("why ", v.name, ": no such row\n");
  std::vector<std::pair<std::string, double>> parts{
      {"cpu", v.cpu}, {"steal", v.steal}, {"runqueue", v.runqueue}};
  for (const auto& o : v.offcpu) parts.push_back(o);
  // The bar: cells by largest remainder, so they always fill the width.
  std::string bar;
  if (v.total > 0) {
    double acc = 0;
    int drawn = 0;
    for (const auto& [part, x] : parts) {
      acc += x;
      const int upto = static_cast<int>(std::lround(acc / v.total * width));
      bar.append(std::max(0, upto - drawn), Letter(part));
      drawn = std::max(drawn, upto);
    }
  }
  std::string out = absl::StrFormat("why %s: %.2f threads over %.1fs  [%s]\n",
                                    v.name, v.total, v.interval_s, bar);
  for (const auto& [part, x] : parts) {
    absl::StrAppendFormat(&out, "  %c %-9s %s  %.3fs/s\n", Letter(part), part,
                          Pct(x, v.total), x);
    if (part == "runqueue") {
      for (const auto& [who, y] : v.culprits) {
        absl::StrAppendFormat(&out, "      behind %-16s %s\n", who,
                              Pct(y, v.runqueue));
      }
      if (v.throttled >= 0) {
        absl::StrAppendFormat(&out, "      throttled by quota %.3fs/s\n",
                              v.throttled);
      }
    }
  }
  absl::StrAppend(&out, "  requests p99 ", FormatSeconds(v.row.request_p99_s),
                  "  request errors ", FormatPct(v.row.request_error_pct),
                  "%  syscall errors ", FormatRate(v.row.errors_per_s), "/s\n");
  return out;
}

std::string FormatWhyJson(const WhyView& v) {
  using json = nlohmann::json;
  auto num = [](double x) { return x < 0 ? json(nullptr) : json(x); };
  json off = json::object(), who = json::object();
  for (const auto& [r, x] : v.offcpu) off[r] = x;
  for (const auto& [c, x] : v.culprits) who[c] = x;
  json j = {{"why", v.name},
            {"found", v.found},
            {"interval_seconds", v.interval_s},
            {"threads", v.total},
            {"cpu", v.cpu},
            {"steal", v.steal},
            {"runqueue", v.runqueue},
            {"runqueue_behind", std::move(who)},
            {"throttled", num(v.throttled)},
            {"offcpu", std::move(off)},
            {"request_p99_seconds", num(v.row.request_p99_s)},
            {"request_error_pct", num(v.row.request_error_pct)},
            {"syscall_errors_per_second", v.row.errors_per_s}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace redline
