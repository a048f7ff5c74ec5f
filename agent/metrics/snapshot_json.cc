#include "agent/metrics/snapshot_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/model/request_protocols.h"

namespace redline {
namespace {

using json = nlohmann::json;

// Histograms are sent sparse ({"slot": count}): most slots are zero.
template <typename Hist>
json Sparse(const Hist& h) {
  json out = json::object();
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i]) out[std::to_string(i)] = h[i];
  }
  return out;
}

template <typename Hist>
void Dense(const json& j, Hist* h) {
  for (const auto& [k, v] : j.items()) {
    size_t i;
    if (absl::SimpleAtoi(k, &i) && i < h->size())
      (*h)[i] = v.template get<uint64_t>();
  }
}

json IdJson(const WorkloadId& id) {
  json j = {{"comm", id.comm}};
  if (id.pid) j["pid"] = id.pid;
  auto opt = [&j](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  opt("container_id", id.container_id);
  opt("pod_uid", id.pod_uid);
  opt("systemd_unit", id.systemd_unit);
  opt("namespace", id.namespace_name);
  opt("pod", id.pod);
  opt("container", id.container);
  opt("workload", id.workload);
  return j;
}

WorkloadId IdFrom(const json& j) {
  WorkloadId id;
  id.comm = j.value("comm", "");
  id.pid = j.value("pid", 0u);
  id.container_id = j.value("container_id", "");
  id.pod_uid = j.value("pod_uid", "");
  id.systemd_unit = j.value("systemd_unit", "");
  id.namespace_name = j.value("namespace", "");
  id.pod = j.value("pod", "");
  id.container = j.value("container", "");
  id.workload = j.value("workload", "");
  return id;
}

json WorkloadJson(const WorkloadId& id, const WorkloadStats& ws) {
  json w = {{"id", IdJson(id)}};
  json sys = json::array();
  for (const auto& [nr, s] : ws.syscalls) {
    json e = {{"nr", nr},
              {"calls", s.calls},
              {"errors", s.errors},
              {"sum_ns", s.sum_ns},
              {"hist", Sparse(s.hist)}};
    json errnos = json::object();
    for (const auto& [err, n] : s.errnos) errnos[std::to_string(err)] = n;
    e["errnos"] = errnos;
    sys.push_back(std::move(e));
  }
  w["syscalls"] = std::move(sys);
  if (ws.has_sched) {
    w["sched"] = {{"cpu_ns", ws.sched.cpu_ns},
                  {"steal_ns", ws.sched.steal_ns},
                  {"voluntary", ws.sched.voluntary},
                  {"involuntary", ws.sched.involuntary},
                  {"rq_sum_ns", ws.sched.rq_sum_ns},
                  {"rq_hist", Sparse(ws.sched.rq_hist)},
                  {"off_ns", ws.sched.off_ns}};
  }
  if (ws.has_throttle) {
    w["throttle"] = {{"periods", ws.throttle.periods},
                     {"throttled_periods", ws.throttle.throttled_periods},
                     {"throttled_ns", ws.throttle.throttled_ns}};
  }
  if (!ws.rq_culprits.empty()) {
    w["rq_culprits"] = ws.rq_culprits;
  }
  json tcp = json::array();
  for (const auto& [p, t] : ws.tcp) {
    tcp.push_back({{"remote", p.remote},
                   {"local_port", p.local_port},
                   {"retrans_segs", t.retrans_segs},
                   {"resets_sent", t.resets_sent},
                   {"resets_received", t.resets_received},
                   {"connects_ok", t.connects_ok},
                   {"connects_failed", t.connects_failed},
                   {"accepts", t.accepts}});
  }
  w["tcp"] = std::move(tcp);
  // One array per request protocol, keyed by its name, its operation and
  // outcome under the protocol's own label names.
  for (const RequestProtocol& p : RequestProtocols()) {
    json reqs = json::array();
    for (const auto& [k, h] : ws.requests) {
      if (k.protocol != p.name) continue;
      reqs.push_back({{"server", k.server},
                      {p.operation_label, k.operation},
                      {p.outcome_label, k.outcome},
                      {"remote", k.remote},
                      {"local_port", k.local_port},
                      {"requests", h.requests},
                      {"timed", h.timed},
                      {"sum_ns", h.sum_ns},
                      {"hist", Sparse(h.hist)}});
    }
    w[p.name] = std::move(reqs);
  }
  if (ws.slo_burn >= 0) w["slo_burn"] = ws.slo_burn;
  return w;
}

void WorkloadFrom(const json& w, WorkloadStats* ws) {
  for (const json& e : w.at("syscalls")) {
    SyscallStats& s = ws->syscalls[e.at("nr").get<uint32_t>()];
    s.calls = e.at("calls").get<uint64_t>();
    s.errors = e.at("errors").get<uint64_t>();
    s.sum_ns = e.at("sum_ns").get<uint64_t>();
    Dense(e.at("hist"), &s.hist);
    for (const auto& [k, v] : e.at("errnos").items()) {
      uint32_t err;
      if (absl::SimpleAtoi(k, &err)) s.errnos[err] = v.get<uint64_t>();
    }
  }
  ws->slo_burn = w.value("slo_burn", -1.0);
  if (w.contains("throttle")) {
    const json& t = w["throttle"];
    ws->has_throttle = true;
    ws->throttle.periods = t.at("periods").get<uint64_t>();
    ws->throttle.throttled_periods = t.at("throttled_periods").get<uint64_t>();
    ws->throttle.throttled_ns = t.at("throttled_ns").get<uint64_t>();
  }
  if (w.contains("rq_culprits")) {
    for (const auto& [who, ns] : w["rq_culprits"].items()) {
      ws->rq_culprits[who] = ns.get<uint64_t>();
    }
  }
  if (w.contains("sched")) {
    const json& s = w["sched"];
    ws->has_sched = true;
    ws->sched.cpu_ns = s.at("cpu_ns").get<uint64_t>();
    // Absent from agents before stolen time was measured: zero.
    ws->sched.steal_ns = s.value("steal_ns", uint64_t{0});
    ws->sched.voluntary = s.at("voluntary").get<uint64_t>();
    ws->sched.involuntary = s.at("involuntary").get<uint64_t>();
    ws->sched.rq_sum_ns = s.at("rq_sum_ns").get<uint64_t>();
    Dense(s.at("rq_hist"), &ws->sched.rq_hist);
    // Absent from agents before the off-CPU breakdown: zeros.
    if (s.contains("off_ns")) {
      const json& off = s["off_ns"];
      for (size_t i = 0; i < off.size() && i < ws->sched.off_ns.size(); ++i) {
        ws->sched.off_ns[i] = off[i].get<uint64_t>();
      }
    }
  }
  for (const json& t : w.at("tcp")) {
    TcpStats& s = ws->tcp[{t.at("remote").get<std::string>(),
                           t.at("local_port").get<std::string>()}];
    s.retrans_segs = t.at("retrans_segs").get<uint64_t>();
    s.resets_sent = t.at("resets_sent").get<uint64_t>();
    s.resets_received = t.at("resets_received").get<uint64_t>();
    s.connects_ok = t.at("connects_ok").get<uint64_t>();
    s.connects_failed = t.at("connects_failed").get<uint64_t>();
    s.accepts = t.at("accepts").get<uint64_t>();
  }
  for (const RequestProtocol& p : RequestProtocols()) {
    if (!w.contains(p.name)) continue;  // an older agent's snapshot
    for (const json& h : w.at(p.name)) {
      RequestKey k{.protocol = p.name,
                   .server = h.at("server").get<bool>(),
                   .operation = h.at(p.operation_label).get<std::string>(),
                   .outcome = h.at(p.outcome_label).get<std::string>(),
                   .remote = h.at("remote").get<std::string>(),
                   .local_port = h.at("local_port").get<std::string>()};
      RequestStats& s = ws->requests[k];
      s.requests = h.at("requests").get<uint64_t>();
      s.timed = h.at("timed").get<uint64_t>();
      s.sum_ns = h.at("sum_ns").get<uint64_t>();
      Dense(h.at("hist"), &s.hist);
    }
  }
}

json SnapshotJson(const Snapshot& snap) {
  json j = {{"format", kSnapshotFormat},
            {"taken_unix_ns", snap.taken_unix_ns},
            {"live_processes", snap.live_processes},
            {"read_seconds", snap.read_seconds},
            {"host", snap.host},
            {"kernel", snap.kernel},
            {"agent_start_unix_ns", snap.agent_start_unix_ns}};
  json slos = json::array();
  for (const auto& s : snap.slos) {
    slos.push_back(
        {{"name", s.name}, {"burn_1m", s.burn_1m}, {"burn_5m", s.burn_5m}});
  }
  j["slos"] = std::move(slos);
  json progs = json::array();
  for (const auto& p : snap.programs) {
    progs.push_back({{"name", p.name},
                     {"attached", p.attached},
                     {"reason", p.reason},
                     {"recursion_misses", p.recursion_misses}});
  }
  j["programs"] = std::move(progs);
  json maps = json::array();
  for (const auto& m : snap.maps) {
    json errors = json::object();  // the kinds seen, by errno name
    for (int k = 0; k < kUpdateErrorKinds; ++k) {
      if (m.update_errors[k]) errors[kUpdateErrorNames[k]] = m.update_errors[k];
    }
    maps.push_back({{"name", m.name},
                    {"drops", m.drops},
                    {"update_errors", std::move(errors)},
                    {"evictions", m.evictions},
                    {"entries", m.entries},
                    {"capacity", m.capacity}});
  }
  j["maps"] = std::move(maps);
  json ws = json::array();
  for (const auto& [id, w] : snap.workloads) ws.push_back(WorkloadJson(id, w));
  j["workloads"] = std::move(ws);
  return j;
}

// Throws json::exception on a missing or mistyped field.
absl::StatusOr<Snapshot> SnapshotFrom(const json& j) {
  Snapshot snap;
  if (j.value("format", 0) != kSnapshotFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot format ", j.value("format", 0), ", want ",
                     kSnapshotFormat, " (agent and client versions differ)"));
  }
  snap.taken_unix_ns = j.at("taken_unix_ns").get<int64_t>();
  snap.live_processes = j.value("live_processes", 0ull);
  snap.read_seconds = j.value("read_seconds", 0.0);
  snap.host = j.value("host", "");
  snap.kernel = j.value("kernel", "");
  snap.agent_start_unix_ns = j.value("agent_start_unix_ns", int64_t{0});
  for (const json& s : j.value("slos", json::array())) {
    snap.slos.push_back({s.at("name").get<std::string>(),
                         s.value("burn_1m", 0.0), s.value("burn_5m", 0.0)});
  }
  for (const json& p : j.at("programs")) {
    ProgramStatus st{p.at("name").get<std::string>(),
                     p.at("attached").get<bool>(), p.value("reason", "")};
    st.recursion_misses = p.value("recursion_misses", uint64_t{0});
    snap.programs.push_back(std::move(st));
  }
  for (const json& m : j.at("maps")) {
    MapStatus s;
    s.name = m.at("name").get<std::string>();
    s.drops = m.value("drops", 0ull);
    const json errors = m.value("update_errors", json::object());
    for (int k = 0; k < kUpdateErrorKinds; ++k) {
      s.update_errors[k] = errors.value(kUpdateErrorNames[k], 0ull);
    }
    s.evictions = m.value("evictions", 0ull);
    s.entries = m.value("entries", 0ull);
    s.capacity = m.value("capacity", 0ull);
    snap.maps.push_back(std::move(s));
  }
  for (const json& w : j.at("workloads")) {
    WorkloadFrom(w, &snap.workloads[IdFrom(w.at("id"))]);
  }
  return snap;
}

// Names are escaped by the library: a comm may hold any byte, so invalid
// UTF-8 is replaced rather than thrown on.
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string SnapshotToJson(const Snapshot& snap) {
  return Dump(SnapshotJson(snap));
}

absl::StatusOr<Snapshot> SnapshotFromJson(const std::string& text) {
  try {
    return SnapshotFrom(json::parse(text));
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a redline snapshot: ", e.what()));
  }
}

std::string HistoryToJson(const HistoryRange& r, double interval_s) {
  json snaps = json::array();
  for (const Snapshot& s : r.snapshots) snaps.push_back(SnapshotJson(s));
  return Dump({{"format", kSnapshotFormat},
               {"interval_s", interval_s},
               {"entries", r.entries},
               {"oldest_unix_ns", r.oldest_unix_ns},
               {"newest_unix_ns", r.newest_unix_ns},
               {"truncated", r.truncated},
               {"snapshots", std::move(snaps)}});
}

absl::StatusOr<HistoryRange> HistoryFromJson(const std::string& text,
                                             double* interval_s) {
  HistoryRange r;
  try {
    const json j = json::parse(text);
    if (j.value("format", 0) != kSnapshotFormat) {
      return absl::InvalidArgumentError(
          absl::StrCat("history format ", j.value("format", 0), ", want ",
                       kSnapshotFormat, " (agent and client versions differ)"));
    }
    if (interval_s != nullptr) *interval_s = j.value("interval_s", 0.0);
    r.entries = j.value("entries", size_t{0});
    r.oldest_unix_ns = j.value("oldest_unix_ns", int64_t{0});
    r.newest_unix_ns = j.value("newest_unix_ns", int64_t{0});
    r.truncated = j.value("truncated", false);
    for (const json& s : j.at("snapshots")) {
      auto snap = SnapshotFrom(s);
      if (!snap.ok()) return snap.status();
      r.snapshots.push_back(std::move(*snap));
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a redline history: ", e.what()));
  }
  return r;
}

}  // namespace redline
