#include "agent/top/top_model.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/model/histogram.h"
#include "agent/model/names.h"
#include "agent/model/request_protocols.h"
#include "agent/top/top_columns.h"

namespace redline {
namespace {

// What a group accumulates from one snapshot (cumulative counts).
struct Agg {
  WorkloadId first;
  size_t members = 0;
  bool has_sched = false;
  uint64_t cpu_ns = 0;
  Log2Hist rq{};
  uint64_t calls = 0, errors = 0;
  Log2Hist sys{};
  uint64_t requests = 0, request_errors = 0;
  FineHist served{}, made{};
  uint64_t retrans = 0;
  double slo_burn = -1;
};

}  // namespace

std::string TopGroupName(const WorkloadId& id, TopGrouping g) {
  switch (g) {
    case TopGrouping::kProcess:
      return id.pid ? absl::StrCat(id.comm, "/", id.pid) : id.comm;
    case TopGrouping::kContainer:
      if (!id.container.empty()) return id.container;
      return id.container_id.empty() ? "[host]" : id.container_id.substr(0, 12);
    case TopGrouping::kPod:
      return id.pod.empty() ? (id.pod_uid.empty() ? "[no pod]" : id.pod_uid)
                            : absl::StrCat(id.namespace_name, "/", id.pod);
    case TopGrouping::kUnit:
      return id.systemd_unit.empty() ? "[no unit]" : id.systemd_unit;
  }
  return id.comm;
}

namespace {

template <typename H>
void AddHist(H* a, const H& b) {
  for (size_t i = 0; i < a->size(); ++i) (*a)[i] += b[i];
}

template <typename H>
H SubHist(const H& a, const H& b) {
  H out{};
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] > b[i] ? a[i] - b[i] : 0;
  return out;
}

uint64_t Sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

std::map<std::string, Agg> Group(const Snapshot& s, TopGrouping g) {
  std::map<std::string, Agg> out;
  for (const auto& [id, ws] : s.workloads) {
    Agg& a = out[TopGroupName(id, g)];
    if (a.members++ == 0) a.first = id;
    if (ws.has_sched) {
      a.has_sched = true;
      a.cpu_ns += ws.sched.cpu_ns;
      AddHist(&a.rq, ws.sched.rq_hist);
    }
    for (const auto& [nr, sc] : ws.syscalls) {
      a.calls += sc.calls;
      a.errors += sc.errors;
      AddHist(&a.sys, sc.hist);
    }
    for (const auto& [k, h] : ws.requests) {
      a.requests += h.requests;
      const RequestProtocol* p = FindRequestProtocol(k.protocol);
      if (p != nullptr && p->is_error(k.outcome))
        a.request_errors += h.requests;
      AddHist(k.server ? &a.served : &a.made, h.hist);
    }
    for (const auto& [p, t] : ws.tcp) a.retrans += t.retrans_segs;
    a.slo_burn = std::max(a.slo_burn, ws.slo_burn);
  }
  return out;
}

template <typename H>
double P99(const H& h) {
  uint64_t n = 0;
  for (uint64_t c : h) n += c;
  return n ? HistQuantileUpperBound(h, 0.99) : -1;
}

}  // namespace

const char* TopGroupingName(TopGrouping g) {
  switch (g) {
    case TopGrouping::kProcess:
      return "process";
    case TopGrouping::kContainer:
      return "container";
    case TopGrouping::kPod:
      return "pod";
    case TopGrouping::kUnit:
      return "unit";
  }
  return "process";
}

TopView BuildTopView(const Snapshot& prev, const Snapshot& cur, TopGrouping g) {
  TopView v;
  v.interval_s = std::max(
      1e-3, static_cast<double>(cur.taken_unix_ns - prev.taken_unix_ns) * 1e-9);
  const double dt = v.interval_s;
  for (const auto& p : cur.programs) {
    ++v.programs;
    v.programs_attached += p.attached;
  }
  for (const auto& m : cur.maps) v.drops += m.drops;
  v.host = cur.host;
  v.kernel = cur.kernel;
  if (cur.agent_start_unix_ns != 0) {
    v.agent_uptime_s =
        static_cast<double>(cur.taken_unix_ns - cur.agent_start_unix_ns) * 1e-9;
  }
  for (const auto& s : cur.slos) {
    if (s.burn_5m > v.worst_slo_burn) {
      v.worst_slo_burn = s.burn_5m;
      v.worst_slo = s.name;
    }
  }
  const auto before = Group(prev, g);
  double cpu_ns = 0;
  bool any_sched = false;
  for (const auto& [name, c] : Group(cur, g)) {
    auto it = before.find(name);
    const Agg p = it == before.end() ? Agg{} : it->second;
    TopRow r;
    r.name = name;
    r.id = c.first;
    r.members = c.members;
    if (c.has_sched) {
      const double ns = static_cast<double>(Sub(c.cpu_ns, p.cpu_ns));
      r.cpu_pct = ns / dt / 1e9 * 100;
      r.rq_p99_s = P99(SubHist(c.rq, p.rq));
      cpu_ns += ns;
      any_sched = true;
    }
    r.syscalls_per_s = static_cast<double>(Sub(c.calls, p.calls)) / dt;
    r.errors_per_s = static_cast<double>(Sub(c.errors, p.errors)) / dt;
    r.syscall_p99_s = P99(SubHist(c.sys, p.sys));
    const uint64_t req = Sub(c.requests, p.requests);
    r.requests_per_s = static_cast<double>(req) / dt;
    if (req) {
      r.request_error_pct =
          100.0 * static_cast<double>(Sub(c.request_errors, p.request_errors)) /
          static_cast<double>(req);
    }
    r.request_p99_s = P99(SubHist(c.served, p.served));
    if (r.request_p99_s < 0) r.request_p99_s = P99(SubHist(c.made, p.made));
    r.retrans_per_s = static_cast<double>(Sub(c.retrans, p.retrans)) / dt;
    r.slo_burn = c.slo_burn;
    v.syscalls_per_s += r.syscalls_per_s;
    v.rows.push_back(std::move(r));
  }
  if (any_sched) v.cpu_pct = cpu_ns / dt / 1e9 * 100;
  return v;
}

std::vector<TopSyscallRow> BuildSyscallTable(const Snapshot& prev,
                                             const Snapshot& cur, TopGrouping g,
                                             const std::string& name) {
  const double dt = std::max(
      1e-3, static_cast<double>(cur.taken_unix_ns - prev.taken_unix_ns) * 1e-9);
  auto sum = [&](const Snapshot& s) {
    std::map<uint32_t, SyscallStats> out;
    for (const auto& [id, ws] : s.workloads) {
      if (TopGroupName(id, g) != name) continue;
      for (const auto& [nr, sc] : ws.syscalls) out[nr].Add(sc);
    }
    return out;
  };
  const auto before = sum(prev);
  std::vector<TopSyscallRow> rows;
  for (const auto& [nr, c] : sum(cur)) {
    auto it = before.find(nr);
    const SyscallStats p = it == before.end() ? SyscallStats{} : it->second;
    TopSyscallRow r;
    r.name = SyscallName(nr);
    const uint64_t calls = Sub(c.calls, p.calls);
    if (calls == 0) continue;
    r.per_s = static_cast<double>(calls) / dt;
    r.errors_per_s = static_cast<double>(Sub(c.errors, p.errors)) / dt;
    for (const auto& [err, n] : c.errnos) {
      auto pe = p.errnos.find(err);
      const uint64_t d = Sub(n, pe == p.errnos.end() ? 0 : pe->second);
      if (d > 0) r.errnos.emplace_back(ErrnoName(err), d / dt);
    }
    std::stable_sort(
        r.errnos.begin(), r.errnos.end(),
        [](const auto& a, const auto& b) { return a.second > b.second; });
    if (!r.errnos.empty()) r.top_errno = r.errnos.front().first;
    r.hist = SubHist(c.hist, p.hist);
    r.p50_s = HistQuantileUpperBound(r.hist, 0.5);
    r.p99_s = HistQuantileUpperBound(r.hist, 0.99);
    r.max_s = HistQuantileUpperBound(r.hist, 1.0);
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.per_s > b.per_s; });
  return rows;
}

const char* TopColumnTitle(TopColumn c) { return TopColumnSpecOf(c).title; }

namespace {

double Key(const TopRow& r, TopColumn c) {
  const TopColumnSpec& spec = TopColumnSpecOf(c);
  return spec.value == nullptr ? 0 : r.*spec.value;
}

std::string Rate(double v) {
  if (v >= 1e6) return absl::StrFormat("%.1fM", v / 1e6);
  if (v >= 1e4) return absl::StrFormat("%.1fk", v / 1e3);
  if (v >= 100 || v == 0) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.1f", v);
}

// At most 5 characters, so that every column fits 80: 1600% (16 busy CPUs).
std::string Pct(double v) {
  if (v < 0) return "-";
  return v >= 100 ? absl::StrFormat("%.0f", v) : absl::StrFormat("%.1f", v);
}

}  // namespace

void SortTopRows(std::vector<TopRow>* rows, TopColumn by) {
  std::stable_sort(rows->begin(), rows->end(),
                   [by](const TopRow& a, const TopRow& b) {
                     if (by == TopColumn::kName) return a.name < b.name;
                     const double ka = Key(a, by), kb = Key(b, by);
                     if (ka != kb) return ka > kb;
                     return a.name < b.name;
                   });
}

std::string FormatSeconds(double s) {
  if (s < 0) return "-";
  if (s < 1e-6) return absl::StrFormat("%.0fns", s * 1e9);
  if (s < 1e-3) return absl::StrFormat("%.0fus", s * 1e6);
  if (s < 1) return absl::StrFormat("%.1fms", s * 1e3);
  return absl::StrFormat("%.2fs", s);
}

// The value columns take 70 characters (top_columns.cc): at 80 columns
// BURN (the rightmost) still shows, with 8 of the name.
int TopNameWidth(int width) { return std::max(8, std::min(24, width - 72)); }

std::string FormatUptime(double s) {
  const auto t = static_cast<int64_t>(s);
  if (t >= 86400)
    return absl::StrFormat("%dd%02dh", t / 86400, t % 86400 / 3600);
  if (t >= 3600) return absl::StrFormat("%dh%02dm", t / 3600, t % 3600 / 60);
  return absl::StrFormat("%dm%02ds", t / 60, t % 60);
}

std::string FormatTopSummary(const TopView& v, TopGrouping g) {
  std::string out = absl::StrFormat(
      // Two lines of at most 80 columns (without the SLO part).
      "redline top  %s  kernel %s  agent up %s  interval %.1fs\n"
      "%s: %d  syscalls/s %s  cpu %s%%  drops %d  programs %d/%d",
      v.host.empty() ? "?" : v.host, v.kernel.empty() ? "?" : v.kernel,
      FormatUptime(v.agent_uptime_s), v.interval_s, TopGroupingName(g),
      static_cast<int>(v.rows.size()), Rate(v.syscalls_per_s), Pct(v.cpu_pct),
      static_cast<int>(v.drops), v.programs_attached, v.programs);
  if (!v.worst_slo.empty()) {
    absl::StrAppend(&out, absl::StrFormat("  slo %s burn %.1fx", v.worst_slo,
                                          v.worst_slo_burn));
  }
  return out;
}

namespace {

std::string Pad(const std::string& s, int w, bool left) {
  if (static_cast<int>(s.size()) >= w) return s;
  const std::string fill(w - s.size(), ' ');
  return left ? s + fill : fill + s;
}

std::string JoinCells(const std::vector<std::string>& cells) {
  return absl::StrJoin(cells, " ");
}

}  // namespace

std::vector<std::string> FormatTopCells(const TopRow& r, int name_w) {
  std::vector<std::string> cells = {
      Pad(r.name.substr(0, name_w), name_w, true)};
  for (const TopColumnSpec& c : TopColumnSpecs()) {
    if (c.value == nullptr) continue;
    cells.push_back(Pad(FormatTopValue(c, r.*c.value), c.width, false));
  }
  return cells;
}

int TopCellSeverity(const TopRow& r, TopColumn c) {
  const TopColumnSpec& spec = TopColumnSpecOf(c);
  return spec.severity == nullptr ? 0 : spec.severity(r.*spec.value);
}

std::string FormatTopColumns(int name_w) {
  std::vector<std::string> cells;
  for (const TopColumnSpec& c : TopColumnSpecs()) {
    cells.push_back(c.value == nullptr ? Pad(c.title, name_w, true)
                                       : Pad(c.title, c.width, false));
  }
  return JoinCells(cells);
}

std::string FormatTopRow(const TopRow& r, int name_w) {
  return JoinCells(FormatTopCells(r, name_w));
}

std::string FormatTopText(const TopView& v, TopGrouping g, int width) {
  const int name_w = TopNameWidth(width);
  std::string out =
      FormatTopSummary(v, g) + "\n" + FormatTopColumns(name_w) + "\n";
  for (const TopRow& r : v.rows) out += FormatTopRow(r, name_w) + "\n";
  return out;
}

std::string FormatRate(double v) { return Rate(v); }

std::string FormatPct(double v) { return Pct(v); }

std::string FormatTopJson(const TopView& v, TopGrouping g) {
  using json = nlohmann::json;
  auto num = [](double x) { return x < 0 ? json(nullptr) : json(x); };
  json rows = json::array();
  for (const TopRow& r : v.rows) {
    json row = {{"members", r.members}};
    for (const TopColumnSpec& c : TopColumnSpecs()) {
      if (c.value == nullptr) {
        row[c.json_key] = r.name;
      } else {
        const double x = r.*c.value;
        row[c.json_key] = c.json_null_when_unmeasured ? num(x) : json(x);
      }
    }
    rows.push_back(std::move(row));
  }
  json j = {{"host", v.host},
            {"kernel", v.kernel},
            {"agent_uptime_seconds", v.agent_uptime_s},
            {"interval_seconds", v.interval_s},
            {"grouping", TopGroupingName(g)},
            {"syscalls_per_second", v.syscalls_per_s},
            {"cpu_pct", num(v.cpu_pct)},
            {"map_drops", v.drops},
            {"programs_attached", v.programs_attached},
            {"programs", v.programs},
            {"rows", std::move(rows)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace redline
