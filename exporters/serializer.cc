#include "exporters/serializer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporters/protobuf_serializer.h"
#include "exporters/text_serializer.h"

namespace redline::prom {
namespace {

class TextSerializer : public Serializer {
 public:
  absl::string_view content_type() const override { return kTextContentType; }
  void Serialize(const std::vector<MetricFamily>& families,
                 std::string& out) const override {
    SerializeText(families, out);
  }
};

class ProtobufSerializer : public Serializer {
 public:
  explicit ProtobufSerializer(bool classic) : classic_(classic) {}
  absl::string_view content_type() const override {
    return kProtobufContentType;
  }
  void Serialize(const std::vector<MetricFamily>& families,
                 std::string& out) const override {
    SerializeProtobuf(families, classic_, out);
  }

 private:
  const bool classic_;
};

}  // namespace

Format NegotiateFormat(absl::string_view accept) {
  double q_proto = -1, q_text = -1;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    const std::string type =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    double q = 1;
    bool metric_family = false, delimited = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      const auto [k, v] = std::pair<absl::string_view, absl::string_view>(
          absl::StrSplit(parts[i], absl::MaxSplits('=', 1)));
      const std::string key =
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(k));
      const absl::string_view val = absl::StripAsciiWhitespace(v);
      if (key == "q") {
        if (!absl::SimpleAtod(val, &q)) q = 0;
      } else if (key == "proto") {
        metric_family = val == "io.prometheus.client.MetricFamily";
      } else if (key == "encoding") {
        delimited = val == "delimited";
      }
    }
    if (type == "application/vnd.google.protobuf" && metric_family &&
        delimited) {
      q_proto = std::max(q_proto, q);
    } else if (type == "text/plain" || type == "text/*" || type == "*/*" ||
               type == "application/openmetrics-text") {
      // OpenMetrics is answered with text 0.0.4, which every such client
      // also parses.
      q_text = std::max(q_text, q);
    }
  }
  return q_proto > 0 && q_proto >= q_text ? Format::kProtobuf : Format::kText;
}

const Serializer& SerializerFor(Format format, bool classic_histograms) {
  static const TextSerializer kText;
  static const ProtobufSerializer kProtoBoth(true), kProtoNative(false);
  if (format == Format::kText) return kText;
  return classic_histograms ? kProtoBoth : kProtoNative;
}

}  // namespace redline::prom
