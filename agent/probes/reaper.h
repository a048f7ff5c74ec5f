// Destroys things whose release is slow on a thread of its own, by key, so
// that their owner can tell one is still going. Made for uprobe links: each
// uprobe's release waits for RCU grace periods, serialized in the kernel
// (~90 ms each on 6.18 under load), and a Go program's file carries dozens
// of them, so releasing a file that no process maps any more held the
// refresh, and the scrape waiting on it, for seconds (go_tls_test saw a
// scrape pass its 10 s timeout). A key stays Retiring() until its value is
// gone: an owner that attaches a key again before that would run both.
#ifndef REDLINE_AGENT_PROBES_REAPER_H_
#define REDLINE_AGENT_PROBES_REAPER_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace redline {

template <typename Key, typename T>
class Reaper {
 public:
  Reaper() : thread_([this] { Run(); }) {}
  // What is left is destroyed on the caller's thread, after the one being
  // destroyed now.
  ~Reaper() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  void Retire(const Key& k, T value) {
    {
      std::lock_guard<std::mutex> l(mu_);
      keys_.insert(k);
      queue_.emplace_back(k, std::move(value));
    }
    cv_.notify_all();
  }

  bool Retiring(const Key& k) const {
    std::lock_guard<std::mutex> l(mu_);
    return keys_.count(k) != 0;
  }

  // Waits until nothing is retiring (for tests).
  void Drain() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return keys_.empty(); });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_ || queue_.empty()) return;
      std::pair<Key, T> item = std::move(queue_.front());
      queue_.pop_front();
      l.unlock();
      { T gone = std::move(item.second); }  // the slow part, unlocked
      l.lock();
      keys_.erase(keys_.find(item.first));
      cv_.notify_all();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Key, T>> queue_;
  std::multiset<Key> keys_;  // queued or being destroyed
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_REAPER_H_
