#include "agent/top/top_model.h"

#include <sys/syscall.h>

#include <cmath>

#include "agent/metrics/snapshot_json.h"
#include "agent/top/top_columns.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

// Two seconds apart: `calls` getppid per workload, nanosleep at ~20 ms.
Snapshot Snap(int64_t t_s, uint64_t calls, uint64_t cpu_ms, uint64_t http,
              uint64_t http5xx) {
  Snapshot s;
  s.taken_unix_ns = t_s * 1'000'000'000;
  s.programs = {{"syscalls/sys_enter", true, ""}, {"l7/l7_exit", false, "x"}};
  s.maps = {{"sys_stats", 3, 0, 10, 100, {2, 0, 0, 1, 0}}};
  WorkloadStats& a = s.workloads[WorkloadId{
      .comm = "api", .namespace_name = "shop", .pod = "api-1"}];
  SyscallStats& g = a.syscalls[SYS_getppid];
  g.calls = calls;
  g.hist[10] = calls;  // (2^-21, 2^-20] s: 0.48-0.95 us
  SyscallStats& n = a.syscalls[SYS_nanosleep];
  n.calls = calls / 50;
  n.hist[25] = calls / 50;  // (2^-6, 2^-5] s: 15.6-31.3 ms
  n.errors = 2;
  n.errnos[4] = 2;  // EINTR
  a.has_sched = true;
  a.sched.cpu_ns = cpu_ms * 1'000'000;
  a.sched.rq_hist[16] = calls / 10;
  a.sched.off_ns[2] = cpu_ms * 3'000'000;  // network
  a.has_throttle = true;
  a.throttle = {.periods = 9, .throttled_periods = 4, .throttled_ns = 77};
  a.rq_culprits["batch"] = 5;
  RequestStats ok, bad;
  ok.requests = http;
  ok.hist[43] = http;
  bad.requests = http5xx;
  a.requests[{.protocol = "http",
              .server = true,
              .operation = "GET",
              .outcome = "2xx",
              .local_port = "80"}] = ok;
  a.requests[{.protocol = "http",
              .server = true,
              .operation = "GET",
              .outcome = "5xx",
              .local_port = "80"}] = bad;
  a.tcp[{.remote = "10.0.0.1:5432"}].retrans_segs = calls / 1000;
  WorkloadStats& b = s.workloads[WorkloadId{.comm = "cron"}];
  b.syscalls[SYS_read].calls = 5;
  return s;
}

TEST(SnapshotJson, RoundTrips) {
  Snapshot s = Snap(10, 4000, 500, 100, 4);
  s.workloads.begin()->second.syscalls[SYS_read].errnos[11] = 7;
  auto back = SnapshotFromJson(SnapshotToJson(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->taken_unix_ns, s.taken_unix_ns);
  ASSERT_EQ(back->workloads.size(), 2u);
  EXPECT_EQ(back->workloads.begin()->first, s.workloads.begin()->first);
  const WorkloadStats& a = back->workloads.begin()->second;
  const WorkloadStats& want = s.workloads.begin()->second;
  EXPECT_EQ(a.syscalls.at(SYS_getppid).hist,
            want.syscalls.at(SYS_getppid).hist);
  EXPECT_EQ(a.syscalls.at(SYS_read).errnos, want.syscalls.at(SYS_read).errnos);
  EXPECT_EQ(a.sched.cpu_ns, want.sched.cpu_ns);
  EXPECT_EQ(a.sched.rq_hist, want.sched.rq_hist);
  EXPECT_EQ(a.sched.off_ns, want.sched.off_ns);
  EXPECT_GT(a.sched.off_ns[2], 0u);
  EXPECT_TRUE(a.has_throttle);
  EXPECT_EQ(a.throttle.throttled_periods, 4u);
  EXPECT_EQ(a.throttle.throttled_ns, 77u);
  EXPECT_EQ(a.rq_culprits, want.rq_culprits);
  EXPECT_EQ(a.requests.size(), 2u);
  EXPECT_EQ(a.requests.begin()->second.hist,
            want.requests.begin()->second.hist);
  EXPECT_EQ(a.tcp.begin()->second.retrans_segs, 4u);
  EXPECT_EQ(back->programs.size(), 2u);
  EXPECT_EQ(back->programs[1].reason, "x");
  EXPECT_EQ(back->maps[0].drops, 3u);
  EXPECT_EQ(back->maps[0].update_errors[0], 2u);  // E2BIG
  EXPECT_EQ(back->maps[0].update_errors[3], 1u);  // ENOENT
  EXPECT_EQ(back->maps[0].capacity, 100u);
}

TEST(SnapshotJson, RejectsOtherInput) {
  EXPECT_EQ(SnapshotFromJson("<html>").status().message().substr(0, 26),
            "not a redline snapshot: [j");
  EXPECT_EQ(SnapshotFromJson("{\"format\": 9}").status().message(),
            "snapshot format 9, want 1 (agent and client versions differ)");
}

TEST(TopModel, RatesAndPercentilesOverTheInterval) {
  // 2 s: 4000 more getppid, 1 s more CPU, 200 requests of which 10 5xx.
  TopView v =
      BuildTopView(Snap(10, 4000, 500, 100, 4), Snap(12, 8000, 1500, 290, 14),
                   TopGrouping::kProcess);
  EXPECT_DOUBLE_EQ(v.interval_s, 2.0);
  EXPECT_EQ(v.programs, 2);
  EXPECT_EQ(v.programs_attached, 1);
  EXPECT_EQ(v.drops, 3u);
  SortTopRows(&v.rows, TopColumn::kSyscalls);
  ASSERT_EQ(v.rows.size(), 2u);
  const TopRow& r = v.rows[0];
  EXPECT_EQ(r.name, "api");
  EXPECT_DOUBLE_EQ(r.syscalls_per_s, (4000 + 80) / 2.0);
  EXPECT_DOUBLE_EQ(r.cpu_pct, 50.0);
  EXPECT_DOUBLE_EQ(r.requests_per_s, 100.0);
  EXPECT_DOUBLE_EQ(r.request_error_pct, 5.0);
  EXPECT_DOUBLE_EQ(r.retrans_per_s, 2.0);
  EXPECT_DOUBLE_EQ(r.syscall_p99_s, std::ldexp(1.0, -5))
      << "2% of calls are nanosleeps at ~20 ms: p99 is their bucket";
  EXPECT_EQ(v.rows[1].name, "cron");
  EXPECT_EQ(v.rows[1].syscalls_per_s, 0);
  EXPECT_LT(v.rows[1].cpu_pct, 0) << "no sched data: not measured";
  EXPECT_LT(v.rows[1].syscall_p99_s, 0);
  EXPECT_DOUBLE_EQ(v.syscalls_per_s, 2040.0);

  TopView pods = BuildTopView(Snap(10, 1, 1, 1, 1), Snap(12, 2, 2, 2, 2),
                              TopGrouping::kPod);
  SortTopRows(&pods.rows, TopColumn::kName);
  EXPECT_EQ(pods.rows[0].name, "[no pod]");
  EXPECT_EQ(pods.rows[1].name, "shop/api-1");
}

TEST(TopModel, SyscallTableForOneWorkload) {
  auto rows =
      BuildSyscallTable(Snap(10, 4000, 0, 0, 0), Snap(12, 8000, 0, 0, 0),
                        TopGrouping::kProcess, "api");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "getppid");
  EXPECT_DOUBLE_EQ(rows[0].per_s, 2000);
  EXPECT_EQ(rows[1].name, "nanosleep");
  EXPECT_DOUBLE_EQ(rows[1].per_s, 40);
  EXPECT_DOUBLE_EQ(rows[1].p99_s, std::ldexp(1.0, -5));
  EXPECT_EQ(rows[1].hist[25], 80u);
  EXPECT_EQ(rows[1].top_errno, "") << "no new EINTR in the interval";
  EXPECT_TRUE(rows[1].errnos.empty());
}

TEST(TopModel, SyscallErrorsByErrnoOverTheInterval) {
  Snapshot before = Snap(10, 4000, 0, 0, 0), after = Snap(12, 8000, 0, 0, 0);
  SyscallStats& n = after.workloads.begin()->second.syscalls[SYS_nanosleep];
  n.errors += 10;
  n.errnos[4] += 4;   // EINTR
  n.errnos[22] += 6;  // EINVAL
  auto rows = BuildSyscallTable(before, after, TopGrouping::kProcess, "api");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[1].errors_per_s, 5);
  ASSERT_EQ(rows[1].errnos.size(), 2u);
  EXPECT_EQ(rows[1].errnos[0].first, "EINVAL");
  EXPECT_DOUBLE_EQ(rows[1].errnos[0].second, 3);
  EXPECT_EQ(rows[1].errnos[1].first, "EINTR");
  EXPECT_DOUBLE_EQ(rows[1].errnos[1].second, 2);
  EXPECT_EQ(rows[1].top_errno, "EINVAL");
}

TEST(TopModel, TextHasHeaderAndRows) {
  Snapshot cur = Snap(12, 8000, 1500, 290, 14);
  cur.host = "web-1";
  cur.kernel = "6.1.0";
  cur.agent_start_unix_ns = cur.taken_unix_ns - 3660LL * 1'000'000'000;
  cur.slos = {{"api", 3.0, 2.5}, {"other", 9.0, 0.5}};
  cur.workloads.begin()->second.slo_burn = 2.5;
  TopView v =
      BuildTopView(Snap(10, 4000, 500, 100, 4), cur, TopGrouping::kProcess);
  SortTopRows(&v.rows, TopColumn::kCpu);
  const std::string text = FormatTopText(v, TopGrouping::kProcess, 80);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "redline top  web-1  kernel 6.1.0  agent up 1h01m  interval 2.0s");
  EXPECT_NE(text.find("\nprocess: 2  syscalls/s 2040  cpu "
                      "50.0%  drops 3  programs 1/2  slo api burn 2.5x\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" 2.5x\n"), std::string::npos) << "api's BURN";
  EXPECT_NE(text.find("\napi "), std::string::npos) << text;
  EXPECT_NE(text.find(" 50.0 "), std::string::npos) << text;
  EXPECT_EQ(FormatSeconds(0.0042), "4.2ms");
  EXPECT_EQ(FormatSeconds(64e-6), "64us");
  EXPECT_EQ(FormatSeconds(-1), "-");
}

// Every column, BURN included, fits an 80-column terminal with realistic
// worst-case values (16 busy CPUs, 999.9 ms percentiles, 123.4k/s rates).
TEST(TopModel, WidestRowFitsEightyColumns) {
  TopRow r;
  r.name = "a-very-long-process-name";
  r.cpu_pct = 1600;
  r.rq_p99_s = r.syscall_p99_s = r.request_p99_s = 0.9999;
  r.syscalls_per_s = r.requests_per_s = r.retrans_per_s = 123456;
  r.errors_per_s = 12345;
  r.request_error_pct = 100;
  r.slo_burn = 144;
  const int w = TopNameWidth(80);
  const std::string row = FormatTopRow(r, w);
  EXPECT_LE(row.size(), 79u) << row;
  EXPECT_EQ(row.substr(row.size() - 5), " 144x") << row;
  const std::string cols = FormatTopColumns(w);
  EXPECT_EQ(cols.size(), row.size()) << cols << "\n" << row;
  EXPECT_EQ(cols.substr(cols.size() - 4), "BURN");
}

TEST(TopModel, CellSeverityPerValue) {
  TopRow r;
  r.name = "api";
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kSloBurn), 0) << "no SLO";
  r.slo_burn = 2;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kSloBurn), 1);
  r.slo_burn = 14.4;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kSloBurn), 2);
  r.rq_p99_s = 0.0168;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kRqP99), 1);
  r.rq_p99_s = 0.067;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kRqP99), 2);
  r.request_error_pct = 0.5;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kRequestErrors), 0);
  r.request_error_pct = 2;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kRequestErrors), 1);
  r.retrans_per_s = 0.5;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kRetrans), 2);
  r.cpu_pct = 99;
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kCpu), 1);
  r.syscall_p99_s = 5;  // a blocking epoll_wait: not a finding by itself
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kSyscallP99), 0);
  EXPECT_EQ(TopCellSeverity(r, TopColumn::kName), 0);
  // The cells are the row, column for column.
  const auto cells = FormatTopCells(r, 8);
  ASSERT_EQ(cells.size(), static_cast<size_t>(kTopColumns));
  std::string joined = cells[0];
  for (size_t i = 1; i < cells.size(); ++i) joined += " " + cells[i];
  EXPECT_EQ(joined, FormatTopRow(r, 8));
  EXPECT_EQ(cells[0], "api     ");
  EXPECT_EQ(cells[10], "14.4x");
}

}  // namespace
}  // namespace redline

namespace redline {
namespace {

TEST(TopColumns, OneSpecPerColumnInDisplayOrder) {
  ASSERT_EQ(TopColumnSpecs().size(), static_cast<size_t>(kTopColumns));
  for (int i = 0; i < kTopColumns; ++i) {
    const TopColumnSpec& c = TopColumnSpecs()[i];
    EXPECT_EQ(static_cast<int>(c.id), i) << c.title;
    EXPECT_EQ(c.value == nullptr, c.id == TopColumn::kName) << c.title;
  }
  // Header and rows line up: one space between cells, NAME padded.
  TopRow r;
  r.name = "nginx";
  const int name_w = TopNameWidth(80);
  EXPECT_EQ(FormatTopColumns(name_w).size(), FormatTopRow(r, name_w).size());
  EXPECT_EQ(FormatTopColumns(name_w).size(), 78u);  // fits 80
}

}  // namespace
}  // namespace redline
