// The agent's recent past: one compact entry per refresh, kept for a
// bounded time and count, so `redline top` can show what happened when an
// alert fired rather than only now (/api/v1/history).
//
// An entry keeps only what `redline top` reads (its rows, header and why
// view), folded per workload and varint-encoded: a whole Snapshot per
// workload is ~2-4 KiB (a 512-byte histogram per syscall), an entry
// record ~100-200 bytes. Decoded entries are Snapshots again, with
//  - every syscall folded into one entry, number kFoldedSyscall (calls,
//    errors and the merged latency histogram; no sums, no errnos),
//  - requests folded by protocol, side and error-or-not, operation "all"
//    and an outcome of that class (RequestProtocol::is_error agrees),
//  - TCP as one peer holding the retransmits; no disks, maps as one
//    "[all]" entry with the drops, programs by name and attach state;
// so BuildTopView and BuildWhyView over two decoded entries give exactly
// what they gave over the two Snapshots.
#ifndef REDLINE_AGENT_MODEL_HISTORY_H_
#define REDLINE_AGENT_MODEL_HISTORY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/model/model.h"

namespace redline {

// The syscall number a decoded entry's folded syscalls carry.
inline constexpr uint32_t kFoldedSyscall = 0xffffffffu;

struct HistoryOptions {
  int64_t keep_ns = 0;     // entries older than the newest minus this go
  size_t max_entries = 0;  // and at most this many (0: no entries kept)
};

// The newest `limit` entries with taken_unix_ns in [from_ns, to_ns].
struct HistoryRange {
  std::vector<Snapshot> snapshots;  // oldest first
  bool truncated = false;           // more entries matched than `limit`
  int64_t oldest_unix_ns = 0;       // what the ring holds (0: empty)
  int64_t newest_unix_ns = 0;
  size_t entries = 0;
};

class History {
 public:
  explicit History(HistoryOptions opts);

  // Appends the snapshot (ignored if not newer than the newest entry) and
  // evicts what is past the age or count bound. Safe from any thread.
  void Add(const Snapshot& snap);
  HistoryRange Range(int64_t from_ns, int64_t to_ns, size_t limit) const;
  size_t size() const;
  // Bytes held: entries' encodings and the tables of names, by capacity.
  size_t MemoryBytes() const;

 private:
  // Workload ids and culprit names, referenced by index from entries.
  struct Tables {
    std::vector<WorkloadId> ids;
    absl::flat_hash_map<WorkloadId, uint32_t> id_index;
    std::vector<std::string> names;
    absl::flat_hash_map<std::string, uint32_t> name_index;
    uint32_t Id(const WorkloadId& id);
    uint32_t Name(const std::string& name);
    size_t Bytes() const;
  };
  struct Header;
  struct Entry {
    int64_t taken_unix_ns = 0;
    std::shared_ptr<const Header> header;  // shared while it is unchanged
    std::vector<SloBurn> slos;
    uint64_t drops = 0, live_processes = 0;
    std::string workloads;  // the records, varint-encoded
  };
  static Entry Encode(const Snapshot& snap, Tables* t);
  static Snapshot Decode(const Entry& e, const Tables& t);
  void EvictLocked(int64_t newest_ns);
  // Re-encodes every entry against fresh tables once the tables hold
  // twice what the entries still use (workloads that came and went).
  void CompactTablesLocked();

  HistoryOptions opts_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
  Tables tables_;
  size_t compact_at_ = 1024;  // table size that triggers a compaction
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_HISTORY_H_
