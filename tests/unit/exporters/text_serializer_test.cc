#include "exporters/text_serializer.h"

#include <cmath>

#include "gtest/gtest.h"

namespace redline::prom {
namespace {

TEST(TextSerializer, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  // Invalid UTF-8 becomes U+FFFD; valid multibyte passes through.
  EXPECT_EQ(EscapeLabelValue("x\xff"), "x\xEF\xBF\xBD");
  EXPECT_EQ(EscapeLabelValue("\xC3\xA9"), "\xC3\xA9");
}

TEST(TextSerializer, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(EscapeHelp("a\\b\"\n"), "a\\\\b\"\\n");
}

TEST(TextSerializer, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatValue(NAN), "NaN");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.024e-06), "1.024e-06");
}

TEST(TextSerializer, CounterAndGauge) {
  MetricFamily c{"x_total", "Help \\ me", MetricType::kCounter, {}};
  c.metric.emplace_back();
  c.metric[0].label = {{"comm", "a\"b"}};
  c.metric[0].counter.value = 3;
  MetricFamily g{"y", "Gauge.", MetricType::kGauge, {}};
  g.metric.emplace_back();
  g.metric[0].gauge.value = 1.5;
  MetricFamily empty{"z", "Empty.", MetricType::kGauge, {}};
  std::string out;
  SerializeText({c, g, empty}, out);
  EXPECT_EQ(out,
            "# HELP x_total Help \\\\ me\n"
            "# TYPE x_total counter\n"
            "x_total{comm=\"a\\\"b\"} 3\n"
            "# HELP y Gauge.\n"
            "# TYPE y gauge\n"
            "y 1.5\n");
}

TEST(TextSerializer, HistogramWritesInfSumCount) {
  MetricFamily h{"d_seconds", "D.", MetricType::kHistogram, {}};
  h.metric.emplace_back();
  h.metric[0].label = {{"k", "v"}};
  h.metric[0].histogram.bucket = {{1, 0.5}, {3, 1}};
  h.metric[0].histogram.sample_count = 4;
  h.metric[0].histogram.sample_sum = 2.5;
  std::string out;
  SerializeText({h}, out);
  EXPECT_EQ(out,
            "# HELP d_seconds D.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{k=\"v\",le=\"0.5\"} 1\n"
            "d_seconds_bucket{k=\"v\",le=\"1\"} 3\n"
            "d_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{k=\"v\"} 2.5\n"
            "d_seconds_count{k=\"v\"} 4\n");
}

}  // namespace
}  // namespace redline::prom
