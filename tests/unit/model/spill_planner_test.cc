#include "agent/model/spill_planner.h"

#include <set>

#include "gtest/gtest.h"

namespace redline {
namespace {

LiveEntry E(uint32_t tgid, uint32_t nr, uint64_t calls) {
  return {{tgid, 1}, nr, calls};
}

std::set<uint32_t> Moved(const std::vector<LiveEntry>& live, size_t n) {
  std::set<uint32_t> out;
  for (size_t i = 0; i < n; ++i) out.insert(live[i].proc.tgid);
  return out;
}

TEST(SpillPlanner, NothingWhileThreeQuartersOrLessFull) {
  SpillPlanner p;
  std::vector<LiveEntry> live;
  for (uint32_t i = 0; i < 6; ++i) live.push_back(E(i, 0, i));
  EXPECT_EQ(p.Plan(&live, 8), 0u);
}

TEST(SpillPlanner, FirstSpillTakesTheSmallestDownToHalf) {
  SpillPlanner p;
  std::vector<LiveEntry> live = {E(1, 0, 50), E(2, 0, 3), E(3, 0, 9),
                                 E(4, 0, 1),  E(5, 0, 7), E(6, 0, 80),
                                 E(7, 0, 2)};
  const size_t n = p.Plan(&live, 8);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(Moved(live, n), (std::set<uint32_t>{2, 4, 7}));
  EXPECT_EQ(live.size(), 7u);  // a permutation: nothing dropped
  EXPECT_EQ(Moved(live, live.size()),
            (std::set<uint32_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(SpillPlanner, IdleEntriesGoBeforeBusySmallOnes) {
  SpillPlanner p;
  // Previous read: 1 and 2 busy and small, 3..5 large.
  std::vector<LiveEntry> before = {E(1, 0, 1), E(2, 0, 1), E(3, 0, 100),
                                   E(4, 0, 200), E(5, 0, 300)};
  p.Remember(before, 0, 8);
  EXPECT_EQ(p.remembered(), 5u);
  // Now: 1 and 2 grew (each by 1), 3 and 4 are idle, 5 grew by 1000, and
  // two new entries appeared.
  std::vector<LiveEntry> live = {E(1, 0, 2),   E(2, 0, 2),    E(3, 0, 100),
                                 E(4, 0, 200), E(5, 0, 1300), E(6, 0, 5),
                                 E(7, 0, 4)};
  const size_t n = p.Plan(&live, 8);
  ASSERT_EQ(n, 3u);
  // Idle 3 and 4 first, then the one that grew least: 1 or 2 (each +1),
  // never a new entry (it grew by all its calls) nor the busy 5.
  const auto moved = Moved(live, n);
  EXPECT_TRUE(moved.count(3) && moved.count(4));
  EXPECT_TRUE(moved.count(1) || moved.count(2));
}

TEST(SpillPlanner, ReCreatedEntryCountsAsNew) {
  SpillPlanner p;
  p.Remember({E(1, 0, 500), E(2, 0, 10), E(3, 0, 10), E(4, 0, 0)}, 0, 4);
  // 1 was moved out and re-created from zero: 7 is below the remembered
  // 500, so it grew by 7 (not by 7 - 500 wrapped around), less than 4,
  // which grew by 20.
  std::vector<LiveEntry> live = {E(1, 0, 7), E(2, 0, 10), E(3, 0, 30),
                                 E(4, 0, 20)};
  ASSERT_EQ(p.Plan(&live, 4), 2u);
  EXPECT_EQ(Moved(live, 2), (std::set<uint32_t>{1, 2}));
}

TEST(SpillPlanner, ForgetsWhenTheMapIsMostlyEmpty) {
  SpillPlanner p;
  p.Remember({E(1, 0, 5), E(2, 0, 5), E(3, 0, 5)}, 0, 8);
  EXPECT_EQ(p.remembered(), 3u);
  p.Remember({E(1, 0, 5), E(2, 0, 5), E(3, 0, 5)}, 1, 8);  // 2 of 8 left
  EXPECT_EQ(p.remembered(), 0u);
}

TEST(SpillPlanner, KeysIncludeTheSyscall) {
  SpillPlanner p;
  p.Remember({E(1, 0, 5), E(1, 1, 9), E(1, 2, 5)}, 0, 4);
  // (1, 0) and (1, 1) idle, (1, 2) grew by 3, (2, 0) is new with 1 call.
  // Keyed by process alone (one remembered count, 5), (1, 1) would seem
  // to have grown by 4 and (2, 0) would go instead.
  std::vector<LiveEntry> live = {E(1, 2, 8), E(2, 0, 1), E(1, 1, 9),
                                 E(1, 0, 5)};
  ASSERT_EQ(p.Plan(&live, 4), 2u);
  EXPECT_EQ(live[0].proc.tgid, 1u);
  EXPECT_EQ(live[1].proc.tgid, 1u);
  EXPECT_EQ(live[0].nr + live[1].nr, 1u);  // nr 0 and 1
}

TEST(SpillPlanner, EntriesIdleForLongGoWithoutPressure) {
  constexpr uint64_t kS = 1'000'000'000;
  const uint64_t now = 100 * kS;
  SpillPlanner p;
  std::vector<LiveEntry> live = {E(1, 0, 5), E(2, 0, 5), E(3, 0, 5),
                                 E(4, 0, 5)};
  live[0].last_ns = now - SpillPlanner::kIdleNs;      // idle just long enough
  live[1].last_ns = now - SpillPlanner::kIdleNs + 1;  // not quite
  live[2].last_ns = 1 * kS;                           // start-up syscall
  live[3].last_ns = 0;                                // unknown: kept
  const size_t n = p.Plan(&live, 1000, now);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(p.idle(), 2u);
  EXPECT_EQ(Moved(live, n), (std::set<uint32_t>{1, 3}));
  EXPECT_EQ(Moved(live, live.size()), (std::set<uint32_t>{1, 2, 3, 4}));
  // Without a clock, idleness is not judged.
  EXPECT_EQ(p.Plan(&live, 1000), 0u);
}

TEST(SpillPlanner, PressureCountsOnlyWhatIdleMovesLeave) {
  const uint64_t now = 1'000'000'000'000;
  SpillPlanner p;
  std::vector<LiveEntry> live;
  for (uint32_t i = 0; i < 7; ++i) {
    live.push_back(E(i, 0, 10 + i));
    live.back().last_ns = now;
  }
  live[6].last_ns = 1;  // idle: leaves 6 busy of 8, not over 3/4
  EXPECT_EQ(p.Plan(&live, 8, now), 1u);
  EXPECT_EQ(Moved(live, 1), (std::set<uint32_t>{6}));
  // Two more busy ones: 8 busy of 8 -> down to 4 by size, after the idle.
  live.push_back(E(7, 0, 1));
  live.back().last_ns = now;
  live.push_back(E(8, 0, 2));
  live.back().last_ns = now;
  const size_t n = p.Plan(&live, 8, now);
  EXPECT_EQ(p.idle(), 1u);
  ASSERT_EQ(n, 5u);
  EXPECT_EQ(Moved(live, n), (std::set<uint32_t>{6, 7, 8, 0, 1}));
}

}  // namespace
}  // namespace redline
