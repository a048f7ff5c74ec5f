#include "agent/model/syscall_aggregator.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

SyscallRecord Rec(uint32_t tgid, uint64_t gen, uint32_t nr, uint64_t calls) {
  SyscallRecord r;
  r.proc = {tgid, gen};
  r.nr = nr;
  r.stats.calls = calls;
  r.stats.hist[10] = calls;
  return r;
}

TEST(Aggregator, SumsProcessesWithTheSameComm) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "nginx", 0, false}, {{2, 1}, "nginx", 0, false}};
  raw.stats = {Rec(1, 1, 39, 5), Rec(2, 1, 39, 7)};
  std::map<WorkloadId, WorkloadStats> out;
  EXPECT_TRUE(agg.Aggregate(raw, &out).empty());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ((out[WorkloadId{"nginx", 0}].syscalls[39].calls), 12u);
  EXPECT_EQ((out[WorkloadId{"nginx", 0}].syscalls[39].hist[10]), 12u);
}

TEST(Aggregator, ExitedProcessStaysCountedAfterItIsFreed) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "job", 0, true}, {{2, 1}, "job", 0, false}};
  raw.stats = {Rec(1, 1, 39, 5), Rec(2, 1, 39, 7)};
  raw.errors = {{{1, 1}, 39, 2, 3}};
  std::map<WorkloadId, WorkloadStats> out;
  auto freed = agg.Aggregate(raw, &out);
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0], (ProcKey{1, 1}));
  EXPECT_EQ((out[WorkloadId{"job", 0}].syscalls[39].calls), 12u);

  // Next read: the kernel no longer has process 1; the live one grew.
  RawSyscallData next;
  next.procs = {{{2, 1}, "job", 0, false}};
  next.stats = {Rec(2, 1, 39, 8)};
  std::map<WorkloadId, WorkloadStats> out2;
  EXPECT_TRUE(agg.Aggregate(next, &out2).empty());
  EXPECT_EQ((out2[WorkloadId{"job", 0}].syscalls[39].calls), 13u);
  EXPECT_EQ((out2[WorkloadId{"job", 0}].syscalls[39].errnos[2]), 3u);
}

TEST(Aggregator, ExecStartsANewIncarnationWithItsOwnComm) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  // Same tgid: the shell child before exec, then `true` after it.
  raw.procs = {{{9, 1}, "bash", 0, true}, {{9, 2}, "true", 0, false}};
  raw.stats = {Rec(9, 1, 56, 1), Rec(9, 2, 231, 1)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  EXPECT_EQ((out[WorkloadId{"bash", 0}].syscalls[56].calls), 1u);
  EXPECT_EQ((out[WorkloadId{"true", 0}].syscalls[231].calls), 1u);
  EXPECT_EQ((out[WorkloadId{"true", 0}].syscalls.count(56)), 0u);
}

TEST(Aggregator, RenameAfterFirstReadKeepsCountsInTheirSeries) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{4, 1}, "java", 0, false}};
  raw.stats = {Rec(4, 1, 0, 10)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  // The kernel record now carries the new name (prctl PR_SET_NAME).
  raw.procs = {{{4, 1}, "GC Thread", 0, false}};
  raw.stats = {Rec(4, 1, 0, 15)};
  std::map<WorkloadId, WorkloadStats> out2;
  agg.Aggregate(raw, &out2);
  EXPECT_EQ((out2[WorkloadId{"java", 0}].syscalls[0].calls), 15u);
  EXPECT_EQ(out2.count(WorkloadId{"GC Thread", 0}), 0u);
  // It exits: its final counts stay under the pinned name.
  raw.procs = {{{4, 1}, "GC Thread", 0, true}};
  raw.stats = {Rec(4, 1, 0, 16)};
  std::map<WorkloadId, WorkloadStats> out3;
  EXPECT_EQ(agg.Aggregate(raw, &out3).size(), 1u);
  EXPECT_EQ((out3[WorkloadId{"java", 0}].syscalls[0].calls), 16u);
  std::map<WorkloadId, WorkloadStats> out4;
  agg.Aggregate({}, &out4);
  EXPECT_EQ((out4[WorkloadId{"java", 0}].syscalls[0].calls), 16u);
}

// One read through Begin/Add/Finish at monotonic time now (ns).
std::map<WorkloadId, WorkloadStats> ReadAt(SyscallAggregator* agg,
                                           const RawSyscallData& raw,
                                           uint64_t now) {
  agg->Begin(raw.procs, now);
  for (const SyscallRecord& r : raw.stats) agg->AddStats(r.proc, r.nr, r.stats);
  for (const ErrnoRecord& e : raw.errors) agg->AddErrno(e);
  std::map<WorkloadId, WorkloadStats> out;
  agg->Finish(&out);
  return out;
}

TEST(Aggregator, YoungIncarnationIsHeldUntilItsNameSettles) {
  constexpr uint64_t kMs = 1'000'000;
  const uint64_t born = 5'000 * kMs;
  SyscallAggregator agg({});
  RawSyscallData raw;
  // Read 1 ms after exec: still the binary's name, not exported at all.
  raw.procs = {{{7, born}, "rl_sysstorm", 0, false}};
  raw.stats = {Rec(7, born, 39, 3)};
  raw.errors = {{{7, born}, 39, 2, 1}};
  auto out = ReadAt(&agg, raw, born + kMs);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(agg.held(), 1u);
  // It renamed itself; read after it settled: all its counts, new name.
  raw.procs[0].comm = "daemon";
  raw.stats = {Rec(7, born, 39, 5)};
  out = ReadAt(&agg, raw, born + SyscallAggregator::kSettleNs);
  EXPECT_EQ(agg.held(), 0u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ((out[WorkloadId{"daemon", 0}].syscalls[39].calls), 5u);
  EXPECT_EQ((out[WorkloadId{"daemon", 0}].syscalls[39].errnos[2]), 1u);
  // Pinned from then on.
  raw.procs[0].comm = "again";
  out = ReadAt(&agg, raw, born + 10 * SyscallAggregator::kSettleNs);
  EXPECT_EQ((out[WorkloadId{"daemon", 0}].syscalls[39].calls), 5u);
  EXPECT_EQ(out.count(WorkloadId{"again", 0}), 0u);
}

TEST(Aggregator, YoungIncarnationThatExitedIsCountedAtOnce) {
  const uint64_t born = 1'000'000'000;
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{8, born}, "true", 0, true}, {{9, born}, "sleep", 0, false}};
  raw.stats = {Rec(8, born, 231, 1), Rec(9, born, 35, 1)};
  agg.Begin(raw.procs, born + 1);
  EXPECT_TRUE(agg.AddStats({8, born}, 231, raw.stats[0].stats));
  EXPECT_FALSE(agg.AddStats({9, born}, 35, raw.stats[1].stats));
  std::map<WorkloadId, WorkloadStats> out;
  auto freed = agg.Finish(&out);
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ((out[WorkloadId{"true", 0}].syscalls[231].calls), 1u);
  EXPECT_EQ(out.count(WorkloadId{"sleep", 0}), 0u);
}

TEST(Aggregator, SpilledEntryOfAHeldIncarnationPinsItsName) {
  const uint64_t born = 1'000'000'000;
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{4, born}, "early", 0, false}};
  raw.stats = {Rec(4, born, 0, 2)};
  EXPECT_TRUE(ReadAt(&agg, raw, born + 1).empty());
  // The map needed room: the entry left the kernel under today's name.
  agg.Retire({4, born}, 0, raw.stats[0].stats);
  raw.procs[0].comm = "late";
  raw.stats = {Rec(4, born, 0, 1)};  // restarted from zero in the kernel
  auto out = ReadAt(&agg, raw, born + SyscallAggregator::kSettleNs);
  EXPECT_EQ((out[WorkloadId{"early", 0}].syscalls[0].calls), 3u);
  EXPECT_EQ(out.count(WorkloadId{"late", 0}), 0u);
}

TEST(Aggregator, RetiredLiveEntryContinuesWithoutAStep) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "db", 0, false}};
  raw.stats = {Rec(1, 1, 0, 10)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  // The map was full: the entry (read at 11 by now) left the kernel.
  agg.Retire({1, 1}, 0, Rec(1, 1, 0, 11).stats);
  raw.stats = {Rec(1, 1, 0, 4)};  // the kernel restarted it from zero
  agg.Aggregate(raw, &out);
  EXPECT_EQ((out[WorkloadId{"db", 0}].syscalls[0].calls), 15u);
  EXPECT_EQ((out[WorkloadId{"db", 0}].syscalls[0].hist[10]), 15u);
}

TEST(Aggregator, PidLabelledSeriesEndOneExportAfterExit) {
  SyscallAggregator agg({.pid_labels = true});
  RawSyscallData raw;
  raw.procs = {{{7, 1}, "x", 0, true}};
  raw.stats = {Rec(7, 1, 39, 2)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  EXPECT_EQ((out[WorkloadId{"x", 7}].syscalls[39].calls), 2u);
  std::map<WorkloadId, WorkloadStats> out2;
  agg.Aggregate({}, &out2);
  EXPECT_TRUE(out2.empty());
}

TEST(Aggregator, StatsWithoutProcessRecordAreKeptAsUnknown) {
  SyscallAggregator agg({});
  RawSyscallData raw;
  raw.stats = {Rec(3, 1, 0, 4)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  EXPECT_EQ((out[WorkloadId{"[unknown]", 0}].syscalls[0].calls), 4u);
}

class FakeResolver : public IdentityResolver {
 public:
  std::map<uint64_t, CgroupIdentity> cgroups;
  std::map<std::string, PodNames> pods;
  int cgroup_calls = 0;
  bool Cgroup(uint64_t id, CgroupIdentity* out) override {
    ++cgroup_calls;
    auto it = cgroups.find(id);
    if (it == cgroups.end()) return false;
    *out = it->second;
    return true;
  }
  bool Pod(const std::string& uid, const std::string&, PodNames* out) override {
    auto it = pods.find(uid);
    if (it == pods.end()) return false;
    *out = it->second;
    return true;
  }
};

TEST(Aggregator, IdentityLabelsFromTheCgroupAndTheKubelet) {
  FakeResolver r;
  r.cgroups[10] = {"cid", "uid1", ""};
  r.cgroups[20] = {"", "", "nginx.service"};
  r.cgroups[30] = {};
  SyscallAggregator agg({.resolver = &r});
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "app", 10, false},
               {{2, 1}, "nginx", 20, false},
               {{3, 1}, "bash", 30, false}};
  raw.stats = {Rec(1, 1, 0, 1), Rec(2, 1, 0, 2), Rec(3, 1, 0, 3)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  WorkloadId app{.comm = "app", .container_id = "cid", .pod_uid = "uid1"};
  WorkloadId nginx{.comm = "nginx", .systemd_unit = "nginx.service"};
  WorkloadId bash{.comm = "bash"};
  EXPECT_EQ(out[app].syscalls[0].calls, 1u);
  EXPECT_EQ(out[nginx].syscalls[0].calls, 2u);
  EXPECT_EQ(out[bash].syscalls[0].calls, 3u);
  EXPECT_EQ(out.size(), 3u);

  // The kubelet learns the pod later: names appear on the next read.
  r.pods["uid1"] = {"shop", "web-1", "nginx", "web"};
  std::map<WorkloadId, WorkloadStats> out2;
  agg.Aggregate(raw, &out2);
  WorkloadId named = app;
  named.namespace_name = "shop";
  named.pod = "web-1";
  named.container = "nginx";
  named.workload = "web";
  EXPECT_EQ(out2[named].syscalls[0].calls, 1u);
  EXPECT_EQ(out2.count(app), 0u);
}

TEST(Aggregator, CgroupIdentityIsPinnedOnceResolved) {
  FakeResolver r;
  SyscallAggregator agg({.resolver = &r});
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "app", 10, false}};
  raw.stats = {Rec(1, 1, 0, 1)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);  // unresolved: comm only, retried next time
  EXPECT_EQ(out.count(WorkloadId{.comm = "app"}), 1u);
  r.cgroups[10] = {"", "", "app.service"};
  agg.Aggregate(raw, &out);
  EXPECT_EQ(out.count(WorkloadId{.comm = "app", .systemd_unit = "app.service"}),
            1u);
  const int calls = r.cgroup_calls;
  r.cgroups[10] = {"", "", "moved.service"};  // ignored: pinned
  agg.Aggregate(raw, &out);
  EXPECT_EQ(out.count(WorkloadId{.comm = "app", .systemd_unit = "app.service"}),
            1u);
  EXPECT_EQ(r.cgroup_calls, calls);  // no lookups once pinned
}

TEST(Aggregator, LabelsCanBeTurnedOff) {
  FakeResolver r;
  r.cgroups[10] = {"cid", "uid1", ""};
  r.pods["uid1"] = {"shop", "web-1", "nginx", "web"};
  NamingOptions o;
  o.resolver = &r;
  o.labels.container_id = false;
  o.labels.kubernetes = false;
  SyscallAggregator agg(o);
  RawSyscallData raw;
  raw.procs = {{{1, 1}, "app", 10, false}};
  raw.stats = {Rec(1, 1, 0, 1)};
  std::map<WorkloadId, WorkloadStats> out;
  agg.Aggregate(raw, &out);
  EXPECT_EQ(out.count(WorkloadId{.comm = "app", .pod_uid = "uid1"}), 1u);
}

}  // namespace
}  // namespace redline
