// Prometheus protobuf exposition: io.prometheus.client.MetricFamily
// messages, each preceded by its length as a varint ("encoding=delimited").
// Hand-written against exporters/proto/metrics.proto (the unit tests decode
// the output with the generated code and with `protoc --decode`): the agent
// needs no protobuf runtime and builds each message once, in place.
#ifndef REDLINE_EXPORTERS_PROTOBUF_SERIALIZER_H_
#define REDLINE_EXPORTERS_PROTOBUF_SERIALIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "exporters/metric_family.h"

namespace redline::prom {

inline constexpr absl::string_view kProtobufContentType =
    "application/vnd.google.protobuf; "
    "proto=io.prometheus.client.MetricFamily; encoding=delimited";

// Appends every family with at least one metric. Label values and HELP are
// sent as the text format sends them (invalid UTF-8 becomes U+FFFD: a proto
// `string` must be UTF-8 and Prometheus rejects the scrape otherwise).
// `classic_histograms` false omits the classic buckets of native histograms.
void SerializeProtobuf(const std::vector<MetricFamily>& families,
                       bool classic_histograms, std::string& out);

// Wire primitives, exposed for their tests.
namespace wire {
void AppendVarint(uint64_t v, std::string& out);
uint64_t ZigZag(int64_t v);
}  // namespace wire

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_PROTOBUF_SERIALIZER_H_
