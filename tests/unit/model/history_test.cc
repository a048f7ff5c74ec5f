#include "agent/model/history.h"

#include <malloc.h>
#include <sys/syscall.h>

#include <array>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr int64_t kSec = 1'000'000'000;

Snapshot At(int64_t t_s, int workloads = 2) {
  Snapshot s;
  s.taken_unix_ns = t_s * kSec;
  s.host = "h";
  for (int w = 0; w < workloads; ++w) {
    WorkloadStats& ws = s.workloads[WorkloadId{.comm = absl::StrCat("w", w)}];
    ws.syscalls[SYS_read].calls = static_cast<uint64_t>(t_s * (w + 1));
  }
  return s;
}

std::vector<int64_t> Times(const HistoryRange& r) {
  std::vector<int64_t> out;
  for (const Snapshot& s : r.snapshots) out.push_back(s.taken_unix_ns / kSec);
  return out;
}

TEST(HistoryTest, EmptyRingHasNothing) {
  History h({.keep_ns = 60 * kSec, .max_entries = 10});
  const HistoryRange r = h.Range(0, INT64_MAX, 30);
  EXPECT_TRUE(r.snapshots.empty());
  EXPECT_EQ(r.entries, 0u);
  EXPECT_EQ(r.oldest_unix_ns, 0);
  EXPECT_FALSE(r.truncated);
}

TEST(HistoryTest, OffKeepsNothing) {
  History h({.keep_ns = 0, .max_entries = 0});
  h.Add(At(1));
  EXPECT_EQ(h.size(), 0u);
}

TEST(HistoryTest, EvictsByAge) {
  History h({.keep_ns = 30 * kSec, .max_entries = 1000});
  for (int t = 0; t <= 100; t += 10) h.Add(At(t));
  // Newest 100: 70..100 are within 30 s.
  EXPECT_EQ(Times(h.Range(0, INT64_MAX, 30)),
            (std::vector<int64_t>{70, 80, 90, 100}));
}

TEST(HistoryTest, EvictsByCount) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 3});
  for (int t = 1; t <= 10; ++t) h.Add(At(t));
  EXPECT_EQ(Times(h.Range(0, INT64_MAX, 30)), (std::vector<int64_t>{8, 9, 10}));
}

TEST(HistoryTest, IgnoresSnapshotsNotNewer) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 10});
  h.Add(At(5));
  h.Add(At(5));
  h.Add(At(4));
  EXPECT_EQ(h.size(), 1u);
}

TEST(HistoryTest, RangeIsInclusiveAndKeepsTheNewest) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 100});
  for (int t = 10; t <= 100; t += 10) h.Add(At(t));
  EXPECT_EQ(Times(h.Range(30 * kSec, 50 * kSec, 30)),
            (std::vector<int64_t>{30, 40, 50}));
  EXPECT_EQ(Times(h.Range(31 * kSec, 49 * kSec, 30)),
            (std::vector<int64_t>{40}));
  const HistoryRange r = h.Range(0, 75 * kSec, 2);
  EXPECT_EQ(Times(r), (std::vector<int64_t>{60, 70}));
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.oldest_unix_ns, 10 * kSec);
  EXPECT_EQ(r.newest_unix_ns, 100 * kSec);
  EXPECT_TRUE(h.Range(101 * kSec, 200 * kSec, 30).snapshots.empty());
  EXPECT_TRUE(h.Range(0, 9 * kSec, 30).snapshots.empty());
}

TEST(HistoryTest, FoldsWhatTopReads) {
  Snapshot s = At(7, 0);
  s.programs = {{"syscalls/sys_enter", true, ""}, {"l7/l7_exit", false, "x"}};
  s.maps = {{"a", 3}, {"b", 4}};
  s.slos = {{"api", 0.5, 2.5}};
  WorkloadStats& ws = s.workloads[WorkloadId{.comm = "api", .pod = "p"}];
  ws.syscalls[SYS_read] = {.calls = 10, .errors = 2};
  ws.syscalls[SYS_read].hist[12] = 10;
  ws.syscalls[SYS_write] = {.calls = 5};
  ws.syscalls[SYS_write].hist[12] = 3;
  ws.syscalls[SYS_write].hist[30] = 2;
  ws.has_sched = true;
  ws.sched.cpu_ns = 123456789;
  ws.sched.off_ns[3] = 42;
  ws.sched.rq_hist[5] = 9;
  ws.rq_culprits["burner"] = 77;
  ws.has_throttle = true;
  ws.throttle.throttled_ns = 5;
  ws.slo_burn = 1.25;
  ws.tcp[{"10.0.0.1:80", ""}].retrans_segs = 3;
  ws.tcp[{"10.0.0.2:80", ""}].retrans_segs = 4;
  RequestStats r5, r2;
  r5.requests = 2;
  r5.hist[40] = 2;
  r2.requests = 8;
  r2.hist[44] = 8;
  ws.requests[{.protocol = "http",
               .server = true,
               .operation = "GET",
               .outcome = "5xx"}] = r5;
  ws.requests[{.protocol = "http",
               .server = true,
               .operation = "PUT",
               .outcome = "2xx"}] = r2;
  History h({.keep_ns = 60 * kSec, .max_entries = 10});
  h.Add(s);
  const HistoryRange r = h.Range(0, INT64_MAX, 30);
  ASSERT_EQ(r.snapshots.size(), 1u);
  const Snapshot& d = r.snapshots[0];
  EXPECT_EQ(d.taken_unix_ns, 7 * kSec);
  EXPECT_EQ(d.programs.size(), 2u);
  EXPECT_FALSE(d.programs[1].attached);
  ASSERT_EQ(d.maps.size(), 1u);
  EXPECT_EQ(d.maps[0].drops, 7u);
  ASSERT_EQ(d.slos.size(), 1u);
  EXPECT_EQ(d.slos[0].burn_5m, 2.5);
  const WorkloadStats& w =
      d.workloads.at(WorkloadId{.comm = "api", .pod = "p"});
  ASSERT_EQ(w.syscalls.size(), 1u);
  const SyscallStats& f = w.syscalls.at(kFoldedSyscall);
  EXPECT_EQ(f.calls, 15u);
  EXPECT_EQ(f.errors, 2u);
  EXPECT_EQ(f.hist[12], 13u);
  EXPECT_EQ(f.hist[30], 2u);
  EXPECT_EQ(w.sched.cpu_ns, 123456789u);
  EXPECT_EQ(w.sched.off_ns[3], 42u);
  EXPECT_EQ(w.sched.rq_hist[5], 9u);
  EXPECT_EQ(w.rq_culprits.at("burner"), 77u);
  EXPECT_EQ(w.throttle.throttled_ns, 5u);
  EXPECT_EQ(w.slo_burn, 1.25);
  EXPECT_EQ(w.tcp.begin()->second.retrans_segs, 7u);
  ASSERT_EQ(w.requests.size(), 2u);
  for (const auto& [k, st] : w.requests) {
    EXPECT_EQ(k.protocol, "http");
    EXPECT_EQ(st.requests, k.outcome == "5xx" ? 2u : 8u);
  }
}

// Entries are deltas from the one before, with keys: every entry still
// decodes to its own counts after evictions and from any starting point.
TEST(HistoryTest, DeltasDecodeFromAnyEntry) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 100});
  for (int t = 1; t <= 250; ++t) {
    Snapshot s = At(t, 3);
    if (t % 7 == 0) s.workloads.erase(WorkloadId{.comm = "w1"});
    s.workloads[WorkloadId{.comm = "w2"}].syscalls[SYS_read].calls = 5;  // idle
    h.Add(s);
  }
  for (int from = 151; from <= 250; from += 13) {
    const HistoryRange r = h.Range(from * kSec, INT64_MAX, 5);
    ASSERT_EQ(r.snapshots.size(), 5u);
    for (const Snapshot& s : r.snapshots) {
      const int64_t t = s.taken_unix_ns / kSec;
      EXPECT_EQ(s.workloads.at(WorkloadId{.comm = "w0"})
                    .syscalls.at(kFoldedSyscall)
                    .calls,
                static_cast<uint64_t>(t));
      EXPECT_EQ(s.workloads.count(WorkloadId{.comm = "w1"}), t % 7 ? 1u : 0u);
      EXPECT_EQ(s.workloads.at(WorkloadId{.comm = "w2"})
                    .syscalls.at(kFoldedSyscall)
                    .calls,
                5u);
    }
  }
}

// Workloads that come and go: the id table is compacted, entries still
// decode to their own workloads.
TEST(HistoryTest, ChurnKeepsIdsRight) {
  History h({.keep_ns = 3600 * kSec, .max_entries = 5});
  for (int t = 1; t <= 200; ++t) {
    Snapshot s;
    s.taken_unix_ns = t * kSec;
    for (int w = 0; w < 20; ++w) {
      s.workloads[WorkloadId{.comm = absl::StrCat("p", t, "_", w)}]
          .syscalls[SYS_read]
          .calls = static_cast<uint64_t>(t);
    }
    h.Add(s);
  }
  const HistoryRange r = h.Range(0, INT64_MAX, 30);
  ASSERT_EQ(r.snapshots.size(), 5u);
  EXPECT_EQ(r.snapshots[0].workloads.begin()->first.comm, "p196_0");
  EXPECT_EQ(r.snapshots[4].workloads.begin()->first.comm, "p200_0");
  EXPECT_EQ(r.snapshots[4].workloads.size(), 20u);
  // 100 live ids, not 4000.
  EXPECT_LT(h.MemoryBytes(), 256u << 10);
}

// A busy workload: every counter of top grows each interval by a rate
// drawn once per workload, +-50% per interval.
struct Busy {
  std::array<uint64_t, 14> rate{};
  WorkloadStats ws;
};

void Grow(std::mt19937_64& rng, Busy* b) {
  auto jitter = [&rng](uint64_t r) {
    return r / 2 + std::uniform_int_distribution<uint64_t>(0, r)(rng);
  };
  WorkloadStats& ws = b->ws;
  ws.has_sched = true;
  ws.sched.cpu_ns += jitter(b->rate[0]);
  ws.sched.steal_ns += jitter(b->rate[1]);
  ws.sched.rq_sum_ns += jitter(b->rate[2]);
  for (size_t r = 0; r < ws.sched.off_ns.size(); ++r) {
    ws.sched.off_ns[r] += jitter(b->rate[3 + r]);
  }
  for (int slot = 8; slot < 24; ++slot) ws.sched.rq_hist[slot] += jitter(50);
  for (int nr : {0, 1, 3, 7, 202, 232, 281, 45, 44, 16}) {
    SyscallStats& s = ws.syscalls[static_cast<uint32_t>(nr)];
    const uint64_t calls = jitter(b->rate[9]);
    s.calls += calls;
    s.errors += jitter(b->rate[10]);
    for (int slot = 9; slot < 27; slot += 2) s.hist[slot] += calls / 9;
  }
  ws.rq_culprits["kworker/0:1"] += jitter(b->rate[11]);
  ws.rq_culprits["[other]"] += jitter(b->rate[12]);
  ws.tcp[{"10.0.0.1:5432", ""}].retrans_segs += jitter(2);
  RequestStats& r = ws.requests[{.protocol = "http",
                                 .server = true,
                                 .operation = "GET",
                                 .outcome = "2xx"}];
  const uint64_t reqs = jitter(b->rate[13]);
  r.requests += reqs;
  for (int slot = 30; slot < 46; ++slot) r.hist[slot] += reqs / 16;
}

// The README's number: an hour at 10 s (360 entries) of 500 workloads that
// all stay busy, each with sched and all six off-CPU reasons, 16 run-queue
// slots, 10 syscalls over 9 latency slots, two culprits and HTTP requests
// over 16 slots: the worst case, most workloads of a host are idle.
TEST(HistoryTest, MemoryOfAnHourOf500Workloads) {
  std::mt19937_64 rng(24);
  std::vector<Busy> busy(500);
  for (Busy& b : busy) {
    // Per 10 s: up to 5 CPUs' worth of time, 200k syscalls, 5k requests.
    const uint64_t max[14] = {5'000'000'000, 100'000,       500'000'000,
                              5'000'000'000, 5'000'000'000, 5'000'000'000,
                              5'000'000'000, 5'000'000'000, 5'000'000'000,
                              20'000,        200,           10'000'000,
                              10'000'000,    5'000};
    for (int k = 0; k < 14; ++k) {
      b.rate[k] = std::uniform_int_distribution<uint64_t>(1, max[k])(rng);
    }
    // Up a while already: counters are not small.
    for (int i = 0; i < 20; ++i) Grow(rng, &b);
  }
  const int64_t start = 86400;
  const size_t before = mallinfo2().uordblks;
  auto h = std::make_unique<History>(
      HistoryOptions{.keep_ns = 3600 * kSec, .max_entries = 361});
  for (int i = 0; i < 360; ++i) {
    Snapshot s;
    s.taken_unix_ns = (start + i * 10) * kSec;
    s.host = "node-1";
    s.kernel = "6.18.0";
    for (int p = 0; p < 20; ++p) {
      s.programs.push_back({absl::StrCat("syscalls/prog", p), true, ""});
    }
    for (int w = 0; w < 500; ++w) {
      WorkloadId id{.comm = absl::StrCat("worker-", w),
                    .container_id = std::string(64, 'a' + w % 26),
                    .pod_uid = "0f4c8a52-1b8e-4c1e-9b1e-5d6f7a8b9c0d",
                    .namespace_name = "shop",
                    .pod = absl::StrCat("api-7d9c-", w),
                    .container = "api"};
      Grow(rng, &busy[w]);
      s.workloads[id] = busy[w].ws;
    }
    h->Add(s);
  }
  ASSERT_EQ(h->size(), 360u);
  const size_t counted = h->MemoryBytes();
  const size_t measured = mallinfo2().uordblks - before;
  std::printf(
      "history: 360 entries x 500 workloads: %.2f MiB counted, "
      "%.2f MiB allocated\n",
      static_cast<double>(counted) / (1 << 20),
      static_cast<double>(measured) / (1 << 20));
  EXPECT_LT(counted, 32u << 20);
  EXPECT_LT(measured, 32u << 20);
}

}  // namespace
}  // namespace redline
