#include "agent/model/history.h"

#include <algorithm>
#include <deque>

#include "agent/model/history_codec.h"

namespace redline {
namespace {

// A key entry at least this often: a range query decodes at most this
// many entries before its first, and a key costs a few records' worth.
constexpr size_t kKeyEvery = 60;

// What rarely changes between refreshes, shared by the entries it is the
// same for.
struct Header {
  std::string host, kernel;
  int64_t agent_start_unix_ns = 0;
  std::vector<ProgramStatus> programs;  // name, attached, reason
  bool SameAs(const Header& o) const {
    return host == o.host && kernel == o.kernel &&
           agent_start_unix_ns == o.agent_start_unix_ns &&
           std::equal(programs.begin(), programs.end(), o.programs.begin(),
                      o.programs.end(), [](const auto& a, const auto& b) {
                        return a.name == b.name && a.attached == b.attached &&
                               a.reason == b.reason;
                      });
  }
};

struct Entry {
  int64_t taken_unix_ns = 0;
  bool key = false;  // encoded from nothing: decodes alone
  std::shared_ptr<const Header> header;
  std::vector<SloBurn> slos;
  uint64_t drops = 0, live_processes = 0;
  std::string workloads;  // history::Encode
};

}  // namespace

struct History::Impl {
  HistoryOptions opts;
  std::deque<Entry> entries;
  history::Tables tables;
  history::State last;       // the newest entry, decoded
  size_t since_key = 0;      // entries after the newest key
  size_t compact_at = 1024;  // table size that triggers a compaction

  void Evict(int64_t newest_ns);
  // Re-encodes every entry against fresh tables once the tables hold twice
  // what the entries still use (workloads that came and went).
  void CompactTables();
  Snapshot ToSnapshot(const Entry& e, const history::State& s) const;
};

History::History(HistoryOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = opts;
}

History::~History() = default;

void History::Add(const Snapshot& snap) {
  std::lock_guard<std::mutex> l(mu_);
  Impl& m = *impl_;
  if (m.opts.max_entries == 0) return;
  if (!m.entries.empty() &&
      snap.taken_unix_ns <= m.entries.back().taken_unix_ns) {
    return;
  }
  Entry e;
  e.taken_unix_ns = snap.taken_unix_ns;
  e.slos = snap.slos;
  e.live_processes = snap.live_processes;
  for (const MapStatus& map : snap.maps) e.drops += map.drops;
  auto h = std::make_shared<Header>();
  h->host = snap.host;
  h->kernel = snap.kernel;
  h->agent_start_unix_ns = snap.agent_start_unix_ns;
  for (const ProgramStatus& p : snap.programs) {
    h->programs.push_back({p.name, p.attached, p.reason});
  }
  e.header = !m.entries.empty() && m.entries.back().header->SameAs(*h)
                 ? m.entries.back().header
                 : std::move(h);
  history::State cur = history::Fold(snap, &m.tables);
  e.key = m.entries.empty() || m.since_key + 1 >= kKeyEvery;
  e.workloads = history::Encode(cur, e.key ? history::State{} : m.last);
  m.since_key = e.key ? 0 : m.since_key + 1;
  m.last = std::move(cur);
  m.entries.push_back(std::move(e));
  m.Evict(snap.taken_unix_ns);
  if (m.tables.ids.size() + m.tables.names.size() > m.compact_at) {
    m.CompactTables();
  }
}

void History::Impl::Evict(int64_t newest_ns) {
  while (entries.size() > opts.max_entries ||
         (!entries.empty() &&
          entries.front().taken_unix_ns < newest_ns - opts.keep_ns)) {
    // The new oldest must decode alone: make it a key.
    if (entries.size() >= 2 && !entries[1].key) {
      const history::State first = history::Decode(entries[0].workloads, {});
      entries[1].workloads =
          history::Encode(history::Decode(entries[1].workloads, first), {});
      entries[1].key = true;
    }
    entries.pop_front();
  }
  if (entries.empty()) {
    last.clear();
    since_key = 0;
  }
}

void History::Impl::CompactTables() {
  history::Tables fresh;
  history::State old_prev, new_prev;
  for (Entry& e : entries) {
    history::State s =
        history::Decode(e.workloads, e.key ? history::State{} : old_prev);
    history::State n = history::Remap(s, tables, &fresh);
    e.workloads = history::Encode(n, e.key ? history::State{} : new_prev);
    old_prev = std::move(s);
    new_prev = std::move(n);
  }
  last = std::move(new_prev);
  tables = std::move(fresh);
  compact_at =
      std::max<size_t>(1024, 2 * (tables.ids.size() + tables.names.size()));
}

Snapshot History::Impl::ToSnapshot(const Entry& e,
                                   const history::State& s) const {
  Snapshot out;
  out.taken_unix_ns = e.taken_unix_ns;
  out.host = e.header->host;
  out.kernel = e.header->kernel;
  out.agent_start_unix_ns = e.header->agent_start_unix_ns;
  out.programs = e.header->programs;
  out.slos = e.slos;
  out.live_processes = e.live_processes;
  out.maps.push_back({.name = "[all]", .drops = e.drops});
  history::Unfold(s, tables, &out);
  return out;
}

HistoryRange History::Range(int64_t from_ns, int64_t to_ns,
                            size_t limit) const {
  std::lock_guard<std::mutex> l(mu_);
  const Impl& m = *impl_;
  HistoryRange r;
  r.entries = m.entries.size();
  if (m.entries.empty()) return r;
  r.oldest_unix_ns = m.entries.front().taken_unix_ns;
  r.newest_unix_ns = m.entries.back().taken_unix_ns;
  auto first = std::lower_bound(
      m.entries.begin(), m.entries.end(), from_ns,
      [](const Entry& e, int64_t t) { return e.taken_unix_ns < t; });
  auto last = std::upper_bound(
      first, m.entries.end(), to_ns,
      [](int64_t t, const Entry& e) { return t < e.taken_unix_ns; });
  if (static_cast<size_t>(last - first) > limit) {
    r.truncated = true;
    first = last - static_cast<std::ptrdiff_t>(limit);
  }
  if (first == last) return r;
  // Deltas: decode from the key at or before the first entry asked.
  auto it = first;
  while (!it->key && it != m.entries.begin()) --it;
  history::State s;
  for (; it != last; ++it) {
    s = history::Decode(it->workloads, it->key ? history::State{} : s);
    if (it >= first) r.snapshots.push_back(m.ToSnapshot(*it, s));
  }
  return r;
}

size_t History::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return impl_->entries.size();
}

size_t History::MemoryBytes() const {
  std::lock_guard<std::mutex> l(mu_);
  const Impl& m = *impl_;
  // The deque's blocks hold the Entry structs themselves.
  size_t b = sizeof(Impl) + m.entries.size() * sizeof(Entry) +
             m.tables.Bytes() + history::StateBytes(m.last);
  const Header* last = nullptr;
  for (const Entry& e : m.entries) {
    b += e.workloads.capacity() > 15 ? e.workloads.capacity() + 1 : 0;
    b += e.slos.capacity() * sizeof(SloBurn);
    if (e.header.get() != last) {
      last = e.header.get();
      b += sizeof(Header) + 32 +  // with make_shared's control block
           last->programs.capacity() * sizeof(ProgramStatus);
    }
  }
  return b;
}

}  // namespace redline
