// What `redline top --at` shows from the history equals what top showed
// from the full snapshots at the time.
#include <sys/syscall.h>

#include "agent/metrics/snapshot_json.h"
#include "agent/model/history.h"
#include "agent/top/top_model.h"
#include "agent/top/top_why.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Snapshot Snap(int64_t t, uint64_t k) {
  Snapshot s;
  s.taken_unix_ns = t * kSec;
  s.host = "h";
  s.kernel = "6.18";
  s.agent_start_unix_ns = kSec;
  s.programs = {{"syscalls/sys_enter", true, ""}, {"l7/l7_exit", false, "x"}};
  s.maps = {{"a", 3 * k}};
  s.slos = {{"api", 0.5, 0.1 * static_cast<double>(k)}};
  for (const char* comm : {"api", "db", "idle"}) {
    WorkloadStats& ws = s.workloads[WorkloadId{
        .comm = comm, .namespace_name = "ns", .pod = comm}];
    if (std::string(comm) == "idle") continue;
    const uint64_t m = comm[0] == 'a' ? 3 : 1;
    ws.syscalls[SYS_read] = {.calls = 1000 * k * m, .errors = 7 * k};
    ws.syscalls[SYS_read].hist[10] = 900 * k * m;
    ws.syscalls[SYS_read].hist[20] = 100 * k * m;
    ws.syscalls[SYS_futex] = {.calls = 10 * k};
    ws.syscalls[SYS_futex].hist[28] = 10 * k;
    ws.has_sched = true;
    ws.sched.cpu_ns = 300'000'000 * k * m;
    ws.sched.steal_ns = 1000 * k;
    ws.sched.rq_sum_ns = 5'000'000 * k;
    ws.sched.rq_hist[14] = 50 * k;
    ws.sched.off_ns[1] = 100'000'000 * k;
    ws.rq_culprits["burner"] = 4'000'000 * k;
    ws.rq_culprits["[other]"] = 1'000'000 * k;
    ws.has_throttle = m == 3;
    ws.throttle.throttled_ns = 2'000'000 * k;
    ws.slo_burn = 0.3 * static_cast<double>(k);
    ws.tcp[{"10.0.0.9:5432", ""}].retrans_segs = k;
    RequestStats ok, bad;
    ok.requests = 40 * k;
    ok.hist[40] = 40 * k;
    bad.requests = k;
    bad.hist[50] = k;
    ws.requests[{.protocol = "http",
                 .server = true,
                 .operation = "GET",
                 .outcome = "2xx"}] = ok;
    ws.requests[{.protocol = "http",
                 .server = true,
                 .operation = "GET",
                 .outcome = "5xx"}] = bad;
    ws.requests[{.protocol = "redis",
                 .server = false,
                 .operation = "get",
                 .outcome = "ok"}] = ok;
  }
  return s;
}

TEST(TopHistoryTest, RewoundRowsEqualLiveRows) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 100});
  const Snapshot a = Snap(10, 1), b = Snap(20, 3);
  h.Add(a);
  h.Add(b);
  // Through the JSON, as `redline top --connect --at` reads it.
  double interval = 0;
  auto r =
      HistoryFromJson(HistoryToJson(h.Range(0, INT64_MAX, 30), 10), &interval);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->snapshots.size(), 2u);
  for (TopGrouping g : {TopGrouping::kProcess, TopGrouping::kPod}) {
    TopView live = BuildTopView(a, b, g);
    TopView past = BuildTopView(r->snapshots[0], r->snapshots[1], g);
    SortTopRows(&live.rows, TopColumn::kCpu);
    SortTopRows(&past.rows, TopColumn::kCpu);
    EXPECT_EQ(FormatTopText(live, g, 120), FormatTopText(past, g, 120));
    EXPECT_EQ(FormatTopJson(live, g), FormatTopJson(past, g));
    const std::string name = TopGroupName(a.workloads.begin()->first, g);
    EXPECT_EQ(
        FormatWhyJson(BuildWhyView(a, b, g, name)),
        FormatWhyJson(BuildWhyView(r->snapshots[0], r->snapshots[1], g, name)));
    EXPECT_EQ(FormatWhyText(BuildWhyView(a, b, g, name), 60),
              FormatWhyText(
                  BuildWhyView(r->snapshots[0], r->snapshots[1], g, name), 60));
  }
}

}  // namespace
}  // namespace redline
