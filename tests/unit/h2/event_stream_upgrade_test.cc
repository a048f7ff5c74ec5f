// h2::EventStream on connections that became HTTP/2 by an h2c upgrade
// (RL_H2_EV_UPGRADE): the HTTP/1.1 request the 101 answered is stream 1.
#include <string>

#include "agent/h2/event_stream.h"
#include "gtest/gtest.h"
#include "tests/unit/h2/h2_test_session.h"
#include "tests/unit/h2/kernel_events.h"

namespace redline::h2 {
namespace {

// SETTINGS_MAX_CONCURRENT_STREAMS = 100: what both sides send first.
const std::string kSettings("\0\3\0\0\0\x64", 6);

// After the 101, as the kernel forwards it (the client's preface skipped):
// each side's SETTINGS and its ACK, then stream 1's response.
void Handshake(Kernel& k) {
  k.Frame(false, RL_H2_SETTINGS, 0, 0, kSettings);
  k.Frame(true, RL_H2_SETTINGS, 0, 0, kSettings);
  k.Frame(true, RL_H2_SETTINGS, 1, 0, "");
  k.Frame(false, RL_H2_SETTINGS, 1, 0, "");
}

TEST(EventStreamUpgrade, StreamOneIsTheHttp11RequestOnBothSides) {
  for (uint8_t role : {RL_L7_SERVER, RL_L7_CLIENT}) {
    Kernel k(role);
    Encoder client, server;
    k.Upgrade(RL_HTTP_GET, 500);  // at 2000
    Handshake(k);
    k.Headers(server, false, 1, Status(200), false);  // at 7000
    EXPECT_EQ(k.counted.size(), 1u) << "complete at the response head";
    k.Headers(client, true, 3, Get("/nope"), true);  // at 8000
    k.Headers(server, false, 3, Status(404), true);  // at 9000
    ASSERT_EQ(k.counted.size(), 2u);
    const Counted& up = k.counted[0];
    EXPECT_EQ(up.key.proto, RL_L7_PROTO_H2);
    EXPECT_EQ(up.key.op, RL_HTTP_GET);
    EXPECT_EQ(up.key.outcome, 2);
    EXPECT_EQ(up.key.role, role);
    EXPECT_TRUE(up.timed);
    // From the HTTP/1.1 request to stream 1's response HEADERS.
    EXPECT_EQ(up.duration_ns, 7000u - 500u);
    EXPECT_EQ(k.counted[1].key.outcome, 4);
    EXPECT_EQ(k.counted[1].duration_ns, 1000u);
    const StreamCounts n = k.stream.counts();
    EXPECT_EQ(n.upgrades, 1u);
    EXPECT_EQ(n.desynced, 0u);
    EXPECT_EQ(n.malformed, 0u);
    EXPECT_EQ(n.unpaired_responses, 0u);
  }
}

TEST(EventStreamUpgrade, TheMethodOfTheUpgradeRequestIsKept) {
  Kernel k(RL_L7_SERVER);
  Encoder server;
  k.Upgrade(RL_HTTP_OPTIONS, 100);
  k.Headers(server, false, 1, Status(503), true);
  ASSERT_EQ(k.counted.size(), 1u);
  EXPECT_EQ(k.counted[0].key.op, RL_HTTP_OPTIONS);
  EXPECT_EQ(k.counted[0].key.outcome, 5);
}

// The cookie outlives a tcp_disconnect: an upgrade starts afresh, with an
// empty HPACK state and only its own stream 1 open.
TEST(EventStreamUpgrade, ReplacesWhatTheSocketHeldBefore) {
  Kernel k(RL_L7_SERVER);
  Encoder old_client, server;
  k.Headers(old_client, true, 1, Get("/old"), true);
  k.Headers(old_client, true, 3, Get("/old"), true);
  k.Upgrade(RL_HTTP_POST, 100);
  k.Headers(server, false, 1, Status(201), true);
  k.Headers(server, false, 3, Status(200), true);  // not this one's
  ASSERT_EQ(k.counted.size(), 1u);
  EXPECT_EQ(k.counted[0].key.op, RL_HTTP_POST);
  EXPECT_EQ(k.counted[0].key.outcome, 2);
  EXPECT_EQ(k.stream.counts().connections, 1u);
  k.Closed();
  EXPECT_EQ(k.stream.counts().unpaired_responses, 1u);
}

// An upgrade whose request was not seen (sent before the agent started):
// stream 1's response pairs with nothing, and says so.
TEST(EventStreamUpgrade, WithoutItsRequestTheResponseIsUnpaired) {
  Kernel k(RL_L7_CLIENT);
  Encoder server;
  k.Upgrade(RL_HTTP_UNKNOWN, 0);
  k.Headers(server, false, 1, Status(200), true);
  EXPECT_TRUE(k.counted.empty());
  k.Closed();
  EXPECT_EQ(k.stream.counts().unpaired_responses, 1u);
  EXPECT_EQ(k.stream.counts().desynced, 0u);
}

TEST(EventStreamUpgrade, MalformedEventsAreCountedNotTrusted) {
  Kernel k(RL_L7_SERVER);
  k.Upgrade(RL_HTTP_GET, 100, 8);
  k.Upgrade(RL_HTTP_GET, 100, 24);
  EXPECT_EQ(k.stream.counts().malformed, 2u);
  EXPECT_EQ(k.stream.counts().upgrades, 0u);
  EXPECT_EQ(k.stream.counts().connections, 0u);
  // A method code beyond the known ones is counted without a method.
  Encoder server;
  k.Upgrade(200, 100);
  k.Headers(server, false, 1, Status(200), true);
  ASSERT_EQ(k.counted.size(), 1u);
  EXPECT_EQ(k.counted[0].key.op, RL_HTTP_UNKNOWN);
}

// Events lost after the upgrade: given up like any connection.
TEST(EventStreamUpgrade, LostEventsDesyncItAndAbandonStreamOne) {
  Kernel k(RL_L7_SERVER);
  Encoder server;
  k.Upgrade(RL_HTTP_GET, 100);
  k.Lost();
  k.Headers(server, false, 1, Status(200), true);
  EXPECT_TRUE(k.counted.empty());
  EXPECT_EQ(k.stream.counts().desynced, 1u);
  EXPECT_EQ(k.stream.counts().abandoned_streams, 1u);
}

}  // namespace
}  // namespace redline::h2
