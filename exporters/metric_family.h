// The data model of a scrape, shaped like prometheus-cpp's client_metric.h
// and metric_family.h so code written against either reads the same.
#ifndef REDLINE_EXPORTERS_METRIC_FAMILY_H_
#define REDLINE_EXPORTERS_METRIC_FAMILY_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace redline::prom {

enum class MetricType { kCounter, kGauge, kHistogram, kUntyped };

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

struct ClientMetric {
  struct Counter {
    double value = 0.0;
  };
  struct Gauge {
    double value = 0.0;
  };
  struct Bucket {
    uint64_t cumulative_count = 0;
    double upper_bound = std::numeric_limits<double>::infinity();
  };
  struct Histogram {
    uint64_t sample_count = 0;
    double sample_sum = 0.0;
    // Cumulative, ascending upper bounds. A final +Inf bucket is written by
    // the serializer from sample_count when it is not present here.
    std::vector<Bucket> bucket;
  };

  std::vector<Label> label;
  Counter counter;
  Gauge gauge;
  Histogram histogram;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kUntyped;
  std::vector<ClientMetric> metric;
};

// Anything that produces metric families when scraped.
class Collectable {
 public:
  virtual ~Collectable() = default;
  virtual std::vector<MetricFamily> Collect() const = 0;
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_METRIC_FAMILY_H_
