#include "agent/snapshot_metrics.h"

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
