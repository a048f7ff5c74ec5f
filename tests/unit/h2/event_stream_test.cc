#include "agent/h2/event_stream.h"

#include <cstring>
#include <string>
#include <vector>

#include "agent/model/grpc_methods.h"
#include "gtest/gtest.h"
#include "tests/unit/h2/h2_test_session.h"
#include "tests/unit/h2/kernel_events.h"

namespace redline::h2 {
namespace {

TEST(EventStream, RequestsOfBothKindsWithTheirLabels) {
  Kernel k(RL_L7_SERVER);
  Encoder client, server;
  k.Headers(client, true, 1, Get("/"), true);
  k.Headers(client, true, 3, Get("/missing"), true);
  k.Headers(server, false, 3, Status(404), true);
  k.Headers(server, false, 1, Status(200), false);
  k.Frame(false, RL_H2_DATA, RL_H2_END_STREAM, 1, "hello");
  ASSERT_EQ(k.counted.size(), 2u);
  const Counted& a = k.counted[0];  // stream 3 ended first
  EXPECT_EQ(a.key.proto, RL_L7_PROTO_H2);
  EXPECT_EQ(a.key.op, RL_HTTP_GET);
  EXPECT_EQ(a.key.outcome, 4);  // 4xx
  EXPECT_EQ(std::string(a.key.comm), "srv");
  EXPECT_EQ(a.key.cgroup_id, 42u);
  EXPECT_EQ(a.key.role, RL_L7_SERVER);
  EXPECT_EQ(a.key.port, 8080);
  EXPECT_TRUE(a.timed);
  EXPECT_EQ(a.duration_ns, 1000u);  // request HEADERS -> response HEADERS
  EXPECT_EQ(k.counted[1].key.outcome, 2);
  EXPECT_EQ(k.counted[1].duration_ns, 3000u);
  EXPECT_EQ(k.stream.counts().desynced, 0u);
}

TEST(EventStream, AHeaderBlockInPiecesIsPutBackTogether) {
  Kernel k(RL_L7_CLIENT);
  Encoder client, server;
  Fields big = Get("/");
  big.push_back({"cookie", std::string(600, 'c')});
  k.Headers(client, true, 1, big, true, 100);  // a FRAME and 6 MOREs
  k.Headers(server, false, 1, Status(503), true, 7);
  ASSERT_EQ(k.counted.size(), 1u);
  EXPECT_EQ(k.counted[0].key.outcome, 5);
  EXPECT_EQ(k.counted[0].key.role, RL_L7_CLIENT);
}

TEST(EventStream, GrpcByContentTypeWithMethodAndStatus) {
  Kernel k(RL_L7_SERVER);
  Encoder client, server;
  const Fields call = {{":method", "POST"},
                       {":scheme", "http"},
                       {":path", "/redline.test.Echo/Say"},
                       {":authority", "x"},
                       {"content-type", "application/grpc"}};
  k.Headers(client, true, 1, call, false);
  k.Frame(true, RL_H2_DATA, RL_H2_END_STREAM, 1, "");
  k.Headers(server, false, 1,
            {{":status", "200"}, {"content-type", "application/grpc"}}, false);
  k.Headers(server, false, 1, {{"grpc-status", "5"}}, true);
  ASSERT_EQ(k.counted.size(), 1u);
  const Counted& c = k.counted[0];
  EXPECT_EQ(c.key.proto, RL_L7_PROTO_GRPC);
  EXPECT_STREQ(GrpcMethodName(c.key.op), "redline.test.Echo/Say");
  EXPECT_EQ(c.key.outcome, 5 + 1);  // NOT_FOUND
}

Fields Call(const std::string& path, const std::string& type) {
  return {{":method", "POST"},
          {":scheme", "http"},
          {":path", path},
          {":authority", "x"},
          {"content-type", type}};
}

// One call on stream id: request, then response headers `head` (with
// END_STREAM when `trailers` is empty), then the trailers.
uint8_t Outcome(Kernel& k, Encoder& client, Encoder& server, uint32_t id,
                const std::string& path, const Fields& head,
                const Fields& trailers,
                const std::string& type = "application/grpc+proto") {
  k.Headers(client, true, id, Call(path, type), true);
  k.Headers(server, false, id, head, trailers.empty());
  if (!trailers.empty()) k.Headers(server, false, id, trailers, true);
  EXPECT_FALSE(k.counted.empty());
  return k.counted.empty() ? 255 : k.counted.back().key.outcome;
}

TEST(EventStream, GrpcOutcomesAsAClientWouldReportThem) {
  Kernel k(RL_L7_CLIENT);
  Encoder client, server;
  const Fields ok = {{":status", "200"}, {"content-type", "application/grpc"}};
  // A proxy's 503 with no grpc-status: UNAVAILABLE; a 404: UNIMPLEMENTED.
  EXPECT_EQ(Outcome(k, client, server, 1, "/a.B/C", {{":status", "503"}}, {}),
            14 + 1);
  EXPECT_EQ(Outcome(k, client, server, 3, "/a.B/C", {{":status", "404"}}, {}),
            12 + 1);
  // 200 and the stream ended with no grpc-status: INTERNAL.
  EXPECT_EQ(Outcome(k, client, server, 5, "/a.B/C", ok, {}), 13 + 1);
  // A status gRPC does not define: UNKNOWN.
  EXPECT_EQ(
      Outcome(k, client, server, 7, "/a.B/C", ok, {{"grpc-status", "99"}}),
      2 + 1);
  EXPECT_STREQ(GrpcMethodName(k.counted.back().key.op), "a.B/C");
  // UNIMPLEMENTED takes no label: a scanner cannot use up the budget.
  EXPECT_EQ(Outcome(k, client, server, 9, "/no.Such/Method", ok,
                    {{"grpc-status", "12"}}),
            12 + 1);
  EXPECT_STREQ(GrpcMethodName(k.counted.back().key.op), "other");
  // A path that is no gRPC name: other.
  Outcome(k, client, server, 11, "/a.B/C%20D", ok, {{"grpc-status", "0"}});
  EXPECT_STREQ(GrpcMethodName(k.counted.back().key.op), "other");
  // grpc-web carries its status in the body: HTTP/2, not gRPC.
  Outcome(k, client, server, 13, "/a.B/C", {{":status", "200"}}, {},
          "application/grpc-web+proto");
  EXPECT_EQ(k.counted.back().key.proto, RL_L7_PROTO_H2);
}

TEST(EventStream, LostFramesDesyncAndNothingMoreIsCounted) {
  Kernel k(RL_L7_SERVER);
  Encoder client, server;
  k.Headers(client, true, 1, Get("/"), true);
  k.Lost();
  k.Headers(server, false, 1, Status(200), true);
  EXPECT_TRUE(k.counted.empty());
  EXPECT_EQ(k.stream.counts().desynced, 1u);
  EXPECT_EQ(k.stream.counts().abandoned_streams, 1u);
  // A truncated header block: the same.
  Kernel t(RL_L7_SERVER, 8);
  Fields huge = Get("/");
  huge.push_back({"cookie", std::string(2000, 'x')});
  t.Headers(client, true, 1, huge, true);
  t.Headers(server, false, 1, Status(200), true);
  EXPECT_TRUE(t.counted.empty());
  EXPECT_EQ(t.stream.counts().desynced, 1u);
}

// A gRPC call whose gRPC head came but whose trailers did not: counted
// when its connection ends, INTERNAL, as a gRPC client reports a missing
// trailer; a plain request is counted at its head, a gRPC call with a
// non-gRPC head (a proxy's 503) too.
TEST(EventStream, CallsWithoutTrailersCountAtTheConnectionsEnd) {
  Kernel k(RL_L7_SERVER);
  Encoder client, server;
  const Fields call = {{":method", "POST"},
                       {":path", "/redline.test.Echo/Say"},
                       {"content-type", "application/grpc"}};
  k.Headers(client, true, 1, call, false);
  k.Headers(client, true, 3, call, false);
  k.Headers(client, true, 5, Get("/"), true);
  k.Headers(client, true, 7, Get("/never"), true);
  k.Headers(server, false, 1,
            {{":status", "200"}, {"content-type", "application/grpc"}}, false);
  k.Headers(server, false, 3, {{":status", "503"}}, false);
  k.Headers(server, false, 5, Status(200), false);
  ASSERT_EQ(k.counted.size(), 2u);
  EXPECT_EQ(k.counted[0].key.proto, RL_L7_PROTO_GRPC);
  EXPECT_EQ(k.counted[0].key.outcome, 14 + 1);  // UNAVAILABLE
  EXPECT_EQ(k.counted[1].key.proto, RL_L7_PROTO_H2);
  EXPECT_EQ(k.counted[1].key.outcome, 2);
  k.Closed();
  ASSERT_EQ(k.counted.size(), 3u);
  const Counted& c = k.counted[2];
  EXPECT_EQ(c.key.proto, RL_L7_PROTO_GRPC);
  EXPECT_EQ(c.key.outcome, 13 + 1);  // INTERNAL
  EXPECT_EQ(c.key.role, RL_L7_SERVER);
  EXPECT_EQ(c.key.cgroup_id, 42u);
  EXPECT_TRUE(c.timed);
  EXPECT_EQ(k.stream.counts().connections, 0u);
  EXPECT_EQ(k.stream.counts().unanswered_streams, 1u);  // stream 7
}

TEST(EventStream, ClosedForgetsAndJunkIsCountedNotTrusted) {
  Kernel k(RL_L7_SERVER);
  Encoder client;
  k.Headers(client, true, 1, Get("/"), true);
  EXPECT_EQ(k.stream.counts().connections, 1u);
  k.Closed();
  EXPECT_EQ(k.stream.counts().connections, 0u);
  std::vector<Counted> out;
  const char junk[10] = {};
  k.stream.OnEvent(junk, sizeof(junk), &out);
  rl_h2_event ev{};
  ev.kind = RL_H2_EV_FRAMES;
  ev.len = 500;  // more than the record holds
  k.stream.OnEvent(&ev, RL_H2_EVENT_HEAD + 10, &out);
  ev.kind = 99;
  ev.len = 0;
  k.stream.OnEvent(&ev, RL_H2_EVENT_HEAD, &out);
  // A frame record of the build before frames were batched (kind 1).
  ev.kind = 1;
  k.stream.OnEvent(&ev, RL_H2_EVENT_HEAD, &out);
  EXPECT_EQ(k.stream.counts().malformed, 4u);
  EXPECT_TRUE(out.empty());
}

// The frames of one read or write come in one record: many streams'
// requests in one, their responses and the END_STREAMs in another.
TEST(EventStream, ARecordOfManyFramesCountsEachOfThem) {
  Kernel k(RL_L7_SERVER);
  Encoder client, server;
  k.Batch();
  for (uint32_t id = 1; id <= 9; id += 2) {
    k.Headers(client, true, id, Get("/" + std::to_string(id)), true);
  }
  k.Flush();
  EXPECT_EQ(k.stream.counts().events, 1u);
  k.Batch();
  for (uint32_t id = 1; id <= 9; id += 2) {
    k.Headers(server, false, id, Status(id == 5 ? 500 : 200), false);
    k.Frame(false, RL_H2_DATA, RL_H2_END_STREAM, id, "body");
  }
  k.Flush();
  EXPECT_EQ(k.stream.counts().events, 2u);
  EXPECT_EQ(k.stream.counts().frames, 15u);
  ASSERT_EQ(k.counted.size(), 5u);
  int errors = 0;
  for (const Counted& c : k.counted) errors += c.key.outcome == 5;
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(k.stream.counts().desynced, 0u);
  EXPECT_EQ(k.stream.counts().malformed, 0u);
}

// A record holds at most RL_H2_RECORD_MAX bytes: more frames go in more
// records; a header block in pieces spans records (its MOREs), in order.
TEST(EventStream, FramesBeyondARecordAndPiecesAcrossRecords) {
  Kernel k(RL_L7_CLIENT);
  Encoder client, server;
  // Header blocks of 500-1000 bytes (cookies of 900 bytes, Huffman-coded,
  // each another: not one from the dynamic table): three do not fit in
  // one record.
  auto big = [](char c) {
    Fields f = Get("/");
    f.push_back({"cookie", std::string(900, c)});
    return f;
  };
  k.Batch();
  k.Headers(client, true, 1, big('a'), true);
  k.Headers(client, true, 3, big('b'), true);
  k.Headers(client, true, 5, big('c'), true, 300);  // a FRAME, then MOREs
  k.Flush();
  EXPECT_GE(k.stream.counts().events, 3u);
  k.Batch();
  for (uint32_t id = 1; id <= 5; id += 2) {
    k.Headers(server, false, id, Status(200), true);
  }
  k.Flush();
  EXPECT_EQ(k.counted.size(), 3u);
  EXPECT_EQ(k.stream.counts().desynced, 0u);
}

// An item that does not fit what is left of its record, or of no known
// kind: malformed, and the connection, whose frames it held, desyncs;
// what came before it in the record was counted.
TEST(EventStream, AnItemThatLiesDesyncsItsConnectionOnly) {
  for (int lie = 0; lie < 3; ++lie) {
    Kernel k(RL_L7_SERVER);
    Encoder client, server;
    k.Headers(client, true, 1, Get("/"), true);
    k.Headers(client, true, 3, Get("/"), true);
    rl_h2_item ok{}, bad{};
    ok.kind = RL_H2_ITEM_FRAME;
    const std::string block = server.Encode(Status(200));
    const uint8_t h[9] = {
        0, 0, static_cast<uint8_t>(block.size()), RL_H2_HEADERS, 0x5, 0, 0,
        0, 1};
    std::memcpy(ok.header, h, 9);
    ok.len = block.size();
    bad = ok;
    bad.header[8] = 3;
    if (lie == 0) bad.len = 200;  // past the record's end
    if (lie == 1) bad.kind = 7;
    std::string rec(reinterpret_cast<const char*>(&ok), sizeof(ok));
    rec += block;
    rec.append(reinterpret_cast<const char*>(&bad), sizeof(bad));
    if (lie == 2) rec.resize(rec.size() - 3);  // a head cut short
    k.Raw(rec);
    EXPECT_EQ(k.counted.size(), 1u) << lie;
    EXPECT_EQ(k.stream.counts().malformed, 1u) << lie;
    EXPECT_EQ(k.stream.counts().desynced, 1u) << lie;
  }
}

// Past its capacity the table forgets the connection used least recently,
// not the one created first: a long-lived busy connection (gRPC's) stays.
TEST(EventStream, FullTableEvictsTheLeastRecentlyUsed) {
  Kernel k(RL_L7_SERVER, 1, /*max_connections=*/2);
  Encoder c1, s1, c2, s2, c3, s3;
  k.On(1).Headers(c1, true, 1, Get("/a"), true);  // created first
  k.On(2).Headers(c2, true, 1, Get("/b"), true);
  k.On(1).Headers(c1, true, 3, Get("/c"), true);  // 1 used last
  k.On(3).Headers(c3, true, 1, Get("/d"), true);  // evicts 2
  k.On(1).Headers(s1, false, 1, Status(200), true);
  k.On(1).Headers(s1, false, 3, Status(200), true);
  k.On(3).Headers(s3, false, 1, Status(200), true);
  EXPECT_EQ(k.counted.size(), 3u);
  // Connection 2 was forgotten: its answer is not counted.
  k.On(2).Headers(s2, false, 1, Status(200), true);
  EXPECT_EQ(k.counted.size(), 3u);
  StreamCounts n = k.stream.counts();
  EXPECT_EQ(n.connections, 2u);
  // 2 (its stream 1 open), then 1 (all answered) for 2's return.
  EXPECT_EQ(n.evicted, 2u);
  EXPECT_EQ(n.abandoned_streams, 1u);
  EXPECT_EQ(n.desynced, 0u);  // an eviction is no verdict on the decoder
  // 2's answer came back to an empty decoder: a response without request.
  EXPECT_EQ(n.unpaired_responses, 0u);
  k.On(2).Closed();
  EXPECT_EQ(k.stream.counts().unpaired_responses, 1u);
  EXPECT_EQ(k.stream.counts().connections, 1u);
}

// Closing a connection keeps its counts: the unpaired responses it still
// held, and the streams it dropped, as those of connections followed now.
TEST(EventStream, UnpairedResponsesAreCountedLiveAndAtClose) {
  Kernel k(RL_L7_CLIENT);
  Encoder client, server;
  k.Headers(server, false, 1, Status(200), true);  // its request comes late
  k.Headers(client, true, 1, Get("/a"), true);
  EXPECT_EQ(k.counted.size(), 1u);
  k.Headers(server, false, 3, Status(200), true);  // never asked
  k.Headers(client, true, 5, Get("/b"), true);     // passes 3
  k.Headers(server, false, 7, Status(200), true);  // waiting
  EXPECT_EQ(k.stream.counts().unpaired_responses, 1u);
  k.Closed();
  EXPECT_EQ(k.stream.counts().unpaired_responses, 2u);
  EXPECT_EQ(k.counted.size(), 1u);
}

}  // namespace
}  // namespace redline::h2
