// The agent's recent past: one compact entry per refresh, kept for a
// bounded time and count, so `redline top` can show what happened when an
// alert fired rather than only now (/api/v1/history).
//
// An entry keeps only what `redline top` reads (its rows, header and why
// view), folded per workload, as varint deltas from the entry before
// (counters grow by an interval's worth, and an idle workload is a byte
// or two), with a self-contained key entry every kKeyEvery entries and at
// the oldest: a whole Snapshot per workload is ~2-4 KiB (a 512-byte
// histogram per syscall), an encoded record tens of bytes. Decoded
// entries are Snapshots again, with
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
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  ~History();

  // Appends the snapshot (ignored if not newer than the newest entry) and
  // evicts what is past the age or count bound. Safe from any thread.
  void Add(const Snapshot& snap);
  HistoryRange Range(int64_t from_ns, int64_t to_ns, size_t limit) const;
  size_t size() const;
  // Bytes held: entries' encodings and the tables of names, by capacity.
  size_t MemoryBytes() const;

 private:
  struct Impl;  // the entries and their tables (history.cc)
  mutable std::mutex mu_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_HISTORY_H_
