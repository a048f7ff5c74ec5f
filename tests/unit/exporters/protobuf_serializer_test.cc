// The protobuf exposition, checked three ways: byte for byte against
// hand-assembled wire bytes, parsed back by code protoc generated from
// exporters/proto/metrics.proto, and decoded by Debian's `protoc --decode`.
#include "exporters/protobuf_serializer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "exporters/proto/metrics.pb.h"
#include "exporters/serializer.h"
#include "gtest/gtest.h"

namespace redline::prom {
namespace {

namespace pb = ::io::prometheus::client;

std::string Varint(uint64_t v) {
  std::string s;
  wire::AppendVarint(v, s);
  return s;
}

TEST(WireTest, Varints) {
  EXPECT_EQ(Varint(0), std::string("\x00", 1));
  EXPECT_EQ(Varint(1), "\x01");
  EXPECT_EQ(Varint(127), "\x7f");
  EXPECT_EQ(Varint(128), "\x80\x01");
  EXPECT_EQ(Varint(300), "\xac\x02");
  EXPECT_EQ(Varint(16384), std::string("\x80\x80\x01"));
  EXPECT_EQ(Varint(std::numeric_limits<uint64_t>::max()),
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST(WireTest, ZigZag) {
  EXPECT_EQ(wire::ZigZag(0), 0u);
  EXPECT_EQ(wire::ZigZag(-1), 1u);
  EXPECT_EQ(wire::ZigZag(1), 2u);
  EXPECT_EQ(wire::ZigZag(-2), 3u);
  EXPECT_EQ(wire::ZigZag(std::numeric_limits<int64_t>::max()),
            std::numeric_limits<uint64_t>::max() - 1);
  EXPECT_EQ(wire::ZigZag(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
}

MetricFamily Counter(std::string name, std::string label_value, double v) {
  MetricFamily f{std::move(name), "", MetricType::kCounter, {}};
  ClientMetric m;
  m.label = {{"x", std::move(label_value)}};
  m.counter.value = v;
  f.metric.push_back(m);
  return f;
}

TEST(ProtobufSerializerTest, CounterByteExact) {
  std::string out;
  SerializeProtobuf({Counter("a", "y", 1.0)}, true, out);
  // Metric: label {1:"x" 2:"y"}, counter {1: 1.0 as a little-endian double}.
  const std::string label("\x0a\x01x\x12\x01y", 6);
  const std::string counter("\x09\x00\x00\x00\x00\x00\x00\xf0\x3f", 9);
  const std::string metric = "\x0a" + Varint(label.size()) + label + "\x1a" +
                             Varint(counter.size()) + counter;
  const std::string family = std::string(
                                 "\x0a\x01"
                                 "a"
                                 "\x18\x00",
                                 5) +
                             "\x22" + Varint(metric.size()) + metric;
  EXPECT_EQ(out, Varint(family.size()) + family);
}

TEST(ProtobufSerializerTest, LongMessagesGetMultiByteLengths) {
  // A 200-byte label value: the label, metric and family lengths all need
  // two varint bytes, inserted before bodies already written.
  std::string out;
  SerializeProtobuf({Counter("a", std::string(200, 'v'), 2)}, true, out);
  google::protobuf::io::ArrayInputStream in(out.data(), out.size());
  pb::MetricFamily f;
  bool eof = false;
  ASSERT_TRUE(
      google::protobuf::util::ParseDelimitedFromZeroCopyStream(&f, &in, &eof));
  EXPECT_EQ(f.metric(0).label(0).value(), std::string(200, 'v'));
  EXPECT_EQ(f.metric(0).counter().value(), 2.0);
  EXPECT_EQ(static_cast<unsigned char>(out[0]),
            0x80 | ((out.size() - 2) & 0x7f));
}

// Every delimited family in `out`, parsed by the generated code.
std::vector<pb::MetricFamily> Parse(const std::string& out) {
  google::protobuf::io::ArrayInputStream in(out.data(), out.size());
  std::vector<pb::MetricFamily> fams;
  for (;;) {
    pb::MetricFamily f;
    bool eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&f, &in,
                                                                  &eof)) {
      EXPECT_TRUE(eof) << "a family did not parse";
      break;
    }
    fams.push_back(std::move(f));
  }
  return fams;
}

MetricFamily NativeHistogram() {
  MetricFamily f{
      "rl_seconds", "Latency.\nSecond line.", MetricType::kHistogram, {}};
  ClientMetric m;
  m.label = {{"comm", "nginx"}, {"syscall", "read"}};
  auto& h = m.histogram;
  h.sample_count = 7;
  h.sample_sum = 0.75;
  h.bucket = {{1, 0.25},
              {3, 0.5},
              {7, 1.0},
              {7, std::numeric_limits<double>::infinity()}};
  h.native = true;
  h.schema = 0;
  h.zero_threshold = std::ldexp(1.0, -30);
  h.zero_count = 1;
  // Buckets -1 (1), 0 (4) and 2 (1): two spans, a gap of one.
  h.positive_span = {{-1, 2}, {1, 1}};
  h.positive_delta = {1, 3, -3};
  f.metric.push_back(m);
  return f;
}

TEST(ProtobufSerializerTest, DelimitedFamiliesRoundTrip) {
  std::vector<MetricFamily> in = {Counter("c_total", "\xff", 3),
                                  NativeHistogram(),
                                  {"empty", "", MetricType::kGauge, {}}};
  ClientMetric g;
  g.gauge.value = -2.5;
  in.push_back({"g", "A gauge.", MetricType::kGauge, {g}});
  std::string out;
  SerializeProtobuf(in, true, out);
  const auto fams = Parse(out);
  ASSERT_EQ(fams.size(), 3u);  // the empty family is skipped
  EXPECT_EQ(fams[0].name(), "c_total");
  EXPECT_EQ(fams[0].type(), pb::COUNTER);
  EXPECT_EQ(fams[0].metric(0).label(0).value(), "\xEF\xBF\xBD");  // U+FFFD
  EXPECT_EQ(fams[0].metric(0).counter().value(), 3.0);

  const pb::MetricFamily& h = fams[1];
  EXPECT_EQ(h.help(), "Latency.\nSecond line.");
  EXPECT_EQ(h.type(), pb::HISTOGRAM);
  ASSERT_EQ(h.metric_size(), 1);
  EXPECT_EQ(h.metric(0).label(1).name(), "syscall");
  const pb::Histogram& ph = h.metric(0).histogram();
  EXPECT_EQ(ph.sample_count(), 7u);
  EXPECT_EQ(ph.sample_sum(), 0.75);
  ASSERT_EQ(ph.bucket_size(), 3);  // +Inf comes from sample_count
  EXPECT_EQ(ph.bucket(1).cumulative_count(), 3u);
  EXPECT_EQ(ph.bucket(1).upper_bound(), 0.5);
  EXPECT_TRUE(ph.has_schema());
  EXPECT_EQ(ph.schema(), 0);
  EXPECT_EQ(ph.zero_threshold(), std::ldexp(1.0, -30));
  EXPECT_EQ(ph.zero_count(), 1u);
  ASSERT_EQ(ph.positive_span_size(), 2);
  EXPECT_EQ(ph.positive_span(0).offset(), -1);
  EXPECT_EQ(ph.positive_span(0).length(), 2u);
  EXPECT_EQ(ph.positive_span(1).offset(), 1);
  ASSERT_EQ(ph.positive_delta_size(), 3);
  EXPECT_EQ(ph.positive_delta(2), -3);

  EXPECT_EQ(fams[2].type(), pb::GAUGE);
  EXPECT_EQ(fams[2].metric(0).gauge().value(), -2.5);
}

TEST(ProtobufSerializerTest, NativeOnlyDropsClassicBuckets) {
  std::string out;
  SerializeProtobuf({NativeHistogram()}, false, out);
  const auto fams = Parse(out);
  ASSERT_EQ(fams.size(), 1u);
  const pb::Histogram& ph = fams[0].metric(0).histogram();
  EXPECT_EQ(ph.bucket_size(), 0);
  EXPECT_EQ(ph.positive_delta_size(), 3);
  EXPECT_EQ(ph.sample_count(), 7u);
}

// What `protoc --decode` (Debian's protobuf-compiler) prints for `msg`.
std::string ProtocDecode(const std::string& msg) {
  const std::string in = ::testing::TempDir() + "/rl_family.bin";
  std::ofstream(in, std::ios::binary) << msg;
  const std::string cmd = std::string(
                              "protoc --decode=io.prometheus.client."
                              "MetricFamily -I ") +
                          REDLINE_PROTO_DIR + " metrics.proto < " + in;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  if (pclose(p) != 0) return "protoc failed: " + text;
  return text;
}

TEST(ProtobufSerializerTest, ProtocDecodesTheFamily) {
  std::string out;
  SerializeProtobuf({NativeHistogram()}, true, out);
  // Strip the delimiter: protoc reads one bare message.
  google::protobuf::io::CodedInputStream cin(
      reinterpret_cast<const uint8_t*>(out.data()), out.size());
  uint32_t len = 0;
  ASSERT_TRUE(cin.ReadVarint32(&len));
  const size_t prefix = out.size() - len;
  ASSERT_LE(prefix, 2u);
  EXPECT_EQ(ProtocDecode(out.substr(prefix)),
            R"(name: "rl_seconds"
help: "Latency.\nSecond line."
type: HISTOGRAM
metric {
  label {
    name: "comm"
    value: "nginx"
  }
  label {
    name: "syscall"
    value: "read"
  }
  histogram {
    sample_count: 7
    sample_sum: 0.75
    bucket {
      cumulative_count: 1
      upper_bound: 0.25
    }
    bucket {
      cumulative_count: 3
      upper_bound: 0.5
    }
    bucket {
      cumulative_count: 7
      upper_bound: 1
    }
    schema: 0
    zero_threshold: 9.3132257461547852e-10
    zero_count: 1
    positive_span {
      offset: -1
      length: 2
    }
    positive_span {
      offset: 1
      length: 1
    }
    positive_delta: 1
    positive_delta: 3
    positive_delta: -3
  }
}
)");
}

TEST(NegotiateTest, PrometheusWithNativeHistogramsGetsProtobuf) {
  // Prometheus 2.42's Accept header with --enable-feature=native-histograms.
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=io."
                            "prometheus.client.MetricFamily;encoding="
                            "delimited;q=0.8,application/openmetrics-text;"
                            "version=1.0.0;q=0.7,text/plain;version=0.0.4;"
                            "q=0.5,*/*;q=0.1"),
            Format::kProtobuf);
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf; "
                            "proto=io.prometheus.client.MetricFamily; "
                            "encoding=delimited"),
            Format::kProtobuf);
}

TEST(NegotiateTest, EveryoneElseGetsText) {
  EXPECT_EQ(NegotiateFormat(""), Format::kText);
  EXPECT_EQ(NegotiateFormat("*/*"), Format::kText);
  // Prometheus without native histograms.
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=1.0.0,"
                            "application/openmetrics-text;version=0.0.1;q=0.75,"
                            "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            Format::kText);
  // Text delimited or compact protobuf, another message, or q=0: not ours.
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=io."
                            "prometheus.client.MetricFamily;encoding=text"),
            Format::kText);
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=foo.Bar;"
                            "encoding=delimited"),
            Format::kText);
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=io."
                            "prometheus.client.MetricFamily;encoding="
                            "delimited;q=0,*/*"),
            Format::kText);
  // Text preferred over protobuf.
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=io."
                            "prometheus.client.MetricFamily;encoding="
                            "delimited;q=0.2,text/plain;q=0.9"),
            Format::kText);
}

TEST(SerializerTest, ContentTypes) {
  EXPECT_EQ(SerializerFor(Format::kText).content_type(),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(SerializerFor(Format::kProtobuf).content_type(),
            "application/vnd.google.protobuf; "
            "proto=io.prometheus.client.MetricFamily; encoding=delimited");
}

}  // namespace
}  // namespace redline::prom
