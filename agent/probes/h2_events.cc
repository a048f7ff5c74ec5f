#include "agent/probes/h2_events.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "agent/probes/bpf_util.h"
#include "bpf/hist_edges.h"
#include "bpf/l7.h"

namespace redline {

absl::StatusOr<std::unique_ptr<H2Events>> H2Events::Start(int events_fd,
                                                          int stats_fd) {
  auto self = std::unique_ptr<H2Events>(new H2Events(stats_fd, nullptr));
  self->rb_ = ring_buffer__new(events_fd, &H2Events::OnSample, self.get(),
                               nullptr);
  if (self->rb_ == nullptr) {
    return LibbpfError(-errno, "opening the HTTP/2 event ring buffer");
  }
  return self;
}

void H2Events::Drain() {
  std::call_once(started_, [this] { thread_ = std::thread([this] { Run(); }); });
}

H2Events::H2Events(int stats_fd, ring_buffer* rb)
    : stats_fd_(stats_fd), rb_(rb) {}

H2Events::~H2Events() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (rb_ != nullptr) ring_buffer__free(rb_);
}

void H2Events::Run() {
  // Events below the kernel's wake threshold come without a wakeup: the
  // timeout is when they are read, and bounds how long stopping waits.
  // Read with the lock held, kBatch events at most a time (OnSample ends a
  // batch with -EAGAIN), rather than locking once per event.
  const int efd = ring_buffer__epoll_fd(rb_);
  while (!stop_) {
    epoll_event ev;
    if (epoll_wait(efd, &ev, 1, kDrainMs) < 0 && errno != EINTR) {
      // Not expected (the fd is the ring buffer's own): drain on the
      // timer alone rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(kDrainMs));
    }
    int n;
    do {
      std::lock_guard<std::mutex> l(mu_);
      batch_ = 0;
      n = ring_buffer__consume(rb_);
    } while (n == -EAGAIN && !stop_);
  }
}

// mu_ held (Run).
int H2Events::OnSample(void* self, void* data, size_t size) {
  auto* h = static_cast<H2Events*>(self);
  h->done_.clear();
  h->stream_.OnEvent(data, size, &h->done_);
  for (const h2::Counted& c : h->done_) h->Record(c);
  // The sample is consumed either way: libbpf moves past it first.
  return ++h->batch_ < kBatch ? 0 : -EAGAIN;
}

// mu_ held.
void H2Events::Record(const h2::Counted& c) {
  rl_l7_val& v = sums_[Key{c.key}];
  ++v.requests;
  if (!c.timed) return;
  ++v.timed;
  v.sum_ns += c.duration_ns;
  ++v.hist[rl_fine_slot(c.duration_ns)];
  for (int i = 0; i < RL_SLO_SLOTS; ++i) {
    const uint64_t t = slo_ns_[i].load(std::memory_order_relaxed);
    if (t != 0 && c.duration_ns <= t) ++v.within[i];
  }
}

void H2Events::Flush() {
  absl::flat_hash_map<Key, rl_l7_val> sums;
  {
    std::lock_guard<std::mutex> l(mu_);
    sums.swap(sums_);
  }
  uint64_t lost = 0;
  for (const auto& [k, add] : sums) {
    rl_l7_key key = k.k;
    rl_l7_val v{};
    if (bpf_map_lookup_elem(stats_fd_, &key, &v) != 0) v = rl_l7_val{};
    v.requests += add.requests;
    v.timed += add.timed;
    v.sum_ns += add.sum_ns;
    for (int i = 0; i < RL_L7_HIST_SLOTS; ++i) v.hist[i] += add.hist[i];
    for (int i = 0; i < RL_SLO_SLOTS; ++i) v.within[i] += add.within[i];
    if (bpf_map_update_elem(stats_fd_, &key, &v, BPF_ANY) != 0) {
      lost += add.requests;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  not_counted_ += lost;
}

void H2Events::SetSloThresholds(
    const std::array<uint64_t, RL_SLO_SLOTS>& ns) {
  for (int i = 0; i < RL_SLO_SLOTS; ++i) {
    slo_ns_[i].store(ns[i], std::memory_order_relaxed);
  }
}

H2Events::Counts H2Events::counts() const {
  std::lock_guard<std::mutex> l(mu_);
  return {stream_.counts(), not_counted_};
}

}  // namespace redline
