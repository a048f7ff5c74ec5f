// Reads a kernel hash map of per-workload entries into a Ledger: folds
// every entry, deletes those of exited processes once counted, and moves
// idle ones into the retired totals with an atomic lookup-and-delete.
// Shared by the sched, block and tcp probes.
#ifndef REDLINE_AGENT_PROBES_LEDGER_MAP_H_
#define REDLINE_AGENT_PROBES_LEDGER_MAP_H_

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <signal.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/model/ledger.h"
#include "agent/model/model.h"
#include "agent/probes/bpf_util.h"

namespace redline {

// The ledgers' liveness test (--pid-labels series end with their process):
// the pid exists; EPERM means it does, owned by someone we may not signal.
// A reused pid reads as alive, which only delays the series' end.
inline bool PidAlive(uint32_t pid) {
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

template <typename Stats>
struct LedgerEntry {
  WorkloadId id;
  Stats stats;
  bool exited = false;
  uint64_t fingerprint = 0;  // changes whenever the entry does
};

struct LedgerReadResult {
  uint64_t entries = 0;  // left in the kernel map
  uint64_t retired = 0;  // idle entries moved into the agent's totals
};

template <typename K, typename V, typename Stats>
absl::StatusOr<LedgerReadResult> ReadLedgerMap(
    const bpf_map* map, Ledger<std::string, Stats>* ledger,
    const std::function<LedgerEntry<Stats>(const K&, const V&)>& describe,
    const std::function<void(const WorkloadId&, const Stats&)>& emit) {
  using Action = typename Ledger<std::string, Stats>::Action;
  std::vector<K> dead;
  std::vector<std::pair<K, LedgerEntry<Stats>>> idle;
  ledger->Begin();
  auto n = ForEachEntry(map, [&](const void* kp, const void* vp) {
    const K& k = *static_cast<const K*>(kp);
    LedgerEntry<Stats> e = describe(k, *static_cast<const V*>(vp));
    std::string key(reinterpret_cast<const char*>(&k), sizeof(k));
    switch (ledger->Add(key, e.id, e.stats, e.exited, e.fingerprint)) {
      case Action::kDelete:
        dead.push_back(k);
        break;
      case Action::kRetire:
        idle.emplace_back(k, std::move(e));
        break;
      case Action::kKeep:
        break;
    }
  });
  LedgerReadResult res;
  const int fd = bpf_map__fd(map);
  for (auto& [k, e] : idle) {
    V v;
    if (bpf_map_lookup_and_delete_elem(fd, &k, &v) == 0) {
      ledger->Retire(e.id, describe(k, v).stats);
      ++res.retired;
    } else {
      ledger->Keep(e.id, e.stats);
    }
  }
  ledger->Finish(emit);
  DeleteKeys(map, dead.data(), dead.size());
  if (!n.ok()) return n.status();
  res.entries = *n - dead.size() - res.retired;
  return res;
}

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_LEDGER_MAP_H_
