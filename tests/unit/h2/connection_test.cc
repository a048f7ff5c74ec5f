// The connection decoder on frame sequences built with nghttp2's deflater:
// requests matched to responses, header block framing, resets, bounds and
// the cases where it must give up rather than guess.
#include "agent/h2/connection.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/h2/h2_test_session.h"

namespace redline::h2 {
namespace {

constexpr Direction kC2S = Direction::kClientToServer;
constexpr Direction kS2C = Direction::kServerToClient;

TEST(Connection, PlainRequestAndResponse) {
  Session s;
  s.Headers(kC2S, 1, Get("/index.html"), /*end_stream=*/true);  // t=1000
  s.Headers(kS2C, 1, Status(200));                              // t=2000
  // Complete at the response head: the status class is the outcome (the
  // kernel forwards no DATA frame).
  ASSERT_EQ(s.done.size(), 1u);
  s.Data(kS2C, 1, /*end_stream=*/true);            // t=3000
  s.Headers(kS2C, 1, {{"x-trailer", "t"}}, true);  // trailers: over already
  s.Rst(kC2S, 1, 0x8);
  ASSERT_EQ(s.done.size(), 1u);
  const CompletedRequest& r = s.done[0];
  EXPECT_EQ(r.stream_id, 1u);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/index.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.is_grpc);
  EXPECT_EQ(r.grpc_status, -1);
  EXPECT_EQ(r.start_ns, 1000u);
  EXPECT_EQ(r.response_ns, 2000u);
  EXPECT_EQ(r.end_ns, 2000u);
  EXPECT_EQ(r.DurationNs(), 1000u);
  EXPECT_FALSE(r.reset);
  EXPECT_EQ(s.conn.open_streams(), 0u);
  EXPECT_FALSE(s.conn.desynced());
}

TEST(Connection, AnInterimHeadDoesNotComplete) {
  Session s;
  s.Headers(kC2S, 1, Get("/a"), true);
  s.Headers(kS2C, 1, Status(103));  // early hints
  EXPECT_TRUE(s.done.empty());
  s.Headers(kS2C, 1, Status(200));
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].status, 200);
}

TEST(Connection, CloseCompletesNoPlainStream) {
  Session s;
  s.Headers(kC2S, 1, Get("/never-answered"), true);
  std::vector<CompletedRequest> done;
  s.conn.OnClose(9000, &done);
  EXPECT_TRUE(done.empty());  // no response head: nothing to count
  EXPECT_EQ(s.conn.unanswered_streams(), 1u);
  EXPECT_EQ(s.conn.open_streams(), 0u);
}

TEST(Connection, HundredInterleavedStreams) {
  Session s;
  for (uint32_t i = 0; i < 100; ++i) {
    s.Headers(kC2S, 1 + 2 * i, Get("/item/" + std::to_string(i)), true);
  }
  EXPECT_EQ(s.conn.open_streams(), 100u);
  // Responses in reverse order; half end on HEADERS, half on DATA.
  for (uint32_t i = 100; i-- > 0;) {
    int code = i % 3 == 0 ? 404 : 200;
    s.Headers(kS2C, 1 + 2 * i, Status(code), /*end_stream=*/i % 2 == 0);
  }
  for (uint32_t i = 0; i < 100; ++i) {
    if (i % 2 == 1) s.Data(kS2C, 1 + 2 * i, true);
  }
  ASSERT_EQ(s.done.size(), 100u);
  for (const CompletedRequest& r : s.done) {
    uint32_t i = (r.stream_id - 1) / 2;
    EXPECT_EQ(r.path, "/item/" + std::to_string(i));
    EXPECT_EQ(r.status, i % 3 == 0 ? 404 : 200);
  }
  EXPECT_FALSE(s.conn.desynced());
}

TEST(Connection, ContinuationFramesMakeOneBlock) {
  Session s;
  std::string block = s.client_encoder.Encode(Get("/continued"));
  ASSERT_GT(block.size(), 6u);
  s.Frame(kC2S, kFrameHeaders, kFlagEndStream, 1, block.substr(0, 3));
  // The other direction may interleave: it is another byte stream.
  s.Frame(kS2C, 0x8 /*WINDOW_UPDATE*/, 0, 0, U32(100));
  s.Frame(kC2S, kFrameContinuation, 0, 1, block.substr(3, 3));
  s.Frame(kC2S, kFrameContinuation, kFlagEndHeaders, 1, block.substr(6));
  std::string resp = s.server_encoder.Encode(Status(204));
  s.Frame(kS2C, kFrameHeaders, kFlagEndStream, 1, resp.substr(0, 1));
  s.Frame(kS2C, kFrameContinuation, kFlagEndHeaders, 1, resp.substr(1));
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].path, "/continued");
  EXPECT_EQ(s.done[0].status, 204);
  // The request starts at its HEADERS frame, not its last CONTINUATION.
  EXPECT_EQ(s.done[0].start_ns, 1000u);
}

TEST(Connection, AnotherFrameInsideAHeaderBlockDesyncs) {
  Session s;
  s.Headers(kC2S, 1, Get("/a"));
  std::string block = s.client_encoder.Encode(Get("/b"));
  s.Frame(kC2S, kFrameHeaders, 0, 3, block.substr(0, 2));
  s.Frame(kC2S, kFrameData, 0, 1, "", true, 10);
  EXPECT_TRUE(s.conn.desynced());
  EXPECT_NE(s.conn.desync_reason().find("inside the header block"),
            std::string::npos);
  EXPECT_EQ(s.conn.abandoned_streams(), 1u);
}

TEST(Connection, ContinuationOnAnotherStreamDesyncs) {
  Session s;
  std::string block = s.client_encoder.Encode(Get("/b"));
  s.Frame(kC2S, kFrameHeaders, 0, 1, block.substr(0, 2));
  s.Frame(kC2S, kFrameContinuation, kFlagEndHeaders, 3, block.substr(2));
  EXPECT_TRUE(s.conn.desynced());
}

TEST(Connection, PaddingAndPriorityAreStripped) {
  Session s;
  std::string block = s.client_encoder.Encode(Get("/padded"));
  std::string payload = std::string(1, 4) +         // pad length
                        U32(0x80000003) + "\x10" +  // exclusive on 3, w 16
                        block + std::string(4, '\0');
  s.Frame(kC2S, kFrameHeaders,
          kFlagPadded | kFlagPriority | kFlagEndHeaders | kFlagEndStream, 1,
          payload);
  std::string resp = s.server_encoder.Encode(Status(200));
  s.Frame(kS2C, kFrameHeaders, kFlagPadded | kFlagEndHeaders | kFlagEndStream,
          1, std::string(1, 2) + resp + std::string(2, '\0'));
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
  EXPECT_EQ(s.done[0].path, "/padded");
  EXPECT_EQ(s.done[0].status, 200);
}

TEST(Connection, PaddingLongerThanThePayloadDesyncs) {
  Session s;
  s.Frame(kC2S, kFrameHeaders, kFlagPadded | kFlagEndHeaders, 1,
          std::string(1, 9) + "\x82");
  EXPECT_TRUE(s.conn.desynced());
}

TEST(Connection, PushPromiseUpdatesTheServerTableButIsNoRequest) {
  Session s;
  s.Headers(kC2S, 1, Get("/page"), true);
  Fields promised = Get("/style.css");
  promised.push_back({"x-pushed-by", "test-server"});  // indexed
  std::string block = s.server_encoder.Encode(promised);
  s.Frame(kS2C, kFramePushPromise, kFlagPadded | kFlagEndHeaders, 1,
          std::string(1, 1) + U32(2) + block + std::string(1, '\0'));
  // The response refers to "x-pushed-by" in the server's dynamic table.
  Fields resp = Status(200);
  resp.push_back({"x-pushed-by", "test-server"});
  s.Headers(kS2C, 1, resp, true);
  s.Headers(kS2C, 2, Status(200), true);  // the pushed response: no request
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
  EXPECT_EQ(s.done[0].path, "/page");
  EXPECT_FALSE(s.conn.desynced());
}

TEST(Connection, RstStreamFromEitherSideEndsAsReset) {
  Session s;
  s.Headers(kC2S, 1, Get("/slow"), true);
  s.Rst(kS2C, 1, 0x8);  // CANCEL
  // A gRPC call, whose end (not its head) decides it.
  s.Headers(kC2S, 3,
            {{":method", "POST"},
             {":path", "/pkg.S/Watch"},
             {"content-type", "application/grpc"}});
  s.Headers(kS2C, 3,
            {{":status", "200"}, {"content-type", "application/grpc"}});
  s.Rst(kC2S, 3, 0x2);  // INTERNAL_ERROR
  s.Rst(kC2S, 5, 0x2);  // never opened: nothing
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_TRUE(s.done[0].reset);
  EXPECT_EQ(s.done[0].reset_error_code, 8u);
  EXPECT_EQ(s.done[0].status, 0);
  EXPECT_EQ(s.done[0].response_ns, 0u);
  EXPECT_EQ(s.done[0].DurationNs(), 1000u);  // to the reset
  EXPECT_TRUE(s.done[1].reset);
  EXPECT_EQ(s.done[1].reset_error_code, 2u);
  EXPECT_EQ(s.done[1].status, 200);
}

TEST(Connection, InterimResponsesAreNotTheResponse) {
  Session s;
  s.Headers(kC2S, 1, {{":method", "POST"}, {":path", "/up"}});
  s.Headers(kS2C, 1, {{":status", "100"}});
  s.Data(kC2S, 1, true);
  s.Headers(kS2C, 1, Status(201), true);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].status, 201);
  EXPECT_EQ(s.done[0].response_ns, 4000u);
}

TEST(Connection, TruncatedHeaderBlockDesyncsForGood) {
  Session s;
  s.Headers(kC2S, 1, Get("/a"), true);
  std::string block = s.client_encoder.Encode(Get("/b"));
  s.Frame(kC2S, kFrameHeaders, kFlagEndHeaders | kFlagEndStream, 3,
          block.substr(0, 3), /*truncated=*/true, block.size());
  EXPECT_TRUE(s.conn.desynced());
  EXPECT_NE(s.conn.desync_reason().find("truncated"), std::string::npos);
  EXPECT_EQ(s.conn.abandoned_streams(), 1u);
  EXPECT_EQ(s.conn.open_streams(), 0u);
  // Nothing more, even frames that would complete a request.
  s.Headers(kS2C, 1, Status(200), true);
  EXPECT_TRUE(s.done.empty());
}

TEST(Connection, LossDesyncsAndAbandonsOpenStreams) {
  Session s;
  s.Headers(kC2S, 1, Get("/a"), true);
  s.Headers(kC2S, 3, Get("/b"), true);
  s.Headers(kS2C, 3, Status(200), true);
  ASSERT_EQ(s.done.size(), 1u);
  s.conn.OnLoss();
  EXPECT_TRUE(s.conn.desynced());
  EXPECT_EQ(s.conn.desync_reason(), "events of this connection were lost");
  EXPECT_EQ(s.conn.abandoned_streams(), 1u);
  s.Headers(kS2C, 1, Status(200), true);
  s.Headers(kC2S, 5, Get("/c"), true);
  EXPECT_EQ(s.done.size(), 1u);
  s.conn.OnLoss();
  EXPECT_EQ(s.conn.abandoned_streams(), 1u);
}

TEST(Connection, StreamBudgetDropsNewStreamsButFollowsTheirBlocks) {
  Session s(/*max_streams=*/2);
  Fields grpc = {{":method", "POST"},
                 {":path", "/pkg.Svc/Call"},
                 {"content-type", "application/grpc+budget"}};
  s.Headers(kC2S, 1, Get("/one"), true);
  s.Headers(kC2S, 3, Get("/two"), true);
  // Stream 5 is over budget, and its block puts the content-type in the
  // client's dynamic table.
  s.Headers(kC2S, 5, grpc, true);
  EXPECT_EQ(s.conn.dropped_streams(), 1u);
  EXPECT_EQ(s.conn.open_streams(), 2u);
  s.Headers(kS2C, 5, Status(200), true);  // its response: ignored
  s.Headers(kS2C, 1, Status(200), true);
  // Stream 7's block refers to that entry: decodable only if stream 5's
  // block was inflated.
  s.Headers(kC2S, 7, grpc, true);
  s.Headers(kS2C, 7, Status(200), true);
  ASSERT_EQ(s.done.size(), 2u) << s.conn.desync_reason();
  EXPECT_EQ(s.done[0].stream_id, 1u);
  EXPECT_EQ(s.done[1].stream_id, 7u);
  EXPECT_TRUE(s.done[1].is_grpc);
  EXPECT_EQ(s.conn.dropped_streams(), 1u);
}

TEST(Connection, H2cUpgradeRequestIsStreamOne) {
  H2cUpgrade up;
  up.method = "GET";
  up.path = "/upgraded";
  up.start_ns = 500;
  Session s(Connection::Upgraded(up));
  EXPECT_EQ(s.conn.open_streams(), 1u);
  s.Headers(kS2C, 1, Status(200));
  s.Data(kS2C, 1, true);
  s.Headers(kC2S, 3, Get("/next"), true);
  s.Headers(kS2C, 3, Status(404), true);
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_EQ(s.done[0].stream_id, 1u);
  EXPECT_EQ(s.done[0].method, "GET");
  EXPECT_EQ(s.done[0].path, "/upgraded");
  EXPECT_EQ(s.done[0].start_ns, 500u);
  EXPECT_EQ(s.done[0].response_ns, 1000u);
  EXPECT_EQ(s.done[0].status, 200);
  EXPECT_EQ(s.done[1].status, 404);
}

TEST(Connection, H2cUpgradeSettingsBindTheServerAtOnce) {
  H2cUpgrade up;
  up.method = "GET";
  up.path = "/";
  up.client_header_table_size = 0;  // from HTTP2-Settings: no ACK frame
  Session s(Connection::Upgraded(up));
  s.server_encoder.ChangeTableSize(0);
  s.Headers(kS2C, 1, Status(200), true);
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
}

TEST(Connection, EvenOrReusedClientStreamIdsOpenNothing) {
  Session s;
  s.Headers(kC2S, 3, Get("/a"), true);
  s.Headers(kS2C, 3, Status(200), true);
  s.Headers(kC2S, 3, Get("/again"), true);  // closed: not a new request
  s.Headers(kC2S, 1, Get("/lower"), true);  // below the highest: idem
  s.Headers(kC2S, 4, Get("/even"), true);
  EXPECT_EQ(s.conn.open_streams(), 0u);
  EXPECT_EQ(s.done.size(), 1u);
  EXPECT_FALSE(s.conn.desynced());
}

TEST(Connection, MalformedFramesDesync) {
  Session a;
  a.Frame(kC2S, kFrameRstStream, 0, 1, std::string(3, '\0'));
  EXPECT_TRUE(a.conn.desynced());
  Session b;
  b.Frame(kC2S, kFrameSettings, 0, 0, std::string("\0\1\0\0", 4));
  EXPECT_TRUE(b.conn.desynced());
  Session c;
  c.Frame(kC2S, kFrameHeaders, kFlagEndHeaders, 1, "\x82", false, 5);
  EXPECT_TRUE(c.conn.desynced());
  Session d;
  d.Frame(kC2S, kFramePushPromise, kFlagEndHeaders, 1, U32(2) + "\x82");
  EXPECT_TRUE(d.conn.desynced());
  Session e;
  e.Frame(kC2S, kFrameHeaders, kFlagEndHeaders, 0, "\x82");
  EXPECT_TRUE(e.conn.desynced());
}

}  // namespace
}  // namespace redline::h2
