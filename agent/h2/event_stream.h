// The HTTP/2 events of every connection (bpf/l7_h2.h, from the h2_events
// ring buffer, in order) into requests to count: per connection (its
// socket cookie), a payload split over events is put back together, the
// frames go to its Connection decoder, and each completed request becomes
// an l7_stats key (the labels of the process whose I/O completed it; the
// protocol HTTP/2, or gRPC by content-type; method and outcome codes) and
// its duration. A connection upgraded from HTTP/1.1 (RL_H2_EV_UPGRADE)
// starts with its stream 1 open, the upgrade request. Pure: no kernel
// access; probes/h2_events feeds it.
#ifndef REDLINE_AGENT_H2_EVENT_STREAM_H_
#define REDLINE_AGENT_H2_EVENT_STREAM_H_

#include <linux/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "agent/h2/connection.h"
#include "agent/h2/grpc_operations.h"
#include "bpf/l7_h2.h"

namespace redline::h2 {

struct Counted {
  rl_l7_key key{};
  uint64_t duration_ns = 0;
  bool timed = false;  // the request HEADERS were seen
};

struct StreamCounts {
  uint64_t events = 0;           // ring buffer records
  uint64_t frames = 0;           // FRAME items in them (not MOREs)
  uint64_t malformed = 0;        // records or items too short, of unknown kinds
  uint64_t desynced = 0;         // connections given up (lost frames, HPACK...)
  uint64_t dropped_streams = 0;  // beyond a connection's stream budget
  uint64_t abandoned_streams = 0;  // open when their connection desynced
  // Responses whose request was never seen (Connection::
  // unpaired_responses, and those still waiting when it was forgotten).
  uint64_t unpaired_responses = 0;
  // Requests not answered when their connection closed (RL_H2_EV_CLOSED;
  // Connection::unanswered_streams).
  uint64_t unanswered_streams = 0;
  // Connections forgotten to make room for another (least recently used
  // first): what they carried next is not followed.
  uint64_t evicted = 0;
  // Connections that became HTTP/2 by an h2c upgrade (RL_H2_EV_UPGRADE).
  uint64_t upgrades = 0;
  uint64_t connections = 0;  // followed now
};

class EventStream {
 public:
  // Connections followed at most (beyond, the least recently used is
  // forgotten: counts().evicted) and the gRPC label budget.
  explicit EventStream(size_t max_connections = 65536,
                       size_t max_grpc_operations = 64);

  // One ring buffer record (size bytes). Requests it completes are
  // appended to out.
  void OnEvent(const void* data, size_t size, std::vector<Counted>* out);

  StreamCounts counts() const;

 private:
  struct Conn {
    explicit Conn(uint64_t g) : gen(g) {}
    uint64_t gen;  // the key in conns_
    Connection decoder;
    bool told = false;  // desync counted
    // Labels of its last FRAMES record: calls completed at its end
    // (Connection::OnClose) are counted under them.
    rl_l7_key labels{};
    // A FRAME item whose payload comes in MORE items, per direction
    // (0: client to server).
    struct Pending {
      bool open = false;
      uint8_t header[RL_H2_FRAME_HEADER] = {};
      bool truncated = false;
      uint32_t want = 0;  // payload bytes forwarded in all
      uint64_t ts_ns = 0;
      std::string payload;
    } pending[2];
  };

  // ev's head; its ev.len payload bytes are at payload / bytes.
  void OnUpgrade(const rl_h2_event& ev, const char* payload);
  // One item of ev (a FRAMES record), its item.len bytes at bytes.
  void Deliver(Conn& c, const rl_h2_event& ev, const rl_h2_item& item,
               const char* bytes, int side, std::vector<Counted>* out);
  // The frame pending on side is complete: payload is its bytes.
  void Finish(Conn& c, int side, const rl_h2_event& ev,
              absl::string_view payload, std::vector<Counted>* out);
  void Count(const CompletedRequest& r, const rl_l7_key& labels,
             std::vector<Counted>* out);
  void CheckDesync(Conn& c);
  Conn& ConnOf(uint64_t gen);
  void Forget(std::list<Conn>::iterator it);

  size_t max_connections_;
  GrpcOperations grpc_;
  // Every connection followed, most recently used first (a list: moving
  // one to the front and evicting the last are O(1), and the map's
  // iterators stay valid), and by socket cookie.
  std::list<Conn> lru_;
  absl::flat_hash_map<uint64_t, std::list<Conn>::iterator> conns_;
  StreamCounts counts_;
  std::vector<CompletedRequest> done_;  // one frame's, reused
};

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_EVENT_STREAM_H_
