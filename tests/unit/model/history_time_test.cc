#include "agent/model/history_time.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class HistoryTimeTest : public ::testing::Test {
 protected:
  // 2026-12-01 15:00:00 UTC; local time is UTC+1 here.
  absl::Time now_ = absl::FromUnixSeconds(1796137200);
  absl::TimeZone tz_ = absl::FixedTimeZone(3600);
};

TEST_F(HistoryTimeTest, Relative) {
  EXPECT_EQ(*ParseHistoryTime("-5m", now_, tz_), (1796137200 - 300) * kSec);
  EXPECT_EQ(*ParseHistoryTime("-1h30m", now_, tz_), (1796137200 - 5400) * kSec);
  EXPECT_EQ(*ParseHistoryTime("-0s", now_, tz_), 1796137200 * kSec);
}

TEST_F(HistoryTimeTest, ClockIsTodayLocal) {
  // 16:00 local is 15:00 UTC: now.
  EXPECT_EQ(*ParseHistoryTime("16:00", now_, tz_), 1796137200 * kSec);
  EXPECT_EQ(*ParseHistoryTime("15:59:30", now_, tz_), (1796137200 - 30) * kSec);
}

TEST_F(HistoryTimeTest, Rfc3339AndUnixSeconds) {
  EXPECT_EQ(*ParseHistoryTime("2026-12-01T15:00:00Z", now_, tz_),
            1796137200 * kSec);
  EXPECT_EQ(*ParseHistoryTime("2026-12-01T16:00:00+01:00", now_, tz_),
            1796137200 * kSec);
  EXPECT_EQ(*ParseHistoryTime("1796137200", now_, tz_), 1796137200 * kSec);
  EXPECT_EQ(*ParseHistoryTime("1796137200.5", now_, tz_),
            1796137200 * kSec + kSec / 2);
}

TEST_F(HistoryTimeTest, BadInputIsOneLineNamingTheForms) {
  for (const char* bad :
       {"", "yesterday", "-5", "-5x", "25:00", "14:60", "1:2:3:4",
        "2026-13-01T00:00:00Z", "-", "1e400", "nan", "-inf", "\n14:03"}) {
    auto t = ParseHistoryTime(bad, now_, tz_);
    if (std::string(bad) == "\n14:03") {
      EXPECT_TRUE(t.ok()) << "whitespace is trimmed";
      continue;
    }
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
    EXPECT_NE(t.status().message().find("RFC 3339"), std::string::npos);
  }
}

TEST_F(HistoryTimeTest, Keep) {
  EXPECT_EQ(*ParseHistoryKeep("1h"), absl::Hours(1));
  EXPECT_EQ(*ParseHistoryKeep("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseHistoryKeep("90s"), absl::Seconds(90));
  EXPECT_FALSE(ParseHistoryKeep("forever").ok());
  EXPECT_FALSE(ParseHistoryKeep("-1h").ok());
  EXPECT_FALSE(ParseHistoryKeep("25h").ok());
}

TEST_F(HistoryTimeTest, Query) {
  auto all = ParseHistoryQuery("", "", "", now_, tz_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->from_ns, 0);
  EXPECT_EQ(all->to_ns, 1796137200 * kSec);
  EXPECT_EQ(all->limit, kHistoryMaxLimit);
  auto q =
      ParseHistoryQuery("1796137000", "2026-12-01T15:00:00Z", "2", now_, tz_);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from_ns, 1796137000 * kSec);
  EXPECT_EQ(q->limit, 2u);
  EXPECT_FALSE(ParseHistoryQuery("junk", "", "", now_, tz_).ok());
  EXPECT_FALSE(ParseHistoryQuery("", "junk", "", now_, tz_).ok());
  EXPECT_FALSE(ParseHistoryQuery("20", "10", "", now_, tz_).ok());
  EXPECT_FALSE(ParseHistoryQuery("", "", "0", now_, tz_).ok());
  EXPECT_FALSE(ParseHistoryQuery("", "", "31", now_, tz_).ok());
  EXPECT_FALSE(ParseHistoryQuery("", "", "x", now_, tz_).ok());
  auto bad = ParseHistoryQuery("a\r\nb", "", "", now_, tz_);
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
}

TEST_F(HistoryTimeTest, FormatClock) {
  EXPECT_EQ(FormatClock(1796137200 * kSec, tz_), "16:00:00");
}

}  // namespace
}  // namespace redline
