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
  // A run of native buckets: `offset` indexes after the previous span's
  // end (after index 0 for the first span), `length` buckets long.
  struct BucketSpan {
    int32_t offset = 0;
    uint32_t length = 0;
    bool operator==(const BucketSpan&) const = default;
  };
  struct Histogram {
    uint64_t sample_count = 0;
    double sample_sum = 0.0;
    // Cumulative, ascending upper bounds. A final +Inf bucket is written by
    // the serializer from sample_count when it is not present here.
    std::vector<Bucket> bucket;
    // Native histogram (protobuf exposition only; the text format has no
    // way to carry it): bucket i of `schema` is (2^((i-1)/2^schema),
    // 2^(i/2^schema)]. positive_delta holds the first bucket's count, then
    // each next bucket's count minus the previous one's.
    bool native = false;
    int32_t schema = 0;
    double zero_threshold = 0.0;
    uint64_t zero_count = 0;
    std::vector<BucketSpan> positive_span;
    std::vector<int64_t> positive_delta;
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
