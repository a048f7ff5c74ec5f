#include "agent/model/culprits.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

// Kernel pairs are identified by their key's bytes; any distinct strings do.
bool Add(CulpritLedger* l, absl::string_view entry, const char* victim,
         const char* culprit, uint64_t ns) {
  return l->Add(entry, {.comm = victim}, culprit, ns);
}

TEST(CulpritLedger, SumsPairsByVictimAndCulpritName) {
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin(30);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 300));
  // Same names, another kernel pair (another cgroup that names alike).
  EXPECT_FALSE(Add(&l, "b", "api", "batch", 200));
  EXPECT_FALSE(Add(&l, "c", "api", "", 7));  // idle, unknown, folded
  l.Finish(&out);
  const auto& c = out[{.comm = "api"}].rq_culprits;
  EXPECT_EQ(c.at("batch"), 500u);
  EXPECT_EQ(c.at(kCulpritOther), 7u);
  EXPECT_EQ(out.size(), 1u);
}

TEST(CulpritLedger, IdlePairsAreFreedAndTheirTotalsKept) {
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin(2);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 300));
  l.Finish(&out);
  l.Begin(2);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 300));  // idle 1 read
  l.Finish(&(out = {}));
  l.Begin(2);
  EXPECT_TRUE(Add(&l, "a", "api", "batch", 300));  // idle 2: free it
  l.Finish(&(out = {}));
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 300u);
  EXPECT_EQ(l.tracked(), 0u);
  // Gone from the kernel: the total stays.
  l.Begin(2);
  l.Finish(&(out = {}));
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 300u);
  // The pair is made again from zero: it adds to the total.
  l.Begin(2);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 40));
  l.Finish(&(out = {}));
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 340u);
}

TEST(CulpritLedger, GrowingPairsStay) {
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  for (uint64_t ns = 1; ns <= 5; ++ns) {
    l.Begin(1);
    EXPECT_FALSE(Add(&l, "a", "api", "batch", ns));
    l.Finish(&(out = {}));
  }
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 5u);
}

TEST(CulpritLedger, ANewPairIsNeverFreedOnItsFirstRead) {
  // The kernel creates a pair at zero and then adds to it: a read in
  // between sees 0, and deleting then would lose the add.
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin(1);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 0));
  l.Finish(&out);
  l.Begin(1);
  EXPECT_FALSE(Add(&l, "a", "api", "batch", 9));
  l.Finish(&(out = {}));
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 9u);
}

TEST(CulpritLedger, APairAReadDidNotReachKeepsItsLastTotal) {
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin(30);
  Add(&l, "a", "api", "batch", 10);
  Add(&l, "b", "api", "cron", 10);
  l.Finish(&out);
  l.Begin(30);
  Add(&l, "a", "api", "batch", 12);  // the read failed before "b"
  l.Finish(&(out = {}));
  EXPECT_EQ(l.tracked(), 2u);
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("cron"), 10u);
}

TEST(CulpritLedger, AVictimRenamedLaterIsExportedUnderItsNewName) {
  CulpritLedger l;
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin(30);
  Add(&l, "a", "api", "batch", 10);
  l.Finish(&out);
  l.Begin(30);
  l.Add("a", {.comm = "api", .pod_uid = "p1"}, "batch", 15);
  l.Finish(&(out = {}));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ((out[{.comm = "api", .pod_uid = "p1"}].rq_culprits.at("batch")),
            15u);
}

}  // namespace
}  // namespace redline
