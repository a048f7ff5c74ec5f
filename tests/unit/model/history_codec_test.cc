#include "agent/model/history_codec.h"

#include <random>

#include "gtest/gtest.h"

namespace redline::history {
namespace {

Rec Busy(uint64_t k) {
  Rec r;
  r.flags = kSched | kBurn;
  for (int i = 0; i < kScalars; ++i) r.v[i] = k * (i + 1) * 1000003;
  r.v[kSteal] = 5 - k;  // going down: deltas are signed
  for (int s = 3; s < 40; s += 3) r.rq[s] = k * s;
  r.sys[0] = k;
  r.sys[r.sys.size() - 1] = k * 7;
  r.culprits[k % 3] = k * 11;
  r.requests[5].first = k;
  r.requests[5].second[1] = k;
  r.requests[5].second[kFineSlots - 1] = k * 2;
  return r;
}

TEST(HistoryCodecTest, DeltasRoundTrip) {
  State a{{0, Busy(1)}, {1, Busy(2)}, {7, Busy(3)}};
  State b{{0, Busy(4)}, {7, Busy(3)}, {9, Busy(9)}};
  const State key = Decode(Encode(a, {}), {});
  EXPECT_EQ(key, a);
  const std::string delta = Encode(b, a);
  EXPECT_EQ(Decode(delta, a), b);
  // An unchanged record is its id and one flag byte.
  EXPECT_LT(Encode(State{{7, Busy(3)}}, a).size(), 4u);
}

TEST(HistoryCodecTest, JunkNeverReadsPastTheEnd) {
  std::mt19937 rng(1);
  const State prev{{0, Busy(1)}};
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    Decode(junk, prev);  // ASan in scripts/sanitize.sh checks the reads
  }
  std::string good = Encode(State{{0, Busy(5)}}, prev);
  for (size_t n = 0; n < good.size(); ++n) Decode(good.substr(0, n), prev);
}

}  // namespace
}  // namespace redline::history
