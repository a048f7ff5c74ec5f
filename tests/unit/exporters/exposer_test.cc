// The Exposer behind a web config, on a loopback port: basic auth, headers
// and TLS as a client sees them. No privileges needed.
#include "exporters/exposer.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "exporters/basic_auth.h"
#include "exporters/registry.h"
#include "gtest/gtest.h"
#include "tests/unit/exporters/web_fixtures.h"

namespace redline::prom {
namespace {

using web_fixtures::kAliceHash2y;
using web_fixtures::kCertPem;
using web_fixtures::kKeyPem;

WebConfig Tls(int min_version = kTls12) {
  WebConfig w;
  w.tls.enabled = true;
  w.tls.cert = {"server.crt", "test: cert_file", kCertPem};
  w.tls.key = {"server.key", "test: key_file", kKeyPem};
  w.tls.min_version = min_version;
  return w;
}

class ExposerTest : public ::testing::Test {
 protected:
  void Start(const WebConfig& web) {
    ASSERT_TRUE(exposer_.Secure(web).ok());
    auto registry = std::make_shared<Registry>();
    registry->AddCounter("test_total", "A counter.").Add({}).Increment();
    registry_ = registry;
    exposer_.RegisterCollectable(registry_);
    exposer_.RegisterHandler("/api/v1/snapshot", [] {
      return std::make_pair(std::string("application/json"), std::string("{}"));
    });
    ASSERT_TRUE(exposer_.Start({"127.0.0.1", 0}).ok());
  }

  std::shared_ptr<Registry> registry_;
  Exposer exposer_;
};

TEST_F(ExposerTest, NoWebConfigIsPlainOpenHttp) {
  Start(WebConfig{});
  EXPECT_FALSE(exposer_.tls());
  EXPECT_FALSE(exposer_.basic_auth());
  httplib::Client cli("127.0.0.1", exposer_.port());
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("test_total 1"), std::string::npos);
}

TEST_F(ExposerTest, AcceptHeaderChoosesProtobuf) {
  Start(WebConfig{});
  httplib::Client cli("127.0.0.1", exposer_.port());
  auto pb = cli.Get("/metrics",
                    {{"Accept",
                      "application/vnd.google.protobuf;proto=io.prometheus."
                      "client.MetricFamily;encoding=delimited;q=0.8,"
                      "text/plain;version=0.0.4;q=0.5"}});
  ASSERT_TRUE(pb);
  EXPECT_EQ(pb->status, 200);
  EXPECT_EQ(pb->get_header_value("Content-Type"),
            "application/vnd.google.protobuf; "
            "proto=io.prometheus.client.MetricFamily; encoding=delimited");
  // One delimited family: its length, name "test_total", ...
  ASSERT_GT(pb->body.size(), 12u);
  EXPECT_EQ(static_cast<size_t>(pb->body[0]), pb->body.size() - 1);
  EXPECT_EQ(pb->body.substr(1, 12), std::string("\x0a\x0atest_total"));
  // The text answer is served alongside, not replaced by, the protobuf one.
  auto text = cli.Get("/metrics", {{"Accept", "text/plain"}});
  ASSERT_TRUE(text);
  EXPECT_EQ(text->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(text->body.find("test_total 1"), std::string::npos);
}

// A histogram with classic and native buckets, as the agent exports them.
class NativeCollectable : public Collectable {
 public:
  std::vector<MetricFamily> Collect() const override {
    ClientMetric m;
    m.histogram.sample_count = 2;
    m.histogram.bucket = {{1, 0.5}, {2, 1.0}};
    m.histogram.native = true;
    m.histogram.positive_span = {{0, 1}};
    m.histogram.positive_delta = {2};
    return {{"h_seconds", "", MetricType::kHistogram, {m}}};
  }
};

TEST(ExposerNativeTest, NativeOnlyDropsClassicBucketsFromProtobufOnly) {
  for (bool classic : {true, false}) {
    Exposer exposer;
    exposer.set_classic_histograms(classic);
    auto c = std::make_shared<NativeCollectable>();
    exposer.RegisterCollectable(c);
    ASSERT_TRUE(exposer.Start({"127.0.0.1", 0}).ok());
    httplib::Client cli("127.0.0.1", exposer.port());
    auto pb = cli.Get("/metrics", {{"Accept",
                                    "application/vnd.google.protobuf;proto="
                                    "io.prometheus.client.MetricFamily;"
                                    "encoding=delimited"}});
    ASSERT_TRUE(pb);
    // Histogram.bucket is field 3 of the histogram: a bucket {1: count,
    // 2: bound} starts "\x1a\x0b\x08". Its upper bound 0.5 as a double.
    const std::string half("\x11\x00\x00\x00\x00\x00\x00\xe0\x3f", 9);
    EXPECT_EQ(pb->body.find(half) != std::string::npos, classic)
        << "classic=" << classic;
    // Native deltas (field 13, packed) are always there: zigzag(2) = 4.
    EXPECT_NE(pb->body.find(std::string("\x6a\x01\x04", 3)), std::string::npos);
    auto text = cli.Get("/metrics");
    ASSERT_TRUE(text);
    EXPECT_NE(text->body.find("h_seconds_bucket{le=\"0.5\"} 1\n"),
              std::string::npos)
        << "text always carries the classic buckets";
  }
}

TEST_F(ExposerTest, BasicAuthOnEveryPathButHealthz) {
  WebConfig web;
  web.users = {{"alice", kAliceHash2y}};
  web.headers = {{"X-Frame-Options", "deny"}};
  Start(web);
  EXPECT_TRUE(exposer_.basic_auth());
  httplib::Client cli("127.0.0.1", exposer_.port());
  for (const char* path : {"/metrics", "/api/v1/snapshot", "/nothing"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), kBasicRealm);
    EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
    EXPECT_EQ(res->body.find("test_total"), std::string::npos);
  }
  auto health = cli.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  cli.set_basic_auth("alice", "wrong");
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  cli.set_basic_auth("alice", "secret");
  res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("test_total 1"), std::string::npos);
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
  res = cli.Get("/api/v1/snapshot");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = cli.Get("/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(ExposerTest, QueryHandlerSeesParamsAndSetsStatus) {
  exposer_.RegisterQueryHandler("/q", [](const Exposer::Query& q) {
    auto it = q.find("from");
    if (it == q.end() || it->second != "1 2") {
      return Exposer::Reply{400, "text/plain", "from: bad\n"};
    }
    return Exposer::Reply{200, "application/json", "{}"};
  });
  ASSERT_TRUE(exposer_.Start({"127.0.0.1", 0}).ok());
  httplib::Client cli("127.0.0.1", exposer_.port());
  auto ok = cli.Get("/q?from=1%202");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{}");
  EXPECT_EQ(ok->get_header_value("Content-Type"), "application/json");
  auto bad = cli.Get("/q?from=junk");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, "from: bad\n");
}

TEST_F(ExposerTest, SecureAfterHandlersIsRefused) {
  exposer_.RegisterHandler("/x", [] {
    return std::make_pair(std::string("text/plain"), std::string("x"));
  });
  EXPECT_FALSE(exposer_.Secure(WebConfig{}).ok());
}

// A client trusting the fixture certificate, which names 127.0.0.1.
std::unique_ptr<httplib::SSLClient> TlsClient(int port) {
  auto cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  X509_STORE* store = X509_STORE_new();
  BIO* bio = BIO_new_mem_buf(kCertPem, -1);
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(store, ca);
  X509_free(ca);
  BIO_free(bio);
  cli->set_ca_cert_store(store);  // takes ownership
  cli->enable_server_certificate_verification(true);
  return cli;
}

TEST_F(ExposerTest, Tls) {
  WebConfig web = Tls();
  web.users = {{"alice", kAliceHash2y}};
  Start(web);
  EXPECT_TRUE(exposer_.tls());
  auto cli = TlsClient(exposer_.port());
  cli->set_basic_auth("alice", "secret");
  auto res = cli->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("test_total 1"), std::string::npos);

  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", exposer_.port());
  plain.set_read_timeout(2);
  auto p = plain.Get("/healthz");
  EXPECT_FALSE(p && p->status == 200);
}

TEST_F(ExposerTest, TlsMinVersion) {
  Start(Tls(kTls13));
  auto old = TlsClient(exposer_.port());
  SSL_CTX_set_max_proto_version(old->ssl_context(), TLS1_2_VERSION);
  EXPECT_FALSE(old->Get("/healthz"));
  auto cli = TlsClient(exposer_.port());
  auto res = cli->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace redline::prom
