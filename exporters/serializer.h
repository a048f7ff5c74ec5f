// One interface for the exposition formats, chosen per scrape from the
// client's Accept header: Prometheus asks for protobuf when native
// histograms are enabled; every other client gets text 0.0.4.
#ifndef REDLINE_EXPORTERS_SERIALIZER_H_
#define REDLINE_EXPORTERS_SERIALIZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "exporters/metric_family.h"

namespace redline::prom {

class Serializer {
 public:
  virtual ~Serializer() = default;
  virtual absl::string_view content_type() const = 0;
  // Appends the exposition of `families` to `out`.
  virtual void Serialize(const std::vector<MetricFamily>& families,
                         std::string& out) const = 0;
};

enum class Format { kText, kProtobuf };

// The format to answer a request with `accept` (the Accept header, possibly
// empty): protobuf when the client lists the delimited MetricFamily
// encoding with a quality at least that of any text it accepts.
Format NegotiateFormat(absl::string_view accept);

// The serializer for `format`. `classic_histograms` false drops the classic
// buckets of histograms that carry native buckets (protobuf only: text has
// no native histograms, so it always sends the classic ones).
const Serializer& SerializerFor(Format format, bool classic_histograms = true);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_SERIALIZER_H_
