#include "agent/model/culprits.h"

#include <set>

#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(CulpritLedger, NamesVictimsAndCulpritsByTheirProcessNames) {
  std::set<uint32_t> alive{10, 11, 12};
  CulpritLedger l([&](uint32_t pid) { return alive.count(pid) > 0; });
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin();
  l.Name(10, {.comm = "api"}, false);
  l.Name(11, {.comm = "batch"}, false);
  l.Name(12, {.comm = "batch"}, false);
  EXPECT_FALSE(l.Add(10, 11, 300));
  EXPECT_FALSE(l.Add(10, 12, 200));  // two processes, one name
  EXPECT_FALSE(l.Add(10, 0, 7));     // idle, unknown, folded
  l.Finish(&out);
  const auto& c = out[{.comm = "api"}].rq_culprits;
  EXPECT_EQ(c.at("batch"), 500u);
  EXPECT_EQ(c.at(kCulpritOther), 7u);
  EXPECT_EQ(out.size(), 1u);
}

TEST(CulpritLedger, PairsOfExitedProcessesAreFreedAndKeptCounting) {
  std::set<uint32_t> alive{10, 11};
  CulpritLedger l([&](uint32_t pid) { return alive.count(pid) > 0; });
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin();
  l.Name(10, {.comm = "api"}, false);
  l.Name(11, {.comm = "batch"}, false);
  EXPECT_FALSE(l.Add(10, 11, 300));
  l.Finish(&out);
  // batch exits: its entry was read one last time (exited) the read
  // before, and is gone now; the pair is named from that read, freed, and
  // its total stays.
  alive.erase(11);
  out.clear();
  l.Begin();
  l.Name(10, {.comm = "api"}, false);
  EXPECT_TRUE(l.Add(10, 11, 350));
  l.Finish(&out);
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 350u);
  out.clear();
  l.Begin();
  l.Name(10, {.comm = "api"}, false);
  l.Name(13, {.comm = "batch"}, false);  // another batch process
  alive.insert(13);
  EXPECT_FALSE(l.Add(10, 13, 50));
  l.Finish(&out);
  EXPECT_EQ(out[{.comm = "api"}].rq_culprits.at("batch"), 400u);
}

TEST(CulpritLedger, ALiveNameWinsOverAnExitedEntryOfTheSameTgid) {
  CulpritLedger l([](uint32_t) { return true; });
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin();
  l.Name(10, {.comm = "sh"}, true);       // before exec
  l.Name(10, {.comm = "server"}, false);  // after
  l.Name(11, {.comm = "x"}, false);
  l.Name(11, {.comm = "old"}, true);
  l.Add(10, 11, 5);
  l.Finish(&out);
  EXPECT_EQ(out[{.comm = "server"}].rq_culprits.at("x"), 5u);
}

TEST(CulpritLedger, UnnamedVictimIsNotExportedAndFreedOnlyWhenGone) {
  std::set<uint32_t> alive{10};
  CulpritLedger l([&](uint32_t pid) { return alive.count(pid) > 0; });
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin();
  EXPECT_FALSE(l.Add(10, 0, 5));
  l.Finish(&out);
  alive.clear();
  l.Begin();
  EXPECT_TRUE(l.Add(10, 0, 5));
  l.Finish(&out);
  EXPECT_TRUE(out.empty());
}

TEST(CulpritLedger, AsksWhetherAProcessLivesOncePerReadAndOnlyIfUnsure) {
  std::map<uint32_t, int> asked;
  CulpritLedger l([&](uint32_t pid) {
    ++asked[pid];
    return pid != 12;
  });
  std::map<WorkloadId, WorkloadStats> out;
  l.Begin();
  l.Name(10, {.comm = "api"}, false);  // a live entry: alive, not asked
  l.Name(11, {.comm = "job"}, true);   // exited entry: asked
  for (uint32_t culprit : {11u, 12u, 13u, 11u, 12u, 13u}) {
    l.Add(10, culprit, 1);
  }
  EXPECT_TRUE(l.Add(12, 10, 1));  // 12 is gone: freed
  l.Finish(&out);
  EXPECT_EQ(asked, (std::map<uint32_t, int>{{11, 1}, {12, 1}, {13, 1}}));
  // The next read asks again.
  l.Begin();
  l.Name(10, {.comm = "api"}, false);
  l.Add(10, 13, 1);
  EXPECT_EQ(asked[13], 2);
  EXPECT_EQ(asked.count(10), 0u);
}

}  // namespace
}  // namespace redline
