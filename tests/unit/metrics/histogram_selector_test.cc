#include "agent/metrics/histogram_selector.h"

#include <map>
#include <string>
#include <vector>

#include "agent/model/names.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

using Series = SyscallHistogramSelector::Series;

WorkloadId W(const std::string& comm) {
  WorkloadId id;
  id.comm = comm;
  return id;
}

SyscallStats Stats(uint64_t calls, uint64_t ns_each) {
  SyscallStats s;
  s.calls = calls;
  s.sum_ns = calls * ns_each;
  s.hist[3] = calls;  // one slot is enough to check the sums
  return s;
}

uint32_t Nr(const char* name) {
  const int nr = SyscallNumber(name);
  EXPECT_GE(nr, 0) << name;
  return static_cast<uint32_t>(nr);
}

// (comm, syscall name or "[other]") -> calls (and the slot, which must agree).
std::map<std::pair<std::string, std::string>, uint64_t> ByName(
    const Series& s) {
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  for (const auto& [k, v] : s) {
    EXPECT_EQ(v.hist[3], v.calls);
    out[{k.id.comm,
         k.nr == kOtherSyscall ? "[other]" : SyscallName(k.nr)}] = v.calls;
  }
  return out;
}

TEST(ParseSyscallHistogramPolicy, Forms) {
  auto all = ParseSyscallHistogramPolicy("all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all());
  auto top = ParseSyscallHistogramPolicy("top:5");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->top, 5u);
  EXPECT_FALSE(top->all());
  auto named = ParseSyscallHistogramPolicy("read,write");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->named, (std::vector<uint32_t>{Nr("read"), Nr("write")}));
  for (const char* bad : {"top:0", "top:65", "top:x", "", "read,,write",
                          "read,nosuchcall", "top"}) {
    auto e = ParseSyscallHistogramPolicy(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(std::string(e.status().message()).find('\n'),
              std::string::npos);
  }
  EXPECT_NE(std::string(ParseSyscallHistogramPolicy("read,nosuchcall")
                            .status()
                            .message())
                .find("nosuchcall"),
            std::string::npos);
}

TEST(SyscallHistogramSelector, NamedKeepTheirsAndSumTheRestPerWorkload) {
  SyscallHistogramSelector sel(*ParseSyscallHistogramPolicy("read,write"));
  const Series in = {
      {{W("a"), Nr("read"), 0}, Stats(10, 100)},
      {{W("a"), Nr("futex"), 0}, Stats(7, 1000)},
      {{W("a"), Nr("openat"), 0}, Stats(3, 50)},
      {{W("b"), Nr("write"), 0}, Stats(4, 10)},
      {{W("b"), Nr("getppid"), 0}, Stats(5, 10)},
      {{W("c"), Nr("close"), 0}, Stats(2, 10)},
  };
  const auto got = ByName(sel.Apply(in));
  const std::map<std::pair<std::string, std::string>, uint64_t> want = {
      {{"a", "read"}, 10}, {{"a", "[other]"}, 10}, {{"b", "write"}, 4},
      {{"b", "[other]"}, 5}, {{"c", "[other]"}, 2}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(sel.folded_total(), 4u);  // a.futex, a.openat, b.getppid, c.close
  // Sums per workload equal the counters' (10+7+3, 4+5, 2).
}

TEST(SyscallHistogramSelector, AllPassesThrough) {
  SyscallHistogramSelector sel(SyscallHistogramPolicy{});
  const Series in = {{{W("a"), Nr("read"), 0}, Stats(1, 1)}};
  EXPECT_EQ(ByName(sel.Apply(in)), ByName(in));
}

TEST(SyscallHistogramSelector, TopNByTimeIsStickyAndOtherNeverGoesDown) {
  SyscallHistogramSelector sel(*ParseSyscallHistogramPolicy("top:2"));
  // read has the most calls but the least time: time decides.
  Series in = {
      {{W("a"), Nr("read"), 0}, Stats(1000, 1)},
      {{W("a"), Nr("futex"), 0}, Stats(10, 1000)},
      {{W("a"), Nr("poll"), 0}, Stats(10, 500)},
  };
  auto got = ByName(sel.Apply(in));
  EXPECT_EQ(got, (std::map<std::pair<std::string, std::string>, uint64_t>{
                     {{"a", "futex"}, 10},
                     {{"a", "poll"}, 10},
                     {{"a", "[other]"}, 1000}}));
  // read grows, but not past twice poll's time: the places stay.
  in[0].second = Stats(2000, 4);  // 8000 ns vs poll's 5000
  got = ByName(sel.Apply(in));
  EXPECT_EQ((got[{"a", "poll"}]), 10u);
  EXPECT_EQ((got[{"a", "[other]"}]), 2000u);
  // Past twice: read takes poll's place and restarts from zero (its past
  // stays in [other]); poll's series ends at 10 and [other] takes its
  // growth from now on, not its past (no jump in a rate).
  in[0].second = Stats(3000, 4);  // 12000 ns > 2 x 5000
  got = ByName(sel.Apply(in));
  EXPECT_EQ(got.count({"a", "poll"}), 0u);
  EXPECT_EQ((got[{"a", "futex"}]), 10u);
  EXPECT_EQ((got[{"a", "[other]"}]), 3000u);
  EXPECT_EQ((got[{"a", "read"}]), 0u);
  in[2].second = Stats(14, 500);  // poll grows by 4, folded
  got = ByName(sel.Apply(in));
  EXPECT_EQ((got[{"a", "[other]"}]), 3004u);
  // A workload's syscall that disappears leaves its share in [other].
  in.erase(in.begin() + 2);  // poll
  in[0].second = Stats(3100, 4);
  got = ByName(sel.Apply(in));
  EXPECT_EQ((got[{"a", "[other]"}]), 3004u);
  EXPECT_EQ((got[{"a", "read"}]), 100u);
}

TEST(SyscallHistogramSelector, AddsToTheWorkloadGovernorsOther) {
  SyscallHistogramSelector sel(*ParseSyscallHistogramPolicy("read"));
  const Series in = {
      {{OtherWorkload(), Nr("read"), 0}, Stats(1, 1)},
      {{OtherWorkload(), kOtherSyscall, 0}, Stats(5, 1)},
      {{OtherWorkload(), Nr("write"), 0}, Stats(2, 1)},
  };
  EXPECT_EQ(ByName(sel.Apply(in)),
            (std::map<std::pair<std::string, std::string>, uint64_t>{
                {{"[other]", "read"}, 1}, {{"[other]", "[other]"}, 7}}));
}

TEST(SyscallHistogramSelector, GoneWorkloadsEndTheirSeries) {
  SyscallHistogramSelector sel(*ParseSyscallHistogramPolicy("read"));
  sel.Apply({{{W("a"), Nr("write"), 0}, Stats(5, 1)}});
  // "a" is gone; when it returns, its [other] starts afresh (a new series
  // to Prometheus, as every series of a returning workload).
  const auto got = ByName(sel.Apply({{{W("b"), Nr("write"), 0}, Stats(1, 1)}}));
  EXPECT_EQ(got, (std::map<std::pair<std::string, std::string>, uint64_t>{
                     {{"b", "[other]"}, 1}}));
  EXPECT_EQ(ByName(sel.Apply({{{W("a"), Nr("write"), 0}, Stats(2, 1)}})),
            (std::map<std::pair<std::string, std::string>, uint64_t>{
                {{"a", "[other]"}, 2}}));
}

}  // namespace
}  // namespace redline
