// Drains bpf/l7_h2.bpf.h's h2_events ring buffer on a thread of its own
// (h2::EventStream decodes) and adds up each completed HTTP/2 or gRPC
// request; Flush, on the thread that reads l7_stats and just before it
// does, adds those sums into l7_stats, as the kernel counts the other
// protocols' requests, so metrics, SLOs and top read them as any other.
// The kernel never writes those protocols' keys, and the reader that
// retires idle entries is the one writing: no update can bring back an
// entry it just retired (which would count it twice).
#ifndef REDLINE_AGENT_PROBES_H2_EVENTS_H_
#define REDLINE_AGENT_PROBES_H2_EVENTS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/h2/event_stream.h"
#include "bpf/slo.h"

struct ring_buffer;

namespace redline {

class H2Events {
 public:
  // events_fd: h2_events; stats_fd: l7_stats. No thread yet: see Drain.
  static absl::StatusOr<std::unique_ptr<H2Events>> Start(int events_fd,
                                                         int stats_fd);
  ~H2Events();  // stops the thread, then frees the ring buffer

  // Adds the requests counted since the last call into l7_stats. Call it
  // from the thread that reads l7_stats, before reading it.
  void Flush();

  // Starts draining on a thread of its own, once; later calls do nothing.
  // Not at Start: capabilities are per thread, and the agent drops its own
  // after attaching, before any thread of its starts (one started earlier
  // would keep CAP_BPF and CAP_PERFMON).
  void Drain();

  // bpf/l7_h2.bpf.h's h2_wake_bytes for a ring buffer of ring_bytes: the
  // kernel wakes the draining thread once an eighth of it waits, and the
  // thread drains every kDrainMs on its own otherwise, so a busy server
  // wakes it ~8 times per buffer's worth of frames, not once per frame.
  static uint32_t WakeBytes(uint32_t ring_bytes) { return ring_bytes / 8; }
  static constexpr int kDrainMs = 100;

  // The SLO latency thresholds in ns (0: off), as the kernel's.
  void SetSloThresholds(const std::array<uint64_t, RL_SLO_SLOTS>& ns);

  struct Counts {
    h2::StreamCounts stream;
    uint64_t not_counted = 0;  // requests l7_stats had no room for
  };
  Counts counts() const;

 private:
  // An l7_stats key as a hash map key: its bytes, hashed and compared
  // whole (rl_l7_key has no padding: every byte is a field's).
  static_assert(std::has_unique_object_representations_v<rl_l7_key>);
  struct Key {
    rl_l7_key k;
    bool operator==(const Key& o) const {
      return std::memcmp(&k, &o.k, sizeof(k)) == 0;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& key) {
      return H::combine(std::move(h),
                        absl::string_view(reinterpret_cast<const char*>(&key.k),
                                          sizeof(key.k)));
    }
  };

  // Events a lock at most: Flush and counts() wait for no more.
  static constexpr int kBatch = 4096;

  H2Events(int stats_fd, ring_buffer* rb);
  static int OnSample(void* self, void* data, size_t size);
  void Record(const h2::Counted& c);
  void Run();

  int stats_fd_;
  ring_buffer* rb_;
  mutable std::mutex mu_;  // stream_, sums_, not_counted_, done_, batch_
  h2::EventStream stream_;
  std::vector<h2::Counted> done_;  // one event's, reused
  int batch_ = 0;                  // events since the lock was taken
  // Per l7_stats key, what Flush adds.
  absl::flat_hash_map<Key, rl_l7_val> sums_;
  uint64_t not_counted_ = 0;
  std::array<std::atomic<uint64_t>, RL_SLO_SLOTS> slo_ns_{};
  std::atomic<bool> stop_{false};
  std::once_flag started_;
  std::thread thread_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_H2_EVENTS_H_
