#include "agent/model/v1_path_cache.h"

#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace redline {
namespace {

using std::chrono::seconds;

class V1PathCacheTest : public ::testing::Test {
 protected:
  V1PathCache cache_{[this](uint32_t tgid) -> std::optional<std::string> {
                       ++reads_[tgid];
                       auto it = paths_.find(tgid);
                       if (it == paths_.end()) return std::nullopt;
                       return it->second;
                     },
                     seconds(10), seconds(30)};
  std::map<uint32_t, std::string> paths_;
  std::map<uint32_t, int> reads_;
  V1PathCache::Clock::time_point t0_{};

  std::optional<std::string> At(int s, uint32_t tgid, uint64_t inc = 1) {
    cache_.Begin(t0_ + seconds(s));
    auto p = cache_.Get(tgid, inc);
    cache_.End();
    return p;
  }
};

TEST_F(V1PathCacheTest, ReadEveryTimeWhileYoungThenAtMostEveryMaxAge) {
  paths_[7] = "/";
  EXPECT_EQ(At(0, 7), "/");
  paths_[7] = "/limited";  // moved right after start
  EXPECT_EQ(At(1, 7), "/limited");
  EXPECT_EQ(At(9, 7), "/limited");
  EXPECT_EQ(reads_[7], 3);
  EXPECT_EQ(At(10, 7), "/limited");  // settled: from the cache now
  paths_[7] = "/other";              // a late move
  EXPECT_EQ(At(38, 7), "/limited");
  EXPECT_EQ(reads_[7], 3);
  EXPECT_EQ(At(39, 7), "/other");  // 30 s after the last read
  EXPECT_EQ(reads_[7], 4);
}

TEST_F(V1PathCacheTest, YoungProcessesAreLookedUpWithBackoff) {
  paths_[7] = "/";
  // A scrape every 10 ms for 2 s: lookups at 0, 100, 200, 400, 800 and
  // 1600 ms, not 200.
  std::vector<int> at;
  for (int ms = 0; ms < 2000; ms += 10) {
    const int before = reads_[7];
    cache_.Begin(t0_ + std::chrono::milliseconds(ms));
    cache_.Get(7, 1);
    cache_.End();
    if (reads_[7] != before) at.push_back(ms);
  }
  EXPECT_EQ(at, (std::vector<int>{0, 100, 200, 400, 800, 1600}));
}

TEST_F(V1PathCacheTest, AReusedPidIsLookedUpAtOnce) {
  paths_[7] = "/a";
  At(0, 7, 1);
  At(20, 7, 1);
  paths_[7] = "/b";
  EXPECT_EQ(At(21, 7, 2), "/b");
}

TEST_F(V1PathCacheTest, ProcessesNotAskedForAreForgotten) {
  paths_[7] = "/a";
  At(0, 7);
  At(20, 7);
  EXPECT_EQ(reads_[7], 1);
  cache_.Begin(t0_ + seconds(21));
  cache_.End();                // 7 exited: not a member of this read
  EXPECT_EQ(At(22, 7), "/a");  // a new process: read
  EXPECT_EQ(reads_[7], 2);
  EXPECT_EQ(cache_.lookups(), 2u);
}

TEST_F(V1PathCacheTest, AnUnreadablePathIsCachedLikeAnother) {
  EXPECT_EQ(At(0, 9), std::nullopt);
  EXPECT_EQ(At(15, 9), std::nullopt);
  paths_[9] = "/a";
  EXPECT_EQ(At(16, 9), std::nullopt);
  EXPECT_EQ(reads_[9], 1);
}

}  // namespace
}  // namespace redline
