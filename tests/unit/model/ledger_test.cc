#include "agent/model/ledger.h"

#include <string>

#include "gtest/gtest.h"

namespace redline {
namespace {

struct Count {
  uint64_t n = 0;
  void Add(const Count& o) { n += o.n; }
};
using L = Ledger<std::string, Count>;

std::map<WorkloadId, uint64_t> Totals(L* l) {
  std::map<WorkloadId, uint64_t> out;
  l->Finish([&](const WorkloadId& id, const Count& c) { out[id] += c.n; });
  return out;
}

TEST(Ledger, ExitedEntryIsDeletedAndKeepsCounting) {
  L l({3, nullptr});
  const WorkloadId web{.comm = "web"};
  l.Begin();
  EXPECT_EQ(l.Add("a", web, {5}, false, 5), L::Action::kKeep);
  EXPECT_EQ(l.Add("b", web, {7}, false, 7), L::Action::kKeep);
  EXPECT_EQ(Totals(&l)[web], 12u);
  l.Begin();
  EXPECT_EQ(l.Add("a", web, {6}, true, 6), L::Action::kDelete);
  EXPECT_EQ(l.Add("b", web, {8}, false, 8), L::Action::kKeep);
  EXPECT_EQ(Totals(&l)[web], 14u);
  l.Begin();  // "a" is gone from the kernel
  l.Add("b", web, {9}, false, 9);
  EXPECT_EQ(Totals(&l)[web], 15u);
  EXPECT_EQ(l.tracked(), 1u);
}

TEST(Ledger, IdleEntryIsRetiredWithoutAStep) {
  L l({2, nullptr});
  const WorkloadId w{.comm = "old-name"};
  uint64_t last = 0;
  for (int read = 0; read < 3; ++read) {
    l.Begin();
    L::Action a = l.Add("k", w, {4}, false, 4);
    if (a == L::Action::kRetire) {
      l.Retire(w, {5});  // one more event landed before the delete
    }
    uint64_t t = Totals(&l)[w];
    EXPECT_GE(t, last);
    last = t;
    EXPECT_EQ(a, read == 2 ? L::Action::kRetire : L::Action::kKeep);
  }
  EXPECT_EQ(last, 5u);
  // The entry comes back from zero (the process woke up): totals go on.
  l.Begin();
  l.Add("k", w, {1}, false, 1);
  EXPECT_EQ(Totals(&l)[w], 6u);
}

TEST(Ledger, RetireFailureKeepsCountsLive) {
  L l({1, nullptr});
  const WorkloadId w{.comm = "x"};
  l.Begin();
  l.Add("k", w, {3}, false, 3);
  Totals(&l);
  l.Begin();
  ASSERT_EQ(l.Add("k", w, {3}, false, 3), L::Action::kRetire);
  l.Keep(w, {3});
  EXPECT_EQ(Totals(&l)[w], 3u);
}

TEST(Ledger, PidSeriesEndOnlyWhenTheProcessIsGone) {
  bool alive = true;
  L l({3, [&](uint32_t) { return alive; }});
  const WorkloadId w{.comm = "x", .pid = 42};
  l.Begin();
  l.Add("k", w, {3}, true, 3);
  EXPECT_EQ(Totals(&l).count(w), 1u);
  l.Begin();
  EXPECT_EQ(Totals(&l).count(w), 1u) << "pid still alive";
  alive = false;
  l.Begin();
  EXPECT_EQ(Totals(&l).count(w), 1u) << "exported once more";
  l.Begin();
  EXPECT_EQ(Totals(&l).count(w), 0u);
  EXPECT_EQ(l.retired_workloads(), 0u);
}

}  // namespace
}  // namespace redline
