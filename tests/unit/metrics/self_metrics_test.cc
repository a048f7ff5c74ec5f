#include "agent/metrics/self_metrics.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REDLINE_SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REDLINE_SANITIZED_MALLOC 1
#endif
#endif

namespace redline {
namespace {

TEST(SelfMetrics, ParsesStatWithSpacesAndParensInComm) {
  const std::string stat =
      "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 "
      "1000 12345678 300 18446744073709551615";
  ProcSelfStat st;
  ASSERT_TRUE(ParseProcStat(stat, 100, 4096, 1000.0, &st));
  EXPECT_DOUBLE_EQ(st.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(st.rss_bytes, 300.0 * 4096);
  EXPECT_DOUBLE_EQ(st.start_time_seconds, 1010.0);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096, 0, &st));
}

double HeapInUse() {
  for (const auto& f : SelfCollector().Collect()) {
    if (f.name == "redline_heap_inuse_bytes") return f.metric.at(0).gauge.value;
  }
  ADD_FAILURE() << "no redline_heap_inuse_bytes";
  return 0;
}

TEST(SelfMetrics, HeapInUseFollowsAllocations) {
#ifdef REDLINE_SANITIZED_MALLOC
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc's: mallinfo2 "
                  "does not see it";
#endif
  const double before = HeapInUse();
  // 4 MiB is mmapped (above any mmap threshold), 1000 x 1 KiB in the heap.
  auto big = std::make_unique<char[]>(4 << 20);
  std::vector<std::unique_ptr<char[]>> small;
  for (int i = 0; i < 1000; ++i)
    small.push_back(std::make_unique<char[]>(1024));
  // Escape the pointers: a compiler may elide an unobserved new/delete.
  asm volatile("" : : "r"(big.get()), "r"(small.data()) : "memory");
  const double during = HeapInUse();
  EXPECT_GE(during - before, (4 << 20) + 1000 * 1024);
  big.reset();
  small.clear();
  EXPECT_LT(HeapInUse() - before, 64 * 1024);
}

// Each family is there only when its source is: an agent run with
// --history=0 has no history gauges (rather than a misleading 0).
TEST(SelfMetrics, SourcesExportedOnlyWhenGiven) {
  auto names = [](const SelfCollector& c) {
    std::map<std::string, double> m;
    for (const auto& f : c.Collect()) m[f.name] = f.metric.at(0).gauge.value;
    return m;
  };
  auto bare = names(SelfCollector());
  EXPECT_EQ(bare.count("redline_history_bytes"), 0u);
  EXPECT_EQ(bare.count("redline_history_entries"), 0u);
  EXPECT_EQ(bare.count("redline_http_requests_rejected_total"), 0u);
  auto full = names(SelfCollector(SelfSources{
      .rejected = [] { return uint64_t{3}; },
      .history_bytes = [] { return uint64_t{123456}; },
      .history_entries = [] { return uint64_t{42}; }}));
  EXPECT_EQ(full.at("redline_history_bytes"), 123456);
  EXPECT_EQ(full.at("redline_history_entries"), 42);
  EXPECT_EQ(full.at("redline_http_requests_rejected_total"), 3);
}

}  // namespace
}  // namespace redline
