// Ring buffer records as bpf/l7_h2.bpf.h sends them, for tests of
// h2::EventStream.
#ifndef REDLINE_TESTS_UNIT_H2_KERNEL_EVENTS_H_
#define REDLINE_TESTS_UNIT_H2_KERNEL_EVENTS_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "agent/h2/event_stream.h"
#include "bpf/l7.h"
#include "bpf/l7_h2.h"
#include "tests/unit/h2/h2_test_session.h"

namespace redline::h2 {

// Builds ring buffer records as bpf/l7_h2.bpf.h sends them: one socket's
// view (a server: reads are client to server).
class Kernel {
 public:
  explicit Kernel(uint8_t role, uint64_t gen = 7,
                  size_t max_connections = 65536)
      : stream(max_connections), role_(role), gen_(gen) {
    std::memcpy(labels_.comm, "srv", 4);
    labels_.cgroup_id = 42;
    labels_.role = role;
    labels_.port = 8080;
  }

  // A frame the client sent (or the server); its payload forwarded in
  // pieces of at most `piece` bytes (a FRAME item, then MOREs, each in a
  // record of its own), as reads split it. One record per frame, unless
  // batched (Batch, Flush).
  void Frame(bool from_client, uint8_t type, uint8_t flags, uint32_t id,
             const std::string& payload, size_t piece = RL_H2_MAX_DATA) {
    const uint32_t len = payload.size();
    const uint8_t h[9] = {static_cast<uint8_t>(len >> 16),
                          static_cast<uint8_t>(len >> 8),
                          static_cast<uint8_t>(len),
                          type,
                          flags,
                          static_cast<uint8_t>(id >> 24),
                          static_cast<uint8_t>(id >> 16),
                          static_cast<uint8_t>(id >> 8),
                          static_cast<uint8_t>(id)};
    const std::string fwd =
        type == RL_H2_DATA ? "" : payload.substr(0, RL_H2_MAX_DATA);
    const bool truncated =
        type != RL_H2_DATA && payload.size() > RL_H2_MAX_DATA;
    size_t at = std::min(piece, fwd.size());
    Item(from_client, RL_H2_ITEM_FRAME, h, truncated, fwd.substr(0, at));
    while (at < fwd.size()) {
      const size_t n = std::min(piece, fwd.size() - at);
      EndRecord();
      Item(from_client, RL_H2_ITEM_MORE, nullptr, false, fwd.substr(at, n));
      at += n;
    }
    if (!batch_) EndRecord();
  }
  // The frames until Flush go in one record (more if they do not fit in
  // RL_H2_RECORD_MAX bytes), as one read or write sends them.
  void Batch() { batch_ = true; }
  void Flush() {
    batch_ = false;
    EndRecord();
  }
  void Headers(Encoder& e, bool from_client, uint32_t id, const Fields& f,
               bool end_stream, size_t piece = RL_H2_MAX_DATA) {
    Frame(from_client, RL_H2_HEADERS, 0x4 | (end_stream ? RL_H2_END_STREAM : 0),
          id, e.Encode(f), piece);
  }
  void Lost() { Send(Head(RL_H2_EV_LOST, true), ""); }
  // A record of any bytes after the head (kind FRAMES, from the server).
  void Raw(const std::string& data) {
    Send(Head(RL_H2_EV_FRAMES, false), data);
  }
  // The connection the next events are of (its socket cookie).
  Kernel& On(uint64_t gen) {
    EndRecord();
    gen_ = gen;
    return *this;
  }
  void Closed() { Send(Head(RL_H2_EV_CLOSED, true), ""); }
  // The 101 to h2c, as its socket moved it: the upgrade request's method
  // and start (0: not seen). `len` other than 16: a malformed event.
  void Upgrade(uint8_t method, uint64_t start_ns,
               size_t len = sizeof(rl_h2_upgrade)) {
    rl_h2_upgrade up{};
    up.method = method;
    up.start_ns = start_ns;
    std::string data(reinterpret_cast<const char*>(&up), sizeof(up));
    data.resize(len);
    Send(Head(RL_H2_EV_UPGRADE, false), data);
  }

  EventStream stream;
  std::vector<Counted> counted;
  uint64_t now = 1000;

 private:
  rl_h2_event Head(uint8_t kind, bool from_client) {
    rl_h2_event ev{};
    ev.gen = gen_;
    ev.ts_ns = now += 1000;
    ev.key = labels_;
    ev.kind = kind;
    // A server reads what the client sent.
    const bool read = (role_ == RL_L7_SERVER) == from_client;
    ev.dir = read ? RL_L7_IN : RL_L7_OUT;
    return ev;
  }
  void Send(rl_h2_event ev, const std::string& data) {
    EndRecord();
    ev.len = data.size();
    std::memcpy(ev.data, data.data(), data.size());
    stream.OnEvent(&ev, RL_H2_EVENT_HEAD + data.size(), &counted);
  }
  // Adds an item to the record being built (sent first if it is the other
  // direction's, or the item would not fit).
  void Item(bool from_client, uint8_t kind, const uint8_t* header,
            bool truncated, const std::string& payload) {
    if (!record_.empty() && (from_client != record_client_ ||
                             record_.size() + RL_H2_ITEM_HEAD + payload.size() >
                                 RL_H2_RECORD_MAX)) {
      EndRecord();
    }
    if (record_.empty()) {
      const rl_h2_event ev = Head(RL_H2_EV_FRAMES, from_client);
      record_.assign(reinterpret_cast<const char*>(&ev), RL_H2_EVENT_HEAD);
      record_client_ = from_client;
    }
    rl_h2_item item{};
    item.kind = kind;
    item.truncated = truncated;
    item.len = static_cast<uint16_t>(payload.size());
    if (header != nullptr) std::memcpy(item.header, header, 9);
    record_.append(reinterpret_cast<const char*>(&item), sizeof(item));
    record_ += payload;
  }
  void EndRecord() {
    if (record_.empty()) return;
    const uint16_t len = record_.size() - RL_H2_EVENT_HEAD;
    std::memcpy(&record_[offsetof(rl_h2_event, len)], &len, sizeof(len));
    // A buffer of the record's size: ASan sees any read past it.
    const std::vector<char> rec(record_.begin(), record_.end());
    record_.clear();
    stream.OnEvent(rec.data(), rec.size(), &counted);
  }

  uint8_t role_;
  uint64_t gen_;
  bool batch_ = false;
  std::string record_;  // the FRAMES record being built, if not empty
  bool record_client_ = false;
  rl_l7_key labels_{};
};

}  // namespace redline::h2

#endif  // REDLINE_TESTS_UNIT_H2_KERNEL_EVENTS_H_
