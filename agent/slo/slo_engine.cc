#include "agent/slo/slo_engine.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/base/logging.h"
#include "agent/metrics/snapshot_metrics.h"
#include "agent/model/names.h"
#include "agent/model/request_protocols.h"
#include "bpf/slo.h"

namespace redline {
namespace {

// Whether value is in list; if_empty when the list is empty.
bool Listed(const std::vector<std::string>& list, const std::string& value,
            bool if_empty) {
  if (list.empty()) return if_empty;
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool IsLatency(SliKind k) {
  return k == SliKind::kRequestLatency || k == SliKind::kSyscallLatency;
}

// Everything that decides which events an SLO counts, and how.
std::string CountingKey(const Slo& s) {
  std::string key = absl::StrCat(
      s.name, "|", SliKindName(s.kind), "|", s.protocol, "|", s.role, "|",
      s.threshold_ns, "|", absl::StrJoin(s.syscalls, ","), "|",
      absl::StrJoin(s.errnos, ","), "|", absl::StrJoin(s.operations, ","), "|",
      absl::StrJoin(s.bad_outcomes, ","));
  for (const auto& [k, m] : s.selector) {
    absl::StrAppend(&key, "|", k, m.regex ? "~" : "=", m.text);
  }
  return key;
}

const std::string& Field(const WorkloadId& id, const std::string& key) {
  static const std::string kEmpty;
  if (key == "comm") return id.comm;
  if (key == "container_id") return id.container_id;
  if (key == "pod_uid") return id.pod_uid;
  if (key == "systemd_unit") return id.systemd_unit;
  if (key == "namespace") return id.namespace_name;
  if (key == "pod") return id.pod;
  if (key == "container") return id.container;
  if (key == "workload") return id.workload;
  return kEmpty;
}

// Slots for one kind of threshold: kept ones first, then free ones.
absl::Status Assign(const std::set<uint64_t>& want, const SloWithin& prev,
                    SloWithin* out, const char* what) {
  if (want.size() > static_cast<size_t>(kSloSlots)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", kSloSlots, " distinct latency thresholds for ", what,
        " SLOs (the kernel counts each one separately); got ", want.size()));
  }
  *out = {};
  std::vector<uint64_t> todo;
  for (uint64_t t : want) {
    auto it = std::find(prev.begin(), prev.end(), t);
    if (it != prev.end()) {
      (*out)[it - prev.begin()] = t;
    } else {
      todo.push_back(t);
    }
  }
  for (uint64_t t : todo) {
    // Prefer a slot nobody used before: its counts hold no other
    // threshold's past (baselines cover that too, this is cheaper).
    int best = -1;
    for (int i = 0; i < kSloSlots && best < 0; ++i) {
      if ((*out)[i] == 0 && prev[i] == 0) best = i;
    }
    for (int i = 0; i < kSloSlots && best < 0; ++i) {
      if ((*out)[i] == 0) best = i;
    }
    (*out)[best] = t;
  }
  return absl::OkStatus();
}

int SlotOf(const SloWithin& slots, uint64_t t) {
  auto it = std::find(slots.begin(), slots.end(), t);
  return it == slots.end() ? -1 : static_cast<int>(it - slots.begin());
}

uint32_t ErrnoNumber(const std::string& name) {
  for (uint32_t e = 1; e < 4096; ++e) {
    if (ErrnoName(e) == name) return e;
  }
  return 0;
}

}  // namespace

absl::StatusOr<SloSlots> PlanSloSlots(const SloConfig& cfg,
                                      const SloSlots& prev) {
  std::set<uint64_t> http, sys;
  for (const Slo& s : cfg.slos) {
    if (s.kind == SliKind::kRequestLatency) http.insert(s.threshold_ns);
    if (s.kind == SliKind::kSyscallLatency) sys.insert(s.threshold_ns);
  }
  SloSlots out;
  if (absl::Status st =
          Assign(http, prev.http_ns, &out.http_ns,
                 "request latency (http_latency, request_latency)");
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          Assign(sys, prev.sys_ns, &out.sys_ns, "syscall_latency");
      !st.ok()) {
    return st;
  }
  out.sys_mask.assign(RL_SLO_MAX_NR, 0);
  for (const Slo& s : cfg.slos) {
    if (s.kind != SliKind::kSyscallLatency) continue;
    const int slot = SlotOf(out.sys_ns, s.threshold_ns);
    for (const std::string& name : s.syscalls) {
      const int nr = SyscallNumber(name);
      if (nr >= 0 && nr < RL_SLO_MAX_NR) out.sys_mask[nr] |= 1u << slot;
    }
  }
  return out;
}

bool SelectorMatches(const Slo& slo, const WorkloadId& id) {
  for (const auto& [key, m] : slo.selector) {
    if (!m.Matches(Field(id, key))) return false;
  }
  return true;
}

void SloEngine::Configure(const SloConfig& cfg, const SloSlots& slots,
                          bool from_zero) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<State> next;
  for (const Slo& slo : cfg.slos) {
    State st;
    st.slo = slo;
    st.counting_key = CountingKey(slo);
    if (slo.kind == SliKind::kRequestLatency) {
      st.slot = SlotOf(slots.http_ns, slo.threshold_ns);
    } else if (slo.kind == SliKind::kSyscallLatency) {
      st.slot = SlotOf(slots.sys_ns, slo.threshold_ns);
    }
    auto old = std::find_if(
        states_.begin(), states_.end(),
        [&](const State& s) { return s.counting_key == st.counting_key; });
    if (old != states_.end() && old->slot == st.slot) {
      // Same events: keep counts and history (objective, window and
      // alerting may have changed; they only change what is derived).
      st.last = std::move(old->last);
      st.totals = old->totals;
      st.history = std::move(old->history);
      st.baseline_pending = old->baseline_pending;
    } else {
      st.baseline_pending = !from_zero;
    }
    next.push_back(std::move(st));
  }
  states_ = std::move(next);
}

std::pair<uint64_t, uint64_t> SloEngine::Measure(const State& st,
                                                 const WorkloadStats& ws) {
  uint64_t good = 0, total = 0;
  const Slo& s = st.slo;
  switch (s.kind) {
    case SliKind::kRequestAvailability:
    case SliKind::kRequestLatency:
      for (const auto& [k, h] : ws.requests) {
        if (k.protocol != s.protocol || k.server != (s.role == "server") ||
            !Listed(s.operations, k.operation, /*if_empty=*/true)) {
          continue;
        }
        if (s.kind == SliKind::kRequestAvailability) {
          total += h.requests;
          const bool bad =
              s.bad_outcomes.empty()
                  ? FindRequestProtocol(k.protocol)->is_error(k.outcome)
                  : Listed(s.bad_outcomes, k.outcome, /*if_empty=*/false);
          if (!bad) good += h.requests;
        } else if (st.slot >= 0) {
          // Requests whose start was not seen have no duration: they are
          // neither good nor bad for a latency SLI.
          total += h.timed;
          good += h.within[st.slot];
        }
      }
      break;
    case SliKind::kSyscallLatency:
    case SliKind::kSyscallErrors:
      for (const std::string& name : s.syscalls) {
        const int nr = SyscallNumber(name);
        auto it = ws.syscalls.find(static_cast<uint32_t>(nr));
        if (nr < 0 || it == ws.syscalls.end()) continue;
        const SyscallStats& sc = it->second;
        total += sc.calls;
        if (s.kind == SliKind::kSyscallLatency) {
          if (st.slot >= 0) good += sc.within[st.slot];
          continue;
        }
        uint64_t bad = 0;
        if (s.errnos.empty()) {
          bad = sc.errors;
        } else {
          for (const std::string& e : s.errnos) {
            auto en = sc.errnos.find(ErrnoNumber(e));
            if (en != sc.errnos.end()) bad += en->second;
          }
        }
        good += sc.calls - std::min(bad, sc.calls);
      }
      break;
    case SliKind::kTcpRetransmits:
      // good = data segments sent that were not retransmissions.
      for (const auto& [peer, t] : ws.tcp) {
        total += t.data_segs_out;
        good +=
            t.data_segs_out - std::min(t.data_segs_retrans, t.data_segs_out);
      }
      break;
  }
  return {std::min(good, total), total};
}

void SloEngine::Update(const Snapshot& snap, double now_s) {
  std::lock_guard<std::mutex> l(mu_);
  now_s_ = now_s;
  for (State& st : states_) {
    for (const auto& [id, ws] : snap.workloads) {
      if (!SelectorMatches(st.slo, id)) continue;
      const auto [good, total] = Measure(st, ws);
      auto [it, fresh] = st.last.try_emplace(id, 0, 0);
      auto& [lg, lt] = it->second;
      if (st.baseline_pending || good < lg || total < lt) {
        // A baseline (new SLO) or a workload's counts restarting: take
        // the current values as the new zero.
        lg = good;
        lt = total;
        continue;
      }
      const uint64_t dt = total - lt, dg = std::min(good - lg, dt);
      st.totals.good += dg;
      st.totals.bad += dt - dg;
      lg = good;
      lt = total;
    }
    st.baseline_pending = false;
    st.history.push_back({now_s, st.totals.good, st.totals.bad});
    // Keep 5 minutes, plus the sample just before them.
    while (st.history.size() > 2 && st.history[1].t <= now_s - 300) {
      st.history.pop_front();
    }
  }
}

double SloEngine::BurnRateLocked(const State& st, double window_s) const {
  if (st.history.empty()) return 0;
  const Sample& now = st.history.back();
  // The newest sample at least window_s old, else the oldest we have.
  const Sample* from = &st.history.front();
  for (const Sample& s : st.history) {
    if (s.t <= now.t - window_s) from = &s;
  }
  const uint64_t bad = now.bad - from->bad;
  const uint64_t total = bad + now.good - from->good;
  if (total == 0) return 0;
  return static_cast<double>(bad) / static_cast<double>(total) /
         (1.0 - st.slo.objective);
}

void SloEngine::Annotate(Snapshot* snap) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const State& st : states_) {
    const double b5 = BurnRateLocked(st, 300);
    snap->slos.push_back({st.slo.name, BurnRateLocked(st, 60), b5});
    for (auto& [id, ws] : snap->workloads) {
      if (SelectorMatches(st.slo, id)) ws.slo_burn = std::max(ws.slo_burn, b5);
    }
  }
}

double SloEngine::BurnRate(const std::string& slo, double window_s) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const State& st : states_) {
    if (st.slo.name == slo) return BurnRateLocked(st, window_s);
  }
  return 0;
}

std::map<std::string, SloEngine::Totals> SloEngine::totals() const {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, Totals> out;
  for (const State& st : states_) out[st.slo.name] = st.totals;
  return out;
}

std::vector<prom::MetricFamily> SloEngine::Families() const {
  std::lock_guard<std::mutex> l(mu_);
  prom::MetricFamily events{
      "redline_slo_events_total",
      "SLI events of the SLO's workloads on this host, good or bad, "
      "counted in the kernel as each completes.",
      prom::MetricType::kCounter,
      {}};
  prom::MetricFamily objective{"redline_slo_objective_ratio",
                               "The SLO's objective: the share of events "
                               "that must be good.",
                               prom::MetricType::kGauge,
                               {}};
  prom::MetricFamily burn{"redline_slo_burn_rate",
                          "Error ratio over the window divided by the "
                          "error budget ratio, from this agent's history "
                          "(1 spends the budget exactly over the SLO "
                          "window).",
                          prom::MetricType::kGauge,
                          {}};
  prom::MetricFamily budget{"redline_slo_error_budget_remaining_ratio",
                            "Share of the error budget left, over what this "
                            "agent counted since the SLO was loaded "
                            "(negative: overspent).",
                            prom::MetricType::kGauge,
                            {}};
  auto gauge = [](std::vector<prom::Label> l, double v) {
    prom::ClientMetric m;
    m.label = std::move(l);
    m.gauge.value = v;
    return m;
  };
  for (const State& st : states_) {
    const std::string& n = st.slo.name;
    events.metric.push_back(CounterSample({{"slo", n}, {"outcome", "good"}},
                                          static_cast<double>(st.totals.good)));
    events.metric.push_back(CounterSample({{"slo", n}, {"outcome", "bad"}},
                                          static_cast<double>(st.totals.bad)));
    objective.metric.push_back(gauge({{"slo", n}}, st.slo.objective));
    for (const auto& [w, secs] :
         {std::pair<const char*, double>{"1m", 60}, {"5m", 300}}) {
      burn.metric.push_back(
          gauge({{"slo", n}, {"window", w}}, BurnRateLocked(st, secs)));
    }
    const uint64_t total = st.totals.good + st.totals.bad;
    const double spent = total == 0 ? 0
                                    : static_cast<double>(st.totals.bad) /
                                          static_cast<double>(total) /
                                          (1 - st.slo.objective);
    budget.metric.push_back(gauge({{"slo", n}}, 1 - spent));
  }
  return {std::move(events), std::move(objective), std::move(burn),
          std::move(budget)};
}

}  // namespace redline
