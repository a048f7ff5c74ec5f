#include <sys/syscall.h>

#include "agent/metrics/snapshot_json.h"
#include "agent/model/history.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(HistoryJsonTest, RoundTrip) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 10});
  for (int t = 1; t <= 3; ++t) {
    Snapshot s;
    s.taken_unix_ns = t * kSec;
    s.host = "node";
    WorkloadStats& ws = s.workloads[WorkloadId{.comm = "api"}];
    ws.syscalls[SYS_read].calls = 100u * t;
    ws.syscalls[SYS_read].hist[11] = 100u * t;
    ws.has_sched = true;
    ws.sched.cpu_ns = 1000u * t;
    h.Add(s);
  }
  HistoryRange r = h.Range(2 * kSec, 3 * kSec, 30);
  const std::string text = HistoryToJson(r, 10);
  double interval = 0;
  auto back = HistoryFromJson(text, &interval);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(interval, 10);
  EXPECT_EQ(back->entries, 3u);
  EXPECT_EQ(back->oldest_unix_ns, 1 * kSec);
  EXPECT_EQ(back->newest_unix_ns, 3 * kSec);
  EXPECT_FALSE(back->truncated);
  ASSERT_EQ(back->snapshots.size(), 2u);
  const Snapshot& s = back->snapshots[1];
  EXPECT_EQ(s.taken_unix_ns, 3 * kSec);
  EXPECT_EQ(s.host, "node");
  const WorkloadStats& ws = s.workloads.at(WorkloadId{.comm = "api"});
  EXPECT_EQ(ws.syscalls.at(kFoldedSyscall).calls, 300u);
  EXPECT_EQ(ws.syscalls.at(kFoldedSyscall).hist[11], 300u);
  EXPECT_EQ(ws.sched.cpu_ns, 3000u);
}

TEST(HistoryJsonTest, EmptyAndJunk) {
  double interval = 0;
  auto empty = HistoryFromJson(HistoryToJson(HistoryRange{}, 1), &interval);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->snapshots.empty());
  EXPECT_FALSE(HistoryFromJson("not json", &interval).ok());
  EXPECT_FALSE(HistoryFromJson("{\"format\": 1}", &interval).ok());
  EXPECT_FALSE(
      HistoryFromJson("{\"format\": 99, \"snapshots\": []}", &interval).ok());
  EXPECT_FALSE(
      HistoryFromJson("{\"format\": 1, \"snapshots\": [{}]}", &interval).ok());
}

}  // namespace
}  // namespace redline
