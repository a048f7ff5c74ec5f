// A client's view of a connection whose events arrive out of order: the
// write of a request is stamped by its tracepoint when the write returns,
// after the peer may have answered it and another of the client's threads
// read the answer on another CPU. The response then comes first; it must
// be paired with its request when that arrives, and the stream must not
// keep a slot.
#include <string>

#include "agent/h2/connection.h"
#include "gtest/gtest.h"
#include "tests/unit/h2/h2_test_session.h"

namespace redline::h2 {
namespace {

constexpr Direction kC2S = Direction::kClientToServer;
constexpr Direction kS2C = Direction::kServerToClient;

Fields GrpcCall(const std::string& path) {
  return {{":method", "POST"},
          {":scheme", "http"},
          {":path", path},
          {":authority", "x"},
          {"content-type", "application/grpc"}};
}

TEST(ConnectionReorder, ResponseBeforeItsRequestIsPaired) {
  Session s;
  s.Headers(kS2C, 1, Status(404));                       // t=1000
  s.Frame(kS2C, 0x8 /*WINDOW_UPDATE*/, 0, 0, U32(100));  // t=2000
  EXPECT_TRUE(s.done.empty());
  s.Headers(kC2S, 1, Get("/late"), /*end_stream=*/true);     // t=3000
  ASSERT_EQ(s.done.size(), 1u) << s.conn.desync_reason();
  const CompletedRequest& r = s.done[0];
  EXPECT_EQ(r.stream_id, 1u);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/late");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.start_ns, 3000u);
  EXPECT_EQ(r.response_ns, 1000u);
  EXPECT_EQ(r.end_ns, 1000u);     // a plain request ends at its head
  EXPECT_EQ(r.DurationNs(), 0u);  // unknowable: less than the reordering
  EXPECT_EQ(s.conn.open_streams(), 0u);
  EXPECT_FALSE(s.conn.desynced());
}

TEST(ConnectionReorder, ResponseStillOpenWhenItsRequestArrives) {
  Session s;
  // A plain response head: complete once its request says it is plain.
  s.Headers(kS2C, 1, Status(200));
  EXPECT_TRUE(s.done.empty());
  s.Headers(kC2S, 1, Get("/a"), true);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].status, 200);
  EXPECT_EQ(s.done[0].path, "/a");
  EXPECT_EQ(s.conn.open_streams(), 0u);
  // A gRPC head waits for its trailers.
  s.Headers(kS2C, 3,
            {{":status", "200"}, {"content-type", "application/grpc"}});
  s.Headers(kC2S, 3, GrpcCall("/pkg.S/M"));
  EXPECT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.conn.open_streams(), 1u);
  s.Headers(kS2C, 3, {{"grpc-status", "0"}}, true);
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_EQ(s.done[1].grpc_status, 0);
  EXPECT_EQ(s.conn.open_streams(), 0u);
}

TEST(ConnectionReorder, GrpcTrailersAndResetsBeforeTheirRequests) {
  Session s;
  // Stream 1: head and trailers both before the call.
  s.Headers(kS2C, 1, {{":status", "200"}, {"content-type", "application/grpc"}});
  s.Headers(kS2C, 1, {{"grpc-status", "5"}}, /*end_stream=*/true);
  // Stream 3: trailers-only.
  s.Headers(kS2C, 3,
            {{":status", "200"},
             {"content-type", "application/grpc"},
             {"grpc-status", "14"}},
            true);
  // Stream 5: refused by the server before the call was seen.
  s.Rst(kS2C, 5, 0x7);  // REFUSED_STREAM
  s.Headers(kC2S, 1, GrpcCall("/pkg.Svc/A"));
  s.Headers(kC2S, 3, GrpcCall("/pkg.Svc/B"));
  s.Headers(kC2S, 5, GrpcCall("/pkg.Svc/C"));
  ASSERT_EQ(s.done.size(), 3u) << s.conn.desync_reason();
  EXPECT_TRUE(s.done[0].is_grpc);
  EXPECT_EQ(s.done[0].grpc_status, 5);
  EXPECT_EQ(s.done[0].grpc_method, "A");
  EXPECT_EQ(s.done[1].grpc_status, 14);
  EXPECT_EQ(s.done[1].grpc_service, "pkg.Svc");
  EXPECT_TRUE(s.done[2].reset);
  EXPECT_EQ(s.done[2].reset_error_code, 7u);
  EXPECT_EQ(s.conn.open_streams(), 0u);
}

// Before: each such stream kept a slot for good, and past 256 of them the
// connection's new streams were all dropped.
TEST(ConnectionReorder, ManyReorderedStreamsLeakNoSlot) {
  Session s;
  const uint32_t n = 3 * Connection::kDefaultMaxStreams;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = 1 + 2 * i;
    if (i % 2 == 0) {
      s.Headers(kS2C, id, Status(200), true);
      s.Headers(kC2S, id, Get("/r"), true);
    } else {  // in order
      s.Headers(kC2S, id, Get("/o"), true);
      s.Headers(kS2C, id, Status(500), true);
    }
  }
  EXPECT_EQ(s.done.size(), n) << s.conn.desync_reason();
  EXPECT_EQ(s.conn.open_streams(), 0u);
  EXPECT_EQ(s.conn.dropped_streams(), 0u);
}

// A response whose request never comes is given up when a later request
// passes it (the client writes its streams in id order), never counted.
TEST(ConnectionReorder, AResponsePassedByALaterRequestIsUnpaired) {
  Session s;
  s.Headers(kS2C, 1, Status(200), true);
  EXPECT_EQ(s.conn.early_responses(), 1u);
  s.Headers(kC2S, 3, Get("/b"), true);
  EXPECT_EQ(s.conn.early_responses(), 0u);
  EXPECT_EQ(s.conn.unpaired_responses(), 1u);
  s.Headers(kC2S, 1, Get("/a"), true);  // too late: not a new stream
  s.Headers(kS2C, 3, Status(200), true);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].stream_id, 3u);
  EXPECT_EQ(s.conn.open_streams(), 0u);
  // Trailers alone never open an early response; pushed streams neither.
  s.Headers(kS2C, 5, {{"grpc-status", "0"}}, true);
  s.Headers(kS2C, 2, Status(200), true);
  s.Data(kS2C, 7, true);
  EXPECT_EQ(s.conn.early_responses(), 0u);
  EXPECT_EQ(s.conn.unpaired_responses(), 1u);
}

TEST(ConnectionReorder, EarlyResponsesAreBoundedLowestGivenUpFirst) {
  Session s(/*max_streams=*/2);
  s.Headers(kS2C, 3, Status(200), true);
  s.Headers(kS2C, 5, Status(201), true);
  s.Headers(kS2C, 1, Status(202), true);  // the lowest: not kept
  s.Headers(kS2C, 7, Status(203), true);  // 3 is given up for it
  EXPECT_EQ(s.conn.early_responses(), 2u);
  EXPECT_EQ(s.conn.unpaired_responses(), 2u);
  for (uint32_t id : {5, 7}) s.Headers(kC2S, id, Get("/x"), true);
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_EQ(s.done[0].status, 201);
  EXPECT_EQ(s.done[1].status, 203);
  EXPECT_EQ(s.conn.early_responses(), 0u);
  EXPECT_EQ(s.conn.unpaired_responses(), 2u);
  EXPECT_EQ(s.conn.open_streams(), 0u);
  // A request whose response ended already needs no slot: with the only
  // one taken, it completes all the same.
  Session one(/*max_streams=*/1);
  one.Headers(kC2S, 1, Get("/slow"), true);
  one.Headers(kS2C, 3, Status(200), true);
  one.Headers(kC2S, 3, Get("/fast"), true);
  ASSERT_EQ(one.done.size(), 1u);
  EXPECT_EQ(one.done[0].path, "/fast");
  EXPECT_EQ(one.conn.dropped_streams(), 0u);
  // No room at all: counted, nothing kept.
  Session none(/*max_streams=*/0);
  none.Headers(kS2C, 1, Status(200), true);
  EXPECT_EQ(none.conn.early_responses(), 0u);
  EXPECT_EQ(none.conn.unpaired_responses(), 1u);
}

TEST(ConnectionReorder, DesyncForgetsEarlyResponses) {
  Session s;
  s.Headers(kS2C, 1, Status(200));
  s.Headers(kC2S, 3, Get("/b"));  // stream 1 unpaired, 3 open
  s.Headers(kS2C, 5, Status(200));
  s.conn.OnLoss();
  EXPECT_EQ(s.conn.early_responses(), 0u);
  EXPECT_EQ(s.conn.abandoned_streams(), 2u);
  s.Headers(kC2S, 5, Get("/c"), true);
  EXPECT_TRUE(s.done.empty());
}

}  // namespace
}  // namespace redline::h2
