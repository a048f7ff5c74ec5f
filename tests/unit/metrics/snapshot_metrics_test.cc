#include "agent/metrics/snapshot_metrics.h"

#include <memory>

#include "agent/metrics/snapshot_collector.h"
#include "bpf/sched.h"
#include "exporters/text_serializer.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(SnapshotToFamilies, IdentityLabelsAreAbsentNotEmpty) {
  Snapshot snap;
  SyscallStats s;
  s.calls = 3;
  s.hist[10] = 3;
  snap.workloads[WorkloadId{.comm = "bash"}].syscalls[39] = s;
  snap.workloads[WorkloadId{.comm = "nginx",
                            .container_id = "c1",
                            .pod_uid = "u1",
                            .namespace_name = "shop",
                            .pod = "web-1",
                            .container = "nginx",
                            .workload = "web"}]
      .syscalls[39] = s;
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  EXPECT_NE(text.find("redline_syscalls_total{comm=\"bash\",syscall=\"getpid\"}"
                      " 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("redline_syscalls_total{comm=\"nginx\",namespace=\"shop\","
                      "pod=\"web-1\",container=\"nginx\",workload=\"web\","
                      "pod_uid=\"u1\",container_id=\"c1\",syscall=\"getpid\"} 3"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("=\"\""), std::string::npos) << "an empty label value";
}

TEST(SnapshotToFamilies, GovernorFoldsIntoOtherSeries) {
  Snapshot snap;
  for (int i = 0; i < 50; ++i) {
    SyscallStats s;
    s.calls = i + 1;
    s.hist[10] = i + 1;
    s.errnos[2] = 1;
    snap.workloads[WorkloadId{.comm = "p" + std::to_string(i)}].syscalls[39] = s;
  }
  WorkloadGovernor gov(10);
  auto fams = SnapshotToFamilies(snap, &gov);
  double total = 0;
  for (const auto& f : fams) {
    if (f.name != "redline_syscalls_total") continue;
    EXPECT_EQ(f.metric.size(), 11u);
    for (const auto& m : f.metric) total += m.counter.value;
    EXPECT_EQ(f.metric.back().label[0].value, "[other]");
    EXPECT_EQ(f.metric.back().label[1].value, "[other]");
  }
  EXPECT_EQ(total, 50 * 51 / 2);
  EXPECT_EQ(gov.folded_calls_total(), 40u);
  EXPECT_EQ(gov.folded_errors_total(), 40u);
}


}  // namespace
}  // namespace redline

namespace redline {
namespace {

TEST(SnapshotCollector, SeriesPerFamilyAfterFolding) {
  auto snap = std::make_shared<Snapshot>();
  for (int i = 0; i < 50; ++i) {
    SyscallStats s;
    s.calls = i + 1;
    s.hist[10] = i + 1;
    snap->workloads[WorkloadId{.comm = "p" + std::to_string(i)}]
        .syscalls[39] = s;
  }
  SnapshotCollector c([snap] { return snap; }, 10);
  const auto fams = c.Collect();
  ASSERT_EQ(fams.back().name, "redline_series");
  std::map<std::string, double> series;
  for (const auto& m : fams.back().metric) {
    series[m.label[0].value] = m.gauge.value;
  }
  // 10 workloads kept and [other], for counts and histograms alike.
  EXPECT_EQ(series["redline_syscalls_total"], 11);
  EXPECT_EQ(series["redline_syscall_duration_seconds"], 11);
  for (const auto& f : fams) {
    if (f.metric.empty() || f.name == "redline_series") continue;
    EXPECT_EQ(series[f.name], f.metric.size()) << f.name;
  }
  EXPECT_EQ(series.count("redline_series"), 0u);
}

TEST(UseFamilies, SchedDiskAndPressureSeries) {
  Snapshot snap;
  WorkloadStats& ws = snap.workloads[WorkloadId{.comm = "pg",
                                                .systemd_unit = "pg.service"}];
  ws.has_sched = true;
  ws.sched.cpu_ns = 1500000000;
  ws.sched.voluntary = 7;
  ws.sched.involuntary = 2;
  ws.sched.rq_hist[20] = 2;  // ~1 ms waits
  ws.sched.rq_sum_ns = 2000000;
  ws.sched.off_ns[RL_OFF_LOCK] = 250000000;
  ws.rq_culprits["batch"] = 1500000000;
  ws.has_throttle = true;
  ws.throttle = {.periods = 40, .throttled_periods = 30, .throttled_ns = 2000000000};
  ws.disk_bytes[{"sda", "write"}] = 4096;
  snap.workloads[WorkloadId{.comm = "bash"}].syscalls[39].calls = 1;
  DiskIoStats d;
  d.hist[17] = 3;
  d.sum_ns = 400000;
  d.queue_ns = 2000000000;
  d.bytes = 12288;
  d.ios = 4;
  snap.disks[{"sda", "write"}] = d;
  snap.pressure.push_back({"io", "some", 2500000});
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  for (const char* want : {
           "redline_cpu_seconds_total{comm=\"pg\",systemd_unit=\"pg.service\"}"
           " 1.5\n",
           "redline_context_switches_total{comm=\"pg\",systemd_unit=\"pg."
           "service\",kind=\"voluntary\"} 7\n",
           "redline_context_switches_total{comm=\"pg\",systemd_unit=\"pg."
           "service\",kind=\"involuntary\"} 2\n",
           "redline_runqueue_latency_seconds_count{comm=\"pg\",systemd_unit="
           "\"pg.service\"} 2\n",
           "redline_runqueue_latency_seconds_sum{comm=\"pg\",systemd_unit="
           "\"pg.service\"} 0.002\n",
           "redline_offcpu_seconds_total{comm=\"pg\",systemd_unit=\"pg."
           "service\",reason=\"lock\"} 0.25\n",
           "redline_runqueue_wait_by_culprit_seconds_total{comm=\"pg\","
           "systemd_unit=\"pg.service\",culprit=\"batch\"} 1.5\n",
           "redline_cpu_throttled_seconds_total{comm=\"pg\",systemd_unit=\"pg."
           "service\"} 2\n",
           "redline_cpu_throttled_periods_total{comm=\"pg\",systemd_unit=\"pg."
           "service\"} 30\n",
           "redline_cpu_quota_periods_total{comm=\"pg\",systemd_unit=\"pg."
           "service\"} 40\n",
           "redline_offcpu_seconds_total{comm=\"pg\",systemd_unit=\"pg."
           "service\",reason=\"memory\"} 0\n",
           "redline_disk_io_duration_seconds_count{device=\"sda\",op=\"write\"}"
           " 3\n",
           "redline_disk_io_operations_total{device=\"sda\",op=\"write\"} 4\n",
           "redline_disk_io_queue_seconds_total{device=\"sda\",op=\"write\"} "
           "2\n",
           "redline_disk_io_bytes_total{device=\"sda\",op=\"write\",comm=\"pg\","
           "systemd_unit=\"pg.service\"} 4096\n",
           "redline_pressure_stalled_seconds_total{resource=\"io\",kind=\"some\"}"
           " 2.5\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  // A workload without scheduler data has no CPU series (not a zero).
  EXPECT_EQ(text.find("redline_cpu_seconds_total{comm=\"bash\"}"),
            std::string::npos);
}


}  // namespace
}  // namespace redline

namespace redline {
namespace {

TEST(TcpFamilies, PeersAndNonZeroSeriesOnly) {
  Snapshot snap;
  WorkloadStats& ws = snap.workloads[WorkloadId{.comm = "api"}];
  TcpStats out;
  out.retrans_segs = 3;
  out.connects_ok = 2;
  out.connects_failed = 1;
  out.resets_received = 1;
  out.connect_hist[17] = 2;
  out.connect_sum_ns = 300000;
  out.srtt_hist[16] = 4;
  out.srtt_sum_ns = 400000;
  ws.tcp[{.remote = "10.0.0.5:5432"}] = out;
  TcpStats in;
  in.accepts = 7;
  ws.tcp[{.local_port = "8080"}] = in;
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  for (const char* want : {
           "redline_tcp_retransmits_total{comm=\"api\",remote=\"10.0.0.5:5432\"}"
           " 3\n",
           "redline_tcp_connects_total{comm=\"api\",remote=\"10.0.0.5:5432\","
           "result=\"failed\"} 1\n",
           "redline_tcp_resets_total{comm=\"api\",remote=\"10.0.0.5:5432\","
           "kind=\"received\"} 1\n",
           "redline_tcp_accepts_total{comm=\"api\",local_port=\"8080\"} 7\n",
           "redline_tcp_connect_duration_seconds_count{comm=\"api\",remote="
           "\"10.0.0.5:5432\"} 2\n",
           "redline_tcp_rtt_seconds_count{comm=\"api\",remote="
           "\"10.0.0.5:5432\"} 4\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  EXPECT_EQ(text.find("kind=\"sent\""), std::string::npos) << "zero series";
  EXPECT_EQ(text.find("redline_tcp_rtt_seconds_count{comm=\"api\",local_port"),
            std::string::npos);
  EXPECT_EQ(text.find("redline_tcp_retransmits_total{comm=\"api\",local_port"),
            std::string::npos);
}


TEST(HttpFamilies, ServerAndClientSeriesWithStatusClass) {
  Snapshot snap;
  WorkloadStats& ws = snap.workloads[WorkloadId{.comm = "nginx"}];
  RequestStats ok;
  ok.requests = 5;
  ok.timed = 4;
  ok.sum_ns = 12'000'000;
  ok.hist[43] = 4;  // (2^-9, 2^-8.5] s: 1.95-2.76 ms
  ws.requests[{.protocol = "http", .server = true, .operation = "GET", .outcome = "2xx",
           .local_port = "80"}] = ok;
  RequestStats err;
  err.requests = 2;  // no request line seen: not timed, no histogram
  // Read at a TLS library (bpf/tls.bpf.c).
  ws.requests[{.protocol = "http", .server = false, .operation = "unknown", .outcome = "5xx",
           .remote = "[::1]:8080", .tls = true}] = err;
  snap.request_unparsed["response_without_request"] = 2;
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  for (const char* want : {
           "redline_http_server_requests_total{comm=\"nginx\",local_port="
           "\"80\",method=\"GET\",status_class=\"2xx\",tls=\"false\"} 5\n",
           "redline_http_server_request_duration_seconds_count{comm=\"nginx\","
           "local_port=\"80\",method=\"GET\",status_class=\"2xx\",tls=\"false\"} 4\n",
           "redline_http_server_request_duration_seconds_sum{comm=\"nginx\","
           "local_port=\"80\",method=\"GET\",status_class=\"2xx\",tls=\"false\"} 0.012\n",
           "redline_http_client_requests_total{comm=\"nginx\",remote="
           "\"[::1]:8080\",method=\"unknown\",status_class=\"5xx\",tls=\"true\"} 2\n",
           "redline_http_unparsed_total{kind=\"response_without_request\"} 2\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  EXPECT_EQ(text.find("redline_http_client_request_duration_seconds_count"),
            std::string::npos)
      << "untimed requests have no histogram";
}

TEST(MapFamilies, UpdateErrorsByErrnoForEveryMap) {
  Snapshot snap;
  snap.maps = {{"l7_stats", 7, 0, 64, 64, {5, 1, 0, 1, 0}},
               {"sched_tasks", 0, 0, 0, 0, {}}};
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  for (const char* want : {
           "redline_bpf_map_update_errors_total{map=\"l7_stats\","
           "errno=\"E2BIG\"} 5\n",
           "redline_bpf_map_update_errors_total{map=\"l7_stats\","
           "errno=\"ENOMEM\"} 1\n",
           "redline_bpf_map_update_errors_total{map=\"l7_stats\","
           "errno=\"ENOENT\"} 1\n",
           // Every kind from the start, so rate() has a first sample.
           "redline_bpf_map_update_errors_total{map=\"sched_tasks\","
           "errno=\"other\"} 0\n",
           "redline_bpf_map_drops_total{map=\"l7_stats\"} 7\n",
           "# TYPE redline_bpf_map_update_errors_total counter\n"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  // Task storage has no capacity: no entries/capacity series for it.
  EXPECT_EQ(text.find("redline_bpf_map_capacity{map=\"sched_tasks\"}"),
            std::string::npos);
}

TEST(ProgramFamilies, RecursionMissesForAttachedPrograms) {
  Snapshot snap;
  ProgramStatus retrans{"tcp/tcp_retransmit_skb", true, ""};
  retrans.recursion_misses = 3;
  snap.programs = {retrans, {"tcp/tcp_sendmsg_locked", false, "no such tp"}};
  std::string text;
  prom::SerializeText(SnapshotToFamilies(snap, nullptr), text);
  EXPECT_NE(text.find("redline_bpf_program_recursion_misses_total{program="
                      "\"tcp/tcp_retransmit_skb\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("redline_bpf_program_attached{program=\"tcp/"
                      "tcp_sendmsg_locked\",reason=\"no such tp\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("recursion_misses_total{program=\"tcp/tcp_sendmsg"),
            std::string::npos)
      << "no misses series for a program that is not attached";
}

}  // namespace
}  // namespace redline
