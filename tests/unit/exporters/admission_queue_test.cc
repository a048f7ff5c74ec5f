// The exposer's bounded task queue, with tasks standing in for connections:
// a task that blocks on a gate is a client that has not finished.
#include "exporters/admission_queue.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace redline::prom {
namespace {

using std::chrono::seconds;

// Runs tasks that report whether they ran overloaded, then wait for the
// gate to open.
class Tasks {
 public:
  explicit Tasks(AdmissionQueue* q) : q_(q), gate_(open_.get_future()) {}
  ~Tasks() { Open(); }

  // Enqueues a task that blocks; its future says where it ran.
  std::future<bool> Blocking() {
    auto started = std::make_shared<std::promise<bool>>();
    std::future<bool> f = started->get_future();
    q_->enqueue([started, gate = gate_] {
      started->set_value(AdmissionQueue::Overloaded());
      gate.wait();
    });
    return f;
  }

  // Enqueues a task that returns at once.
  std::future<bool> Quick() {
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> f = done->get_future();
    q_->enqueue([done] { done->set_value(AdmissionQueue::Overloaded()); });
    return f;
  }

  void Open() {
    std::call_once(opened_, [this] { open_.set_value(); });
  }

 private:
  AdmissionQueue* q_;
  std::promise<void> open_;
  std::shared_future<void> gate_;
  std::once_flag opened_;
};

bool Get(std::future<bool>& f) {
  EXPECT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  return f.get();
}

TEST(AdmissionQueueTest, BoundCountsWorkInFlightNotTheQueue) {
  // No queue slots: each of 4 connections enqueued back to back is served
  // by a worker, however late the workers wake; the 5th is beyond the bound.
  std::atomic<uint64_t> rejected{0};
  AdmissionQueue q(4, 0, &rejected);
  Tasks t(&q);
  std::vector<std::future<bool>> in;
  for (int i = 0; i < 4; ++i) in.push_back(t.Blocking());
  std::future<bool> beyond = t.Quick();
  EXPECT_TRUE(Get(beyond));
  for (auto& f : in) EXPECT_FALSE(Get(f));
  EXPECT_EQ(rejected.load(), 1u);
  t.Open();
}

TEST(AdmissionQueueTest, QueuedConnectionsWaitForAWorker) {
  std::atomic<uint64_t> rejected{0};
  AdmissionQueue q(2, 3, &rejected);
  Tasks t(&q);
  std::vector<std::future<bool>> running, queued;
  for (int i = 0; i < 2; ++i) running.push_back(t.Blocking());
  for (auto& f : running) EXPECT_FALSE(Get(f));
  for (int i = 0; i < 3; ++i) queued.push_back(t.Quick());
  std::future<bool> beyond = t.Quick();
  EXPECT_TRUE(Get(beyond));
  for (auto& f : queued) {
    EXPECT_EQ(f.wait_for(std::chrono::milliseconds(100)),
              std::future_status::timeout);
  }
  t.Open();
  for (auto& f : queued) EXPECT_FALSE(Get(f));
  EXPECT_EQ(rejected.load(), 1u);
}

TEST(AdmissionQueueTest, FreedWorkersAdmitAgain) {
  std::atomic<uint64_t> rejected{0};
  AdmissionQueue q(1, 0, &rejected);
  {
    Tasks t(&q);
    std::future<bool> a = t.Blocking();
    EXPECT_FALSE(Get(a));
    std::future<bool> b = t.Quick();
    EXPECT_TRUE(Get(b));
    t.Open();
  }
  // The worker's task has returned once a later one runs on a worker; a
  // quick task may still find it busy for a moment, so retry briefly.
  bool worker = false;
  for (int i = 0; i < 1000 && !worker; ++i) {
    Tasks t(&q);
    std::future<bool> c = t.Quick();
    worker = !Get(c);
  }
  EXPECT_TRUE(worker);
}

TEST(AdmissionQueueTest, AStalledOverflowConnectionDoesNotDelayThe503s) {
  // A client beyond the bound that never finishes its request holds one
  // overflow thread; the others still answer.
  std::atomic<uint64_t> rejected{0};
  AdmissionQueue q(1, 0, &rejected);
  Tasks t(&q);
  std::future<bool> worker = t.Blocking();
  EXPECT_FALSE(Get(worker));
  std::vector<std::future<bool>> stalled;
  for (size_t i = 0; i + 1 < AdmissionQueue::kOverflowThreads; ++i) {
    stalled.push_back(t.Blocking());
  }
  for (auto& f : stalled) EXPECT_TRUE(Get(f));
  std::future<bool> next = t.Quick();
  EXPECT_TRUE(Get(next));
  EXPECT_EQ(rejected.load(), AdmissionQueue::kOverflowThreads);
  t.Open();
}

TEST(AdmissionQueueTest, ShutdownServesWhatWasQueued) {
  std::atomic<uint64_t> rejected{0};
  std::atomic<int> ran{0};
  {
    AdmissionQueue q(1, 8, &rejected);
    for (int i = 0; i < 8; ++i) q.enqueue([&ran] { ++ran; });
    q.shutdown();
  }
  EXPECT_EQ(ran.load(), 8);
}

}  // namespace
}  // namespace redline::prom
