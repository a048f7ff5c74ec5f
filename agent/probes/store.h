// Holds the latest Snapshot and refreshes it from the probes: on demand
// (a scrape wants data at most `max_age` old) and periodically, so exited
// processes are freed from kernel maps even when nobody scrapes.
#ifndef REDLINE_AGENT_PROBES_STORE_H_
#define REDLINE_AGENT_PROBES_STORE_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "agent/model/model.h"
#include "agent/probes/probe.h"

namespace redline {

// The probes a Store reads, in order (those not loaded on this kernel are
// absent).
struct Probes {
  std::vector<Probe*> probes;
  std::string pressure_dir;  // empty: no PSI
  // Concerns that failed to load as a whole, exported as not attached.
  std::vector<ProgramStatus> failed;
};

class Store {
 public:
  explicit Store(Probes probes);

  // A snapshot read from the kernel after this call began. Concurrent
  // callers share one read: whoever waited on a refresh in progress gets it.
  std::shared_ptr<const Snapshot> GetFresh();
  // The latest snapshot, without reading the kernel.
  std::shared_ptr<const Snapshot> Latest();
  // Reads the kernel now. Safe from any thread.
  void Refresh();
  // Reads the kernel now if a concern's maps are filling faster than
  // refreshes drain them, unless the last read began less than
  // max(100 ms, 4 x its duration) ago: early reads cost at most a quarter
  // of a core, and past that a full map counts what it drops. Returns
  // whether it read.
  bool RefreshIfPressed();
  // Runs fn with no refresh in progress: for changes to what refreshes read
  // (detaching rewrites the probes' program status, which a scrape's
  // refresh may be copying on another thread).
  void Exclusive(const std::function<void()>& fn);
  // Called with every snapshot read, under the refresh lock: SLOs count
  // from it and annotate it.
  void SetObserver(std::function<void(Snapshot*)> f) {
    std::lock_guard<std::mutex> l(mu_);
    observer_ = std::move(f);
  }

 private:
  void RefreshLocked();

  Probes probes_;
  std::mutex mu_;  // serialises refreshes
  std::shared_ptr<const Snapshot> snap_;
  std::function<void(Snapshot*)> observer_;
  std::string host_, kernel_;
  int64_t start_unix_ns_ = 0;
  std::map<std::string, ReadCost> costs_;  // cumulative, by concern
  // When the read behind snap_ began, and how long it took.
  std::chrono::steady_clock::time_point taken_started_{};
  std::chrono::steady_clock::duration took_{};
};

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_STORE_H_
