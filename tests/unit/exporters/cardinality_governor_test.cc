#include "exporters/cardinality_governor.h"

#include <map>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace redline::prom {
namespace {

MetricFamily Counters(const std::map<std::string, double>& values) {
  MetricFamily f{"c_total", "h", MetricType::kCounter, {}};
  for (const auto& [comm, v] : values) {
    ClientMetric m;
    m.label = {{"comm", comm}, {"syscall", "read"}};
    m.counter.value = v;
    f.metric.push_back(m);
  }
  return f;
}

std::map<std::string, double> ByComm(const MetricFamily& f) {
  std::map<std::string, double> out;
  for (const auto& m : f.metric) out[m.label[0].value] = m.counter.value;
  return out;
}

double Sum(const MetricFamily& f) {
  double s = 0;
  for (const auto& m : f.metric) s += m.counter.value;
  return s;
}

TEST(CardinalityGovernor, UnderBudgetChangesNothing) {
  CardinalityGovernor g(3);
  MetricFamily f = Counters({{"a", 1}, {"b", 2}, {"c", 3}});
  g.Apply(&f);
  EXPECT_EQ(ByComm(f), (std::map<std::string, double>{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_EQ(g.folded_total().at("c_total"), 0u);
}

TEST(CardinalityGovernor, FoldsSmallestIntoOneOtherSeries) {
  CardinalityGovernor g(2);
  MetricFamily f = Counters({{"a", 1}, {"b", 20}, {"c", 30}, {"d", 2}});
  g.Apply(&f);
  ASSERT_EQ(f.metric.size(), 3u);
  auto by = ByComm(f);
  EXPECT_EQ(by["b"], 20);
  EXPECT_EQ(by["c"], 30);
  EXPECT_EQ(by["[other]"], 3);
  EXPECT_EQ(f.metric.back().label[1].value, "[other]");  // every label
  EXPECT_EQ(g.folded_total().at("c_total"), 2u);
}

TEST(CardinalityGovernor, FiveThousandCommsKeepBudgetPlusOneAndTotal) {
  CardinalityGovernor g(2000);
  std::map<std::string, double> v;
  for (int i = 0; i < 5000; ++i) v["comm" + std::to_string(i)] = i % 97 + 1;
  MetricFamily f = Counters(v);
  const double want = Sum(f);
  g.Apply(&f);
  EXPECT_EQ(f.metric.size(), 2001u);
  EXPECT_DOUBLE_EQ(Sum(f), want);
  EXPECT_EQ(g.folded_total().at("c_total"), 3000u);
}

TEST(CardinalityGovernor, AdmittedAfterFoldRestartsAndOtherNeverDrops) {
  CardinalityGovernor g(1);
  MetricFamily f = Counters({{"a", 10}, {"b", 4}});
  g.Apply(&f);  // a admitted, b folded
  EXPECT_EQ(ByComm(f)["[other]"], 4);
  // a goes away (e.g. its pid-labelled series ended): b gets the place.
  f = Counters({{"b", 6}});
  g.Apply(&f);
  auto by = ByComm(f);
  EXPECT_EQ(by["b"], 0);        // restarts: its past is in [other]
  EXPECT_EQ(by["[other]"], 6);  // b's past; a's series simply ended
  f = Counters({{"b", 9}});
  g.Apply(&f);
  by = ByComm(f);
  EXPECT_EQ(by["b"], 3);
  EXPECT_EQ(by["[other]"], 6);
  // b leaves too: [other] keeps what b had put there.
  f = Counters({{"c", 1}});
  g.Apply(&f);
  by = ByComm(f);
  EXPECT_EQ(by["c"], 1);
  EXPECT_EQ(by["[other]"], 6);
}

TEST(CardinalityGovernor, FoldsHistogramsBucketByBucket) {
  CardinalityGovernor g(1);
  MetricFamily f{"d_seconds", "h", MetricType::kHistogram, {}};
  for (int i = 0; i < 3; ++i) {
    ClientMetric m;
    m.label = {{"comm", std::string(1, 'a' + i)}};
    m.histogram.sample_count = 10 * (i + 1);
    m.histogram.sample_sum = i + 1.0;
    m.histogram.bucket = {{static_cast<uint64_t>(i + 1), 0.5},
                          {static_cast<uint64_t>(10 * (i + 1)), 1.0}};
    f.metric.push_back(m);
  }
  g.Apply(&f);
  ASSERT_EQ(f.metric.size(), 2u);
  const auto& other = f.metric.back().histogram;
  EXPECT_EQ(f.metric.front().label[0].value, "c");
  EXPECT_EQ(other.sample_count, 30u);
  EXPECT_DOUBLE_EQ(other.sample_sum, 3.0);
  EXPECT_EQ(other.bucket[0].cumulative_count, 3u);
  EXPECT_EQ(other.bucket[1].cumulative_count, 30u);
}

// What Prometheus's increase() adds up between two scrapes: the growth of
// the series present in both (a new series's first value is not counted).
double PromIncrease(const std::map<std::string, double>& prev,
                    const std::map<std::string, double>& cur) {
  double inc = 0;
  for (const auto& [k, v] : cur) {
    auto p = prev.find(k);
    if (p != prev.end()) inc += v - p->second;
  }
  return inc;
}

// Random growth, arrivals and (in the second half) departures: no exported
// series ever goes down, the family never exceeds budget + 1, and in
// rounds of growth alone, where the budget's members change (a folded
// series grows past twice a kept one), a rate over the exported series
// sees exactly the true growth, less the demoted series' growth of that
// one round: [other] takes a demoted series's growth, never its past (a
// jump that would look like a burst of calls).
TEST(CardinalityGovernor, RandomChurnIsMonotonicBoundedAndRateContinuous) {
  std::mt19937 rng(7);
  CardinalityGovernor g(20);
  std::map<std::string, double> truth, last_truth, last_seen;
  int demotions = 0, checked = 0;
  for (int round = 0; round < 400; ++round) {
    const bool arrivals = round % 4 == 0;
    if (arrivals) {
      for (int i = 0; i < 5; ++i) {
        truth["n" + std::to_string(rng() % 200)] += rng() % 50;
      }
    }
    // Growth: a few series grow fast in each round, so places change.
    for (auto& [k, v] : truth) v += rng() % 3;
    if (!arrivals && !truth.empty() && rng() % 2 == 0) {
      // A burst: one series (often a folded one) may pass twice a kept one.
      std::next(truth.begin(), rng() % truth.size())->second +=
          1000 + rng() % 5000;
    }
    const bool departures = arrivals && round >= 200 && !truth.empty();
    if (departures) truth.erase(std::next(truth.begin(), rng() % truth.size()));
    MetricFamily f = Counters(truth);
    const double want = Sum(f);
    g.Apply(&f);
    ASSERT_LE(f.metric.size(), 21u);
    if (round == 0) EXPECT_DOUBLE_EQ(Sum(f), want);
    auto by = ByComm(f);
    for (const auto& [k, v] : by) {
      auto prev = last_seen.find(k);
      if (prev != last_seen.end()) {
        ASSERT_GE(v, prev->second) << k << " went down in round " << round;
      }
    }
    if (!arrivals && round > 0) {
      double lost = 0;  // the demoted series' growth of this round
      for (const auto& [k, v] : last_seen) {
        if (k != "[other]" && by.count(k) == 0 && truth.count(k) != 0) {
          lost += truth[k] - last_truth[k];
          ++demotions;
        }
      }
      EXPECT_DOUBLE_EQ(PromIncrease(last_seen, by),
                       PromIncrease(last_truth, truth) - lost)
          << "round " << round;
      ++checked;
    }
    // A series absent from a scrape ended; if it comes back it may restart.
    last_seen = by;
    last_truth = truth;
  }
  EXPECT_GT(demotions, 10) << "the test must move series out of the budget";
  EXPECT_GT(checked, 250);
}

}  // namespace
}  // namespace redline::prom
