#include "exporters/series_budget.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace redline::prom {
namespace {

TEST(AllocateSeries, WholeLevelsFirstThenShareThenNone) {
  // Priorities 0, 1, 1, 2; demands 10, 30, 10, 50.
  const std::vector<int> prio = {0, 1, 1, 2};
  const std::vector<size_t> demand = {10, 30, 10, 50};
  EXPECT_EQ(AllocateSeries(prio, demand, 1000),
            (std::vector<size_t>{10, 30, 10, 50}));
  EXPECT_EQ(AllocateSeries(prio, demand, 100),
            (std::vector<size_t>{10, 30, 10, 50}));
  // Level 1 fits (40 of the 89 left), level 2 gets the 49 left.
  EXPECT_EQ(AllocateSeries(prio, demand, 99),
            (std::vector<size_t>{10, 30, 10, 49}));
  // Level 1 shares 20 as 30:10 (15, 5); level 2 none.
  EXPECT_EQ(AllocateSeries(prio, demand, 30),
            (std::vector<size_t>{10, 15, 5, 0}));
  // 21 left for 30:10: 15.75 and 5.25 floored, the remainder to the larger.
  EXPECT_EQ(AllocateSeries(prio, demand, 31),
            (std::vector<size_t>{10, 16, 5, 0}));
  EXPECT_EQ(AllocateSeries(prio, demand, 0),
            (std::vector<size_t>{0, 0, 0, 0}));
}

MetricFamily Family(const std::string& name, MetricType type, int n,
                    double base) {
  MetricFamily f{name, "h", type, {}};
  for (int i = 0; i < n; ++i) {
    ClientMetric m;
    m.label = {{"comm", "w" + std::to_string(i)}};
    if (type == MetricType::kGauge) {
      m.gauge.value = 1;
    } else if (type == MetricType::kHistogram) {
      m.histogram.sample_count = static_cast<uint64_t>(base + i);
      m.histogram.sample_sum = base + i;
      m.histogram.bucket = {{static_cast<uint64_t>(base + i), 1.0}};
    } else {
      m.counter.value = base + i;
    }
    f.metric.push_back(m);
  }
  return f;
}

size_t LabelSets(const std::vector<MetricFamily>& fams) {
  size_t n = 0;
  for (const auto& f : fams) n += f.metric.size();
  return n;
}

double Total(const MetricFamily& f) {
  double s = 0;
  for (const auto& m : f.metric) {
    s += f.type == MetricType::kHistogram
             ? static_cast<double>(m.histogram.sample_count)
             : m.counter.value;
  }
  return s;
}

TEST(SeriesBudget, PriorityOrderAndOneOtherPerFoldedFamily) {
  SeriesBudget b(100);
  std::vector<MetricFamily> fams = {
      Family("redline_tracked", MetricType::kGauge, 5, 0),
      Family("redline_x_requests_total", MetricType::kCounter, 50, 1),
      Family("redline_syscall_duration_seconds", MetricType::kHistogram, 100,
             1)};
  const double hist_total = Total(fams[2]);
  std::map<std::string, uint64_t> folded;
  b.Apply(&fams, 0, &folded);
  // 5 gauges + 2 places for [other]: 93 kept, all 50 requests first.
  EXPECT_EQ(fams[0].metric.size(), 5u);
  EXPECT_EQ(fams[1].metric.size(), 50u);
  ASSERT_EQ(fams[2].metric.size(), 44u);  // 43 + [other]
  EXPECT_EQ(fams[2].metric.back().label[0].value, kOtherLabelValue);
  EXPECT_LE(LabelSets(fams), 100u);
  EXPECT_EQ(Total(fams[2]), hist_total) << "kept + [other] = all";
  EXPECT_EQ(folded["redline_syscall_duration_seconds"], 57u);
  EXPECT_EQ(folded.count("redline_x_requests_total"), 0u);
  // The smallest were folded: w0..w56.
  EXPECT_EQ(fams[2].metric.front().label[0].value, "w57");
}

TEST(SeriesBudget, OperatorLevelsOverrideTheDefaults) {
  auto levels = ParseSeriesPriorities(
      "redline_syscall_duration_seconds=0,redline_x_requests_total=5");
  ASSERT_TRUE(levels.ok()) << levels.status();
  SeriesBudget b(100, SeriesPriorityWith(*levels));
  std::vector<MetricFamily> fams = {
      Family("redline_tracked", MetricType::kGauge, 5, 0),
      Family("redline_x_requests_total", MetricType::kCounter, 50, 1),
      Family("redline_syscall_duration_seconds", MetricType::kHistogram, 100,
             1)};
  std::map<std::string, uint64_t> folded;
  b.Apply(&fams, 0, &folded);
  // Histograms first now: 93 places for 100 histograms, none for requests
  // (but their [other] place: nothing is lost).
  ASSERT_EQ(fams[2].metric.size(), 94u);  // 93 + [other]
  ASSERT_EQ(fams[1].metric.size(), 1u);   // [other] alone
  EXPECT_EQ(fams[1].metric[0].label[0].value, kOtherLabelValue);
  EXPECT_EQ(fams[1].metric[0].counter.value, 50.0 * 51 / 2);
  EXPECT_EQ(folded["redline_x_requests_total"], 50u);
}

TEST(ParseSeriesPriorities, Errors) {
  for (const char* bad : {"", "a", "a=", "a=10", "a=-1", "1a=1", "a b=1",
                          "a=1,", "=1"}) {
    auto e = ParseSeriesPriorities(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(std::string(e.status().message()).find('\n'),
              std::string::npos);
  }
  auto ok = ParseSeriesPriorities("a:b_c=9,d=0");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::map<std::string, int>{{"a:b_c", 9}, {"d", 0}}));
}

TEST(SeriesBudget, ReservedAndTheFirstFoldsOther) {
  SeriesBudget b(30);
  MetricFamily f = Family("redline_a_total", MetricType::kCounter, 40, 1);
  // As the per-family governor leaves it: an [other] series last.
  ClientMetric other;
  other.label = {{"comm", kOtherLabelValue}};
  other.counter.value = 1000;
  f.metric.push_back(other);
  std::vector<MetricFamily> fams = {f};
  const double total = Total(fams[0]);
  std::map<std::string, uint64_t> folded;
  b.Apply(&fams, 10, &folded);  // 10 reserved, 1 for [other]: 19 kept
  ASSERT_EQ(fams[0].metric.size(), 20u);
  EXPECT_EQ(fams[0].metric.back().label[0].value, kOtherLabelValue);
  EXPECT_EQ(Total(fams[0]), total) << "one [other], holding both folds";
  int others = 0;
  for (const auto& m : fams[0].metric) {
    others += m.label[0].value == kOtherLabelValue;
  }
  EXPECT_EQ(others, 1);
}

// Many more workloads than the budget, growing and coming and going: never
// over it, [other] never goes down, and a series present in two
// consecutive scrapes never goes down.
TEST(SeriesBudget, NeverOverAndNothingGoesDown) {
  SeriesBudget b(200);
  std::mt19937 rng(7);
  std::map<std::string, double> calls, durations;  // per workload
  std::map<std::string, double> last;  // family \0 labels -> value
  double last_other[2] = {0, 0};
  for (int scrape = 0; scrape < 60; ++scrape) {
    for (int i = 0; i < 20; ++i) {  // new workloads and more calls
      const std::string w = "w" + std::to_string(rng() % 400);
      calls[w] += 1 + rng() % 100;
      durations[w] += 1 + rng() % 10;
    }
    if (scrape % 7 == 6) calls.erase(calls.begin());  // one exits
    std::vector<MetricFamily> fams(3);
    fams[0] = {"redline_tracked", "h", MetricType::kGauge, {}};
    fams[1] = {"redline_syscalls_total", "h", MetricType::kCounter, {}};
    fams[2] = {"redline_syscall_duration_seconds", "h",
               MetricType::kHistogram, {}};
    for (int i = 0; i < 10; ++i) {
      ClientMetric g;
      g.label = {{"i", std::to_string(i)}};
      fams[0].metric.push_back(g);
    }
    for (const auto& [w, v] : calls) {
      ClientMetric m;
      m.label = {{"comm", w}};
      m.counter.value = v;
      fams[1].metric.push_back(m);
      ClientMetric h;
      h.label = {{"comm", w}};
      h.histogram.sample_count = static_cast<uint64_t>(durations[w]);
      h.histogram.bucket = {{h.histogram.sample_count, 1.0}};
      fams[2].metric.push_back(h);
    }
    std::map<std::string, uint64_t> folded;
    b.Apply(&fams, 5, &folded);
    ASSERT_LE(LabelSets(fams) + 5, 200u) << "scrape " << scrape;
    std::map<std::string, double> now;
    for (int fi = 1; fi <= 2; ++fi) {
      for (const auto& m : fams[fi].metric) {
        const double v = fi == 1 ? m.counter.value
                                 : static_cast<double>(
                                       m.histogram.sample_count);
        const std::string& comm = m.label[0].value;
        if (comm == kOtherLabelValue) {
          EXPECT_GE(v, last_other[fi - 1]) << "scrape " << scrape;
          last_other[fi - 1] = v;
          continue;
        }
        const std::string key = std::to_string(fi) + comm;
        auto it = last.find(key);
        if (it != last.end()) EXPECT_GE(v, it->second) << key;
        now[key] = v;
      }
    }
    last = std::move(now);
  }
  EXPECT_GT(calls.size(), 200u) << "the test must overflow the budget";
}

}  // namespace
}  // namespace redline::prom
