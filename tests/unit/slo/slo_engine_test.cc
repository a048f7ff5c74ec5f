#include "agent/slo/slo_engine.h"

#include <sys/syscall.h>

#include <map>
#include <tuple>
#include <vector>

#include "agent/model/names.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

SloConfig Parse(const std::string& yaml) {
  auto cfg = ParseSloConfig(yaml, "t.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? *cfg : SloConfig{};
}

std::string LatencySlo(const std::string& name, const std::string& t,
                       const std::string& kind = "http_latency") {
  std::string sli = kind == "http_latency"
                        ? "{kind: http_latency, threshold: " + t + "}"
                        : "{kind: syscall_latency, syscalls: [fsync], "
                          "threshold: " +
                              t + "}";
  return "  - name: " + name + "\n    selector: {comm: a}\n    sli: " + sli +
         "\n    objective: 99\n";
}

TEST(SloSlots, KeptThresholdsKeepTheirSlots) {
  auto first = PlanSloSlots(
      Parse("slos:\n" + LatencySlo("a", "100ms") + LatencySlo("b", "1s") +
            LatencySlo("c", "10ms", "syscall_latency")),
      {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->http_ns, (SloWithin{100'000'000, 1'000'000'000, 0, 0}));
  EXPECT_EQ(first->sys_ns, (SloWithin{10'000'000, 0, 0, 0}));
  EXPECT_EQ(first->sys_mask[SYS_fsync], 1);
  EXPECT_EQ(first->sys_mask[SYS_read], 0);
  // 100ms goes away, 300ms comes: 1s stays in slot 1, 300ms takes a slot
  // never used (2), not the one 100ms just left.
  auto second = PlanSloSlots(
      Parse("slos:\n" + LatencySlo("b", "1s") + LatencySlo("d", "300ms")),
      *first);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->http_ns, (SloWithin{0, 1'000'000'000, 300'000'000, 0}));
  EXPECT_EQ(second->sys_ns, (SloWithin{}));
  EXPECT_EQ(second->sys_mask[SYS_fsync], 0);
}

TEST(SloSlots, AtMostFourThresholdsPerKind) {
  std::string yaml = "slos:\n";
  for (int i = 1; i <= 5; ++i) {
    yaml += LatencySlo("s" + std::to_string(i), std::to_string(i) + "ms");
  }
  auto plan = PlanSloSlots(Parse(yaml), {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "at most 4 distinct latency thresholds for request latency "
            "(http_latency, request_latency) SLOs (the "
            "kernel counts each one separately); got 5");
}

TEST(SloSelector, EveryKeyMustMatch) {
  SloConfig cfg = Parse(
      "slos:\n  - name: x\n    selector: {comm: nginx, namespace: shop, pod: "
      "{regex: \"web-.*\"}}\n    sli: {kind: http_availability}\n"
      "    objective: 99\n");
  const Slo& s = cfg.slos[0];
  WorkloadId id{.comm = "nginx", .namespace_name = "shop", .pod = "web-1"};
  EXPECT_TRUE(SelectorMatches(s, id));
  id.pod = "db-1";
  EXPECT_FALSE(SelectorMatches(s, id));
  id.pod = "web-1";
  id.namespace_name = "";  // absent label: no match for an exact value
  EXPECT_FALSE(SelectorMatches(s, id));
}

// Every selector key reads its own identity label, exact or by regex
// (anchored: a regex must match the whole value).
TEST(SloSelector, EachKeyReadsItsLabel) {
  const WorkloadId id{.comm = "postgres",
                      .container_id = "c0ffee",
                      .pod_uid = "1234-abcd",
                      .systemd_unit = "postgresql.service",
                      .namespace_name = "db",
                      .pod = "pg-0",
                      .container = "postgres",
                      .workload = "pg"};
  for (const auto& [key, value, other] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"comm", "postgres", "nginx"},
           {"container_id", "c0ffee", "deadbeef"},
           {"pod_uid", "1234-abcd", "5678"},
           {"systemd_unit", "postgresql.service", "nginx.service"},
           {"namespace", "db", "shop"},
           {"pod", "pg-0", "pg-1"},
           {"container", "postgres", "sidecar"},
           {"workload", "pg", "web"}}) {
    // (clang 14 cannot capture a structured binding: name it.)
    const std::string& label = key;
    auto one = [&](const std::string& sel) {
      SloConfig cfg =
          Parse("slos:\n  - name: x\n    selector: {" + label + ": " + sel +
                "}\n    sli: {kind: http_availability}\n"
                "    objective: 99\n");
      return !cfg.slos.empty() && SelectorMatches(cfg.slos[0], id);
    };
    EXPECT_TRUE(one("\"" + value + "\"")) << key;
    EXPECT_FALSE(one("\"" + other + "\"")) << key;
    EXPECT_TRUE(one("{regex: \"" + value.substr(0, 2) + ".*\"}")) << key;
    EXPECT_FALSE(one("{regex: \"" + value.substr(1, 2) + "\"}"))
        << key << ": a regex matches the whole value";
  }
}

// A workload with `ok` 2xx and `err` 5xx server requests, and `within` of
// them under threshold slot 0.
Snapshot Http(uint64_t ok, uint64_t err, uint64_t within,
              const std::string& comm = "a") {
  Snapshot snap;
  WorkloadStats& ws = snap.workloads[WorkloadId{.comm = comm}];
  RequestStats good, bad;
  good.requests = good.timed = ok;
  good.within[0] = within;
  bad.requests = bad.timed = err;
  ws.requests[{.protocol = "http",
               .server = true,
               .operation = "GET",
               .outcome = "2xx",
               .local_port = "80"}] = good;
  ws.requests[{.protocol = "http",
               .server = true,
               .operation = "GET",
               .outcome = "5xx",
               .local_port = "80"}] = bad;
  // Client-side requests of the same process are not the server's SLI.
  RequestStats client;
  client.requests = 1000;
  ws.requests[{.protocol = "http",
               .server = false,
               .operation = "GET",
               .outcome = "5xx",
               .remote = "10.0.0.1:80"}] = client;
  return snap;
}

constexpr char kTwo[] = R"(slos:
  - name: avail
    selector: {comm: a}
    sli: {kind: http_availability}
    objective: 99
  - name: lat
    selector: {comm: a}
    sli: {kind: http_latency, threshold: 100ms}
    objective: 99.9
)";

TEST(SloEngine, CountsDeltasOfMatchingWorkloadsOnly) {
  SloConfig cfg = Parse(kTwo);
  auto slots = PlanSloSlots(cfg, {});
  ASSERT_TRUE(slots.ok());
  SloEngine e;
  e.Configure(cfg, *slots, /*from_zero=*/true);
  e.Update(Http(90, 10, 80), 0);
  Snapshot s = Http(190, 10, 150);
  s.workloads[WorkloadId{.comm = "b"}] =
      Http(5, 5, 0, "b").workloads.begin()->second;
  e.Update(s, 10);
  auto t = e.totals();
  EXPECT_EQ(t["avail"].good, 190u);
  EXPECT_EQ(t["avail"].bad, 10u);
  // Latency: 150 of 200 timed requests under 100 ms.
  EXPECT_EQ(t["lat"].good, 150u);
  EXPECT_EQ(t["lat"].bad, 50u);
}

TEST(SloEngine, ReloadKeepsUnchangedAndBaselinesChanged) {
  SloConfig cfg = Parse(kTwo);
  auto slots = PlanSloSlots(cfg, {});
  SloEngine e;
  e.Configure(cfg, *slots, true);
  e.Update(Http(100, 0, 100), 0);
  // lat's threshold changes: new slot; avail is unchanged.
  std::string changed = kTwo;
  changed.replace(changed.find("100ms"), 5, "250ms");
  SloConfig cfg2 = Parse(changed);
  auto slots2 = PlanSloSlots(cfg2, *slots);
  ASSERT_TRUE(slots2.ok());
  EXPECT_EQ(slots2->http_ns[0], 0u);
  EXPECT_EQ(slots2->http_ns[1], 250'000'000u);
  e.Configure(cfg2, *slots2, false);
  Snapshot base = Http(110, 0, 110);
  auto ok2xx = [](Snapshot& s) -> RequestStats& {
    return s.workloads.begin()->second.requests[{.protocol = "http",
                                                 .server = true,
                                                 .operation = "GET",
                                                 .outcome = "2xx",
                                                 .local_port = "80"}];
  };
  ok2xx(base).within[1] = 7;  // the slot's past under another threshold
  e.Update(base, 5);          // the baseline read for lat
  Snapshot later = Http(130, 1, 130);
  ok2xx(later).within[1] = 7 + 15;
  e.Update(later, 10);
  auto t = e.totals();
  EXPECT_EQ(t["avail"].good, 130u) << "kept its counts and went on";
  EXPECT_EQ(t["avail"].bad, 1u);
  EXPECT_EQ(t["lat"].good, 15u) << "counts only from its baseline";
  EXPECT_EQ(t["lat"].bad, 21u - 15u);
}

TEST(SloEngine, BurnRateAndBudget) {
  SloConfig cfg = Parse(kTwo);
  auto slots = PlanSloSlots(cfg, {});
  SloEngine e;
  e.Configure(cfg, *slots, true);
  // 1000 requests per 10 s; errors 0 for 5 minutes, then 2% for 1 minute.
  uint64_t ok = 0, err = 0;
  for (int t = 0; t <= 360; t += 10) {
    if (t > 300) {
      ok += 980;
      err += 20;
    } else {
      ok += 1000;
    }
    e.Update(Http(ok, err, ok), t);
  }
  // Last minute: 2% errors against a 1% budget: burn 2.
  EXPECT_NEAR(e.BurnRate("avail", 60), 2.0, 1e-9);
  // Last 5 minutes (from t=60): 120 errors in 30000: 0.4% -> 0.4.
  EXPECT_NEAR(e.BurnRate("avail", 300), 0.4, 1e-9);
  // Every family and label the issue names, with the values above.
  std::map<std::string, double> got;
  for (const auto& f : e.Families()) {
    for (const auto& m : f.metric) {
      std::string key = f.name;
      for (const auto& l : m.label) key += "," + l.name + "=" + l.value;
      got[key] = f.type == prom::MetricType::kCounter ? m.counter.value
                                                      : m.gauge.value;
    }
  }
  auto at = [&](const std::string& key) {
    EXPECT_TRUE(got.count(key)) << key;
    return got.count(key) ? got[key] : -1;
  };
  // 120 bad of 37000: 0.324% of a 1% budget spent.
  EXPECT_NEAR(at("redline_slo_error_budget_remaining_ratio,slo=avail"),
              1 - 120.0 / 37000 / 0.01, 1e-9);
  EXPECT_EQ(at("redline_slo_events_total,slo=avail,outcome=good"), 36880);
  EXPECT_EQ(at("redline_slo_events_total,slo=avail,outcome=bad"), 120);
  EXPECT_NEAR(at("redline_slo_objective_ratio,slo=avail"), 0.99, 1e-12);
  EXPECT_NEAR(at("redline_slo_burn_rate,slo=avail,window=1m"), 2.0, 1e-9);
  EXPECT_NEAR(at("redline_slo_burn_rate,slo=avail,window=5m"), 0.4, 1e-9);
  EXPECT_EQ(e.BurnRate("missing", 60), 0);
  Snapshot snap = Http(ok, err, ok);
  snap.workloads[WorkloadId{.comm = "b"}];
  e.Annotate(&snap);
  ASSERT_EQ(snap.slos.size(), 2u);
  EXPECT_EQ(snap.slos[0].name, "avail");
  EXPECT_NEAR(snap.slos[0].burn_1m, 2.0, 1e-9);
  EXPECT_NEAR(snap.slos[0].burn_5m, 0.4, 1e-9);
  // lat counts the 5xx (never under its threshold here) as slow: 0.4% of
  // requests against a 0.1% budget.
  EXPECT_NEAR(snap.slos[1].burn_5m, 4.0, 1e-9);
  EXPECT_NEAR(snap.workloads[WorkloadId{.comm = "a"}].slo_burn, 4.0, 1e-9)
      << "the worst 5m burn of the SLOs matching it";
  EXPECT_EQ(snap.workloads[WorkloadId{.comm = "b"}].slo_burn, -1);
}

TEST(SloEngine, SyscallErrorsByErrno) {
  SloConfig cfg = Parse(R"(slos:
  - name: dial
    selector: {comm: a}
    sli: {kind: syscall_errors, syscalls: [connect], errnos: [ECONNREFUSED]}
    objective: 99
  - name: any
    selector: {comm: a}
    sli: {kind: syscall_errors, syscalls: [connect]}
    objective: 99
)");
  auto slots = PlanSloSlots(cfg, {});
  SloEngine e;
  e.Configure(cfg, *slots, true);
  Snapshot snap;
  SyscallStats& c =
      snap.workloads[WorkloadId{.comm = "a"}].syscalls[SYS_connect];
  c.calls = 20;
  c.errors = 6;
  c.errnos[111] = 4;  // ECONNREFUSED
  c.errnos[115] = 2;  // EINPROGRESS
  e.Update(snap, 0);
  auto t = e.totals();
  EXPECT_EQ(t["dial"].good, 16u);
  EXPECT_EQ(t["dial"].bad, 4u);
  EXPECT_EQ(t["any"].good, 14u);
  EXPECT_EQ(t["any"].bad, 6u);
}

TEST(SloEngine, TcpRetransmitsFromDataSegments) {
  SloConfig cfg = Parse(R"(slos:
  - name: retrans
    selector: {comm: a}
    sli: {kind: tcp_retransmits}
    objective: 99
)");
  auto slots = PlanSloSlots(cfg, {});
  SloEngine e;
  e.Configure(cfg, *slots, true);
  Snapshot snap;
  WorkloadStats& w = snap.workloads[WorkloadId{.comm = "a"}];
  w.tcp[{.remote = "10.0.0.1:5432"}].data_segs_out = 100;
  w.tcp[{.remote = "10.0.0.1:5432"}].data_segs_retrans = 3;
  w.tcp[{.local_port = "8080"}].data_segs_out = 50;
  w.tcp[{.local_port = "8080"}].data_segs_retrans = 1;
  snap.workloads[WorkloadId{.comm = "b"}]
      .tcp[{.local_port = "80"}]
      .data_segs_out = 1000;
  e.Update(snap, 0);
  auto t = e.totals();
  EXPECT_EQ(t["retrans"].good, 146u) << "150 sent, 4 of them retransmits";
  EXPECT_EQ(t["retrans"].bad, 4u);
  w.tcp[{.remote = "10.0.0.1:5432"}].data_segs_out = 300;
  w.tcp[{.remote = "10.0.0.1:5432"}].data_segs_retrans = 23;
  e.Update(snap, 10);
  t = e.totals();
  EXPECT_EQ(t["retrans"].good, 326u);
  EXPECT_EQ(t["retrans"].bad, 24u);
  EXPECT_NEAR(e.BurnRate("retrans", 60), 20.0 / 200 / 0.01, 1e-9);
}

}  // namespace
}  // namespace redline

namespace redline {
namespace {

// Redis client requests of workload "a": by command and outcome.
Snapshot Redis(uint64_t get_ok, uint64_t get_err, uint64_t get_wrongtype,
               uint64_t set_err) {
  Snapshot snap;
  WorkloadStats& ws = snap.workloads[WorkloadId{.comm = "a"}];
  auto add = [&ws](const char* op, const char* outcome, uint64_t n) {
    ws.requests[{.protocol = "redis",
                 .server = false,
                 .operation = op,
                 .outcome = outcome,
                 .remote = "10.0.0.2:6379"}]
        .requests = n;
  };
  add("get", "ok", get_ok);
  add("get", "ERR", get_err);
  add("get", "WRONGTYPE", get_wrongtype);
  add("set", "ERR", set_err);
  return snap;
}

TEST(SloEngine, RequestAvailabilityOfAnyProtocol) {
  SloConfig cfg = Parse(R"(slos:
  - name: any-error
    selector: {comm: a}
    sli: {kind: request_availability, protocol: redis, role: client}
    objective: 99
  - name: get-err
    selector: {comm: a}
    sli: {kind: request_availability, protocol: redis, role: client,
          operations: [get], outcomes: [ERR]}
    objective: 99
  - name: server-side
    selector: {comm: a}
    sli: {kind: request_availability, protocol: redis}
    objective: 99
)");
  auto slots = PlanSloSlots(cfg, {});
  ASSERT_TRUE(slots.ok());
  SloEngine e;
  e.Configure(cfg, *slots, /*from_zero=*/true);
  e.Update(Redis(0, 0, 0, 0), 0);
  e.Update(Redis(100, 3, 5, 7), 10);
  auto t = e.totals();
  // Any error reply is bad by default: ERR, WRONGTYPE, on get and set.
  EXPECT_EQ(t["any-error"].good, 100u);
  EXPECT_EQ(t["any-error"].bad, 15u);
  // Only gets, only ERR bad: WRONGTYPE (a client's bug) is good here.
  EXPECT_EQ(t["get-err"].good, 105u);
  EXPECT_EQ(t["get-err"].bad, 3u);
  // The client side only was made: nothing served.
  EXPECT_EQ(t["server-side"].good + t["server-side"].bad, 0u);
}

}  // namespace
}  // namespace redline
