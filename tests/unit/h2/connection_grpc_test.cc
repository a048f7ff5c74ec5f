// gRPC over the connection decoder: grpc-status from trailers or from a
// trailers-only response, the operation from :path, streaming calls; and
// SETTINGS_HEADER_TABLE_SIZE applied to the right decoder at the right
// frame.
#include <string>

#include "agent/h2/connection.h"
#include "gtest/gtest.h"
#include "tests/unit/h2/h2_test_session.h"

namespace redline::h2 {
namespace {

constexpr Direction kC2S = Direction::kClientToServer;
constexpr Direction kS2C = Direction::kServerToClient;

Fields Call(const std::string& path) {
  return {{":method", "POST"},   {":scheme", "http"},
          {":path", path},       {":authority", "svc:50051"},
          {"te", "trailers"},    {"content-type", "application/grpc"},
          {"grpc-timeout", "1S"}};
}

Fields Ok() {
  return {{":status", "200"}, {"content-type", "application/grpc"}};
}

Fields Trailers(int code) {
  return {{"grpc-status", std::to_string(code)}, {"grpc-message", "m"}};
}

TEST(ConnectionGrpc, UnaryOkWithTrailers) {
  Session s;
  s.Headers(kC2S, 1, Call("/helloworld.Greeter/SayHello"));
  s.Data(kC2S, 1, true);
  s.Headers(kS2C, 1, Ok());  // t=3000
  s.Data(kS2C, 1, false);
  s.Headers(kS2C, 1, Trailers(0), /*end=*/true);  // t=5000
  ASSERT_EQ(s.done.size(), 1u);
  const CompletedRequest& r = s.done[0];
  EXPECT_TRUE(r.is_grpc);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.grpc_status, 0);
  EXPECT_EQ(r.grpc_service, "helloworld.Greeter");
  EXPECT_EQ(r.grpc_method, "SayHello");
  EXPECT_EQ(r.response_ns, 3000u);
  EXPECT_EQ(r.end_ns, 5000u);
  EXPECT_EQ(r.DurationNs(), 2000u);
}

TEST(ConnectionGrpc, ANonGrpcHeadDecidesTheCall) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Store/Get"), true);
  s.Headers(kS2C, 1, {{":status", "502"}, {"content-type", "text/html"}});
  ASSERT_EQ(s.done.size(), 1u);  // its body's end is not needed
  EXPECT_EQ(s.done[0].status, 502);
  EXPECT_EQ(s.done[0].grpc_status, -1);
  s.Headers(kC2S, 3, Call("/pkg.Store/Get"), true);
  s.Headers(kS2C, 3, {{":status", "200"}, {"content-type", "text/html"}});
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_EQ(s.done[1].status, 200);
  EXPECT_EQ(s.conn.open_streams(), 0u);
}

TEST(ConnectionGrpc, NoTrailersCompletesAtClose) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Store/Get"), true);  // t=1000
  s.Headers(kS2C, 1, Ok());                          // t=2000
  s.Data(kS2C, 1, true);  // ends on DATA (the kernel would not say)
  s.Headers(kC2S, 3, Call("/pkg.Store/Get"), true);  // no answer
  EXPECT_TRUE(s.done.empty());
  std::vector<CompletedRequest> done;
  s.conn.OnClose(9000, &done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].stream_id, 1u);
  EXPECT_EQ(done[0].grpc_status, -1);
  EXPECT_FALSE(done[0].reset);
  EXPECT_EQ(done[0].DurationNs(), 1000u);
  EXPECT_EQ(done[0].end_ns, 9000u);
}

TEST(ConnectionGrpc, UnaryErrorWithTrailers) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Store/Get"), true);
  s.Headers(kS2C, 1, Ok());
  s.Headers(kS2C, 1, Trailers(5), true);  // NOT_FOUND
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].status, 200);
  EXPECT_EQ(s.done[0].grpc_status, 5);
}

TEST(ConnectionGrpc, TrailersOnlyResponse) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Store/Get"), true);
  Fields only = Ok();
  only.push_back({"grpc-status", "14"});  // UNAVAILABLE
  s.Headers(kS2C, 1, only, true);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].grpc_status, 14);
  EXPECT_EQ(s.done[0].status, 200);
  EXPECT_EQ(s.done[0].response_ns, s.done[0].end_ns);
}

TEST(ConnectionGrpc, BidirectionalStreamingCall) {
  Session s;
  s.Headers(kC2S, 1, Call("/chat.Room/Talk"));
  s.Headers(kS2C, 1, Ok());
  s.Headers(kC2S, 3, Call("/pkg.Store/Get"), true);  // a unary alongside
  for (int i = 0; i < 5; ++i) {
    s.Data(kC2S, 1, false);
    s.Data(kS2C, 1, false);
  }
  s.Headers(kS2C, 3, Ok());
  s.Headers(kS2C, 3, Trailers(0), true);
  s.Data(kC2S, 1, true);  // the client's half closes: not the end
  EXPECT_EQ(s.done.size(), 1u);
  s.Headers(kS2C, 1, Trailers(1), true);  // CANCELLED
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_EQ(s.done[1].grpc_service, "chat.Room");
  EXPECT_EQ(s.done[1].grpc_method, "Talk");
  EXPECT_EQ(s.done[1].grpc_status, 1);
  EXPECT_EQ(s.done[1].DurationNs(), 1000u);  // to the response headers
  EXPECT_GT(s.done[1].end_ns - s.done[1].start_ns, 10000u);
}

TEST(ConnectionGrpc, NotGrpcHasNoOperation) {
  Session s;
  s.Headers(kC2S, 1, {{":method", "GET"}, {":path", "/pkg.Svc/M"}}, true);
  s.Headers(kS2C, 1, Ok(), true);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_FALSE(s.done[0].is_grpc);
  EXPECT_EQ(s.done[0].grpc_service, "");
}

// The client lowers the server's table to 0. Until the server's ACK its
// blocks may still use the old table; after it, the server's next block
// must start with a size update, and only the server->client decoder
// changes.
TEST(ConnectionSettings, LoweredTableSizeAppliesAtThePeersAck) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Svc/A"), true);
  s.Headers(kS2C, 1, Ok());
  EXPECT_GT(s.server_encoder.table_size(), 0u);
  s.Settings(kC2S, kSettingsHeaderTableSize, 0);
  // Still under the old table (reused entries): before the ACK.
  s.Headers(kS2C, 1, Trailers(0), true);
  s.SettingsAck(kS2C);
  s.server_encoder.ChangeTableSize(0);
  s.Headers(kC2S, 3, Call("/pkg.Svc/A"), true);  // client table unchanged
  s.Headers(kS2C, 3, Ok());
  s.Headers(kS2C, 3, Trailers(2), true);
  ASSERT_EQ(s.done.size(), 2u) << s.conn.desync_reason();
  EXPECT_EQ(s.done[1].grpc_status, 2);
  EXPECT_EQ(s.server_encoder.table_size(), 0u);
}

TEST(ConnectionSettings, EncoderIgnoringTheLoweredSizeDesyncs) {
  Session s;
  s.Headers(kC2S, 1, Call("/pkg.Svc/A"), true);
  s.Headers(kS2C, 1, Ok(), true);
  s.Settings(kC2S, kSettingsHeaderTableSize, 0);
  s.SettingsAck(kS2C);
  // No ChangeTableSize on the server's encoder: no size update comes.
  s.Headers(kC2S, 3, Call("/pkg.Svc/A"), true);
  EXPECT_FALSE(s.conn.desynced());  // the client's decoder is not affected
  s.Headers(kS2C, 3, Ok(), true);
  EXPECT_TRUE(s.conn.desynced());
  EXPECT_EQ(s.done.size(), 1u);
}

TEST(ConnectionSettings, ServerSettingsBindTheClientEncoder) {
  Session s;
  s.Settings(kS2C, kSettingsHeaderTableSize, 0);
  s.SettingsAck(kC2S);
  s.client_encoder.ChangeTableSize(0);
  s.Headers(kC2S, 1, Call("/pkg.Svc/A"), true);
  s.Headers(kS2C, 1, Ok(), true);
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
}

// A larger size may be used by the encoder as soon as it read the
// SETTINGS, possibly before its ACK is on the wire.
TEST(ConnectionSettings, RaisedTableSizeAppliesAtOnce) {
  Session s;
  Encoder big(65536);  // this server's encoder may use 64 KiB
  s.Settings(kC2S, kSettingsHeaderTableSize, 65536);
  big.ChangeTableSize(65536);  // read, not yet acknowledged
  s.Headers(kC2S, 1, Call("/pkg.Svc/A"), true);
  Fields large = Ok();
  large.push_back({"x-large", std::string(5000, 'v')});  // > 4096: indexed
  s.Frame(kS2C, kFrameHeaders, kFlagEndHeaders, 1, big.Encode(large));
  EXPECT_GT(big.table_size(), 4096u);
  s.SettingsAck(kS2C);
  Fields trailers = Trailers(0);
  trailers.push_back({"x-large", std::string(5000, 'v')});  // by index
  s.Frame(kS2C, kFrameHeaders, kFlagEndHeaders | kFlagEndStream, 1,
          big.Encode(trailers));
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
  EXPECT_EQ(s.done[0].grpc_status, 0);
}

TEST(ConnectionSettings, AcksMatchSettingsInOrder) {
  Session s;
  s.Settings(kC2S, 0x3 /*MAX_CONCURRENT_STREAMS*/, 100);
  s.Settings(kC2S, kSettingsHeaderTableSize, 0);
  s.SettingsAck(kS2C);  // acknowledges the first: no change yet
  s.Headers(kC2S, 1, Call("/pkg.Svc/A"), true);
  s.Headers(kS2C, 1, Ok());  // old table still allowed
  s.SettingsAck(kS2C);
  s.server_encoder.ChangeTableSize(0);
  s.Headers(kS2C, 1, Trailers(0), true);
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
}

}  // namespace
}  // namespace redline::h2
