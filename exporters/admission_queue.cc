#include "exporters/admission_queue.h"

#include <utility>

namespace redline::prom {
namespace {

thread_local bool t_overloaded = false;

}  // namespace

AdmissionQueue::AdmissionQueue(size_t workers, size_t max_pending,
                               std::atomic<uint64_t>* rejected)
    : workers_(workers), max_pending_(max_pending), rejected_(rejected) {
  for (size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { Work(&pending_, false); });
  }
  for (size_t i = 0; i < kOverflowThreads; ++i) {
    threads_.emplace_back([this] { Work(&overflow_, true); });
  }
}

AdmissionQueue::~AdmissionQueue() { shutdown(); }

bool AdmissionQueue::Overloaded() { return t_overloaded; }

void AdmissionQueue::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (busy_ + pending_.size() < workers_ + max_pending_) {
      pending_.push_back(std::move(fn));
    } else {
      // Every connection must still be served (the task owns its socket):
      // the overflow thread answers it with a quick 503.
      overflow_.push_back(std::move(fn));
      if (rejected_ != nullptr) rejected_->fetch_add(1);
    }
  }
  cv_.notify_all();
}

void AdmissionQueue::shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void AdmissionQueue::Work(std::deque<std::function<void()>>* q, bool overflow) {
  t_overloaded = overflow;
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !q->empty(); });
      if (q->empty()) return;  // stopping, and nothing left to serve
      fn = std::move(q->front());
      q->pop_front();
      if (!overflow) ++busy_;
    }
    fn();
    if (!overflow) {
      std::lock_guard<std::mutex> l(mu_);
      --busy_;
    }
  }
}

}  // namespace redline::prom
