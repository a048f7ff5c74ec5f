// The HTTP server's task queue, bounded: a fixed pool of workers and at most
// `max_pending` connections waiting for one. Admission counts connections in
// flight (being served or waiting), not just the queue: workers that have not
// yet picked up what was queued (a loaded machine schedules them late) must
// not push connections within the bound into overflow. A connection beyond
// the bound is served by one of a few overflow threads, where Overloaded() is
// true and the handlers answer 503 at once, so a burst of scrapers or a few
// clients that read one byte a second cannot make every scrape wait, and
// nothing queues without bound. (httplib's own ThreadPool queues without
// limit.)
//
// The limit of this design: httplib reads a request before any handler runs,
// with its read timeout (5 s), and the task it hands us hides the socket. A
// client beyond the bound that never finishes its request holds an overflow
// thread that long; with kOverflowThreads of them, 503s are delayed only when
// more than that many such clients arrive beyond the bound at once.
#ifndef REDLINE_EXPORTERS_ADMISSION_QUEUE_H_
#define REDLINE_EXPORTERS_ADMISSION_QUEUE_H_

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace redline::prom {

class AdmissionQueue : public httplib::TaskQueue {
 public:
  static constexpr size_t kOverflowThreads = 4;

  AdmissionQueue(size_t workers, size_t max_pending,
                 std::atomic<uint64_t>* rejected);
  ~AdmissionQueue() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // True on the threads that answer connections beyond the bound.
  static bool Overloaded();

 private:
  void Work(std::deque<std::function<void()>>* q, bool overflow);

  const size_t workers_;
  const size_t max_pending_;
  std::atomic<uint64_t>* rejected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> pending_, overflow_;
  size_t busy_ = 0;  // workers running a task (guarded by mu_)
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_ADMISSION_QUEUE_H_
