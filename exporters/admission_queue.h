// The HTTP server's task queue, bounded: a fixed pool of workers and at most
// `max_pending` connections waiting for one. A connection beyond that is
// served by a separate overflow thread, where Overloaded() is true and the
// handlers answer 503 at once, so a burst of scrapers or a few clients that
// read one byte a second cannot make every scrape wait, and nothing queues
// without bound. (httplib's own ThreadPool queues without limit.)
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
  AdmissionQueue(size_t workers, size_t max_pending,
                 std::atomic<uint64_t>* rejected);
  ~AdmissionQueue() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // True on the thread that answers connections beyond the bound.
  static bool Overloaded();

 private:
  void Work(std::deque<std::function<void()>>* q, bool overflow);

  const size_t max_pending_;
  std::atomic<uint64_t>* rejected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> pending_, overflow_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_ADMISSION_QUEUE_H_
