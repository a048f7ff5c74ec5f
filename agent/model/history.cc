#include "agent/model/history.h"

#include <algorithm>
#include <cstring>

#include "agent/model/request_protocols.h"

namespace redline {
namespace {

// LEB128: cumulative counters of an hour are mostly 1-6 bytes, not 8.
void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads within [*p, end); a truncated input reads as zeros (entries are
// only ever written by Encode, so this is a guard, not a format).
uint64_t GetVarint(const char** p, const char* end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

// Sparse: the number of non-empty slots, then (gap from the last, count).
template <typename Hist>
void PutHist(const Hist& h, std::string* out) {
  const auto n =
      std::count_if(h.begin(), h.end(), [](uint64_t c) { return c; });
  PutVarint(static_cast<uint64_t>(n), out);
  size_t last = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (!h[i]) continue;
    PutVarint(i - last, out);
    PutVarint(h[i], out);
    last = i;
  }
}

template <typename Hist>
void GetHist(const char** p, const char* end, Hist* h) {
  const uint64_t n = GetVarint(p, end);
  size_t slot = 0;
  for (uint64_t k = 0; k < n && *p < end; ++k) {
    slot += GetVarint(p, end);
    const uint64_t c = GetVarint(p, end);
    if (slot < h->size()) (*h)[slot] = c;
  }
}

enum RecordFlags : uint64_t { kSched = 1, kThrottle = 2, kBurn = 4 };

// An outcome label of each class per protocol, for folded requests: the
// decoded key must be an error exactly when the originals were.
struct Outcomes {
  std::string ok, error;
};
const std::vector<Outcomes>& RepresentativeOutcomes() {
  static const auto* out = [] {
    auto* v = new std::vector<Outcomes>;
    for (const RequestProtocol& p : RequestProtocols()) {
      Outcomes o{"ok", "error"};
      bool have_ok = false, have_error = false;
      for (uint32_t code = 0; code < 256; ++code) {
        const std::string label = p.outcome_name(code);
        const bool bad = p.is_error(label);
        if (bad && !have_error) o.error = label, have_error = true;
        if (!bad && !have_ok) o.ok = label, have_ok = true;
      }
      v->push_back(o);
    }
    return v;
  }();
  return *out;
}

int ProtocolIndex(const std::string& name) {
  const auto& ps = RequestProtocols();
  for (size_t i = 0; i < ps.size(); ++i) {
    if (name == ps[i].name) return static_cast<int>(i);
  }
  return -1;
}

// What one workload contributes to top's row, folded.
struct Folded {
  uint64_t calls = 0, errors = 0;
  Log2Hist sys{};
  uint64_t retrans = 0;
  // By protocol index * 4 + server * 2 + error.
  std::map<uint32_t, std::pair<uint64_t, FineHist>> requests;
};

Folded Fold(const WorkloadStats& ws) {
  Folded f;
  for (const auto& [nr, s] : ws.syscalls) {
    f.calls += s.calls;
    f.errors += s.errors;
    for (size_t i = 0; i < s.hist.size(); ++i) f.sys[i] += s.hist[i];
  }
  for (const auto& [peer, t] : ws.tcp) f.retrans += t.retrans_segs;
  for (const auto& [k, r] : ws.requests) {
    const int p = ProtocolIndex(k.protocol);
    if (p < 0) continue;
    const bool bad = RequestProtocols()[p].is_error(k.outcome);
    auto& [n, h] = f.requests[p * 4 + (k.server ? 2 : 0) + (bad ? 1 : 0)];
    n += r.requests;
    for (size_t i = 0; i < h.size(); ++i) h[i] += r.hist[i];
  }
  return f;
}

}  // namespace

struct History::Header {
  std::string host, kernel;
  int64_t agent_start_unix_ns = 0;
  std::vector<ProgramStatus> programs;  // name, attached, reason
  bool operator==(const Header& o) const {
    if (host != o.host || kernel != o.kernel ||
        agent_start_unix_ns != o.agent_start_unix_ns ||
        programs.size() != o.programs.size()) {
      return false;
    }
    for (size_t i = 0; i < programs.size(); ++i) {
      if (programs[i].name != o.programs[i].name ||
          programs[i].attached != o.programs[i].attached ||
          programs[i].reason != o.programs[i].reason) {
        return false;
      }
    }
    return true;
  }
};

uint32_t History::Tables::Id(const WorkloadId& id) {
  auto [it, added] = id_index.try_emplace(id, ids.size());
  if (added) ids.push_back(id);
  return it->second;
}

uint32_t History::Tables::Name(const std::string& name) {
  auto [it, added] = name_index.try_emplace(name, names.size());
  if (added) names.push_back(name);
  return it->second;
}

size_t History::Tables::Bytes() const {
  auto heap = [](const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond SSO
  };
  size_t b = ids.capacity() * sizeof(WorkloadId) +
             names.capacity() * sizeof(std::string);
  // The index holds a copy of every key.
  b += id_index.capacity() * (sizeof(WorkloadId) + sizeof(uint32_t) + 1);
  b += name_index.capacity() * (sizeof(std::string) + sizeof(uint32_t) + 1);
  for (const WorkloadId& id : ids) {
    const size_t s = heap(id.comm) + heap(id.container_id) + heap(id.pod_uid) +
                     heap(id.systemd_unit) + heap(id.namespace_name) +
                     heap(id.pod) + heap(id.container) + heap(id.workload);
    b += 2 * s;
  }
  for (const std::string& n : names) b += 2 * heap(n);
  return b;
}

History::History(HistoryOptions opts) : opts_(opts) {}

History::Entry History::Encode(const Snapshot& snap, Tables* t) {
  Entry e;
  e.taken_unix_ns = snap.taken_unix_ns;
  e.slos = snap.slos;
  e.live_processes = snap.live_processes;
  for (const MapStatus& m : snap.maps) e.drops += m.drops;
  auto h = std::make_shared<Header>();
  h->host = snap.host;
  h->kernel = snap.kernel;
  h->agent_start_unix_ns = snap.agent_start_unix_ns;
  for (const ProgramStatus& p : snap.programs) {
    h->programs.push_back({p.name, p.attached, p.reason});
  }
  e.header = std::move(h);
  std::string& out = e.workloads;
  PutVarint(snap.workloads.size(), &out);
  for (const auto& [id, ws] : snap.workloads) {
    PutVarint(t->Id(id), &out);
    PutVarint((ws.has_sched ? kSched : 0) | (ws.has_throttle ? kThrottle : 0) |
                  (ws.slo_burn >= 0 ? kBurn : 0),
              &out);
    if (ws.has_sched) {
      PutVarint(ws.sched.cpu_ns, &out);
      PutVarint(ws.sched.steal_ns, &out);
      PutVarint(ws.sched.rq_sum_ns, &out);
      for (uint64_t ns : ws.sched.off_ns) PutVarint(ns, &out);
      PutHist(ws.sched.rq_hist, &out);
    }
    if (ws.has_throttle) {
      PutVarint(ws.throttle.periods, &out);
      PutVarint(ws.throttle.throttled_periods, &out);
      PutVarint(ws.throttle.throttled_ns, &out);
    }
    if (ws.slo_burn >= 0) {
      uint64_t bits;
      std::memcpy(&bits, &ws.slo_burn, sizeof(bits));
      PutVarint(bits, &out);
    }
    const Folded f = Fold(ws);
    PutVarint(f.calls, &out);
    PutVarint(f.errors, &out);
    PutHist(f.sys, &out);
    PutVarint(f.retrans, &out);
    PutVarint(ws.rq_culprits.size(), &out);
    for (const auto& [who, ns] : ws.rq_culprits) {
      PutVarint(t->Name(who), &out);
      PutVarint(ns, &out);
    }
    PutVarint(f.requests.size(), &out);
    for (const auto& [code, r] : f.requests) {
      PutVarint(code, &out);
      PutVarint(r.first, &out);
      PutHist(r.second, &out);
    }
  }
  out.shrink_to_fit();
  return e;
}

Snapshot History::Decode(const Entry& e, const Tables& t) {
  Snapshot s;
  s.taken_unix_ns = e.taken_unix_ns;
  s.host = e.header->host;
  s.kernel = e.header->kernel;
  s.agent_start_unix_ns = e.header->agent_start_unix_ns;
  s.programs = e.header->programs;
  s.slos = e.slos;
  s.live_processes = e.live_processes;
  s.maps.push_back({.name = "[all]", .drops = e.drops});
  const char* p = e.workloads.data();
  const char* end = p + e.workloads.size();
  const uint64_t n = GetVarint(&p, end);
  for (uint64_t i = 0; i < n && p < end; ++i) {
    const uint64_t idx = GetVarint(&p, end);
    if (idx >= t.ids.size()) break;
    WorkloadStats& ws = s.workloads[t.ids[idx]];
    const uint64_t flags = GetVarint(&p, end);
    if (flags & kSched) {
      ws.has_sched = true;
      ws.sched.cpu_ns = GetVarint(&p, end);
      ws.sched.steal_ns = GetVarint(&p, end);
      ws.sched.rq_sum_ns = GetVarint(&p, end);
      for (uint64_t& ns : ws.sched.off_ns) ns = GetVarint(&p, end);
      GetHist(&p, end, &ws.sched.rq_hist);
    }
    if (flags & kThrottle) {
      ws.has_throttle = true;
      ws.throttle.periods = GetVarint(&p, end);
      ws.throttle.throttled_periods = GetVarint(&p, end);
      ws.throttle.throttled_ns = GetVarint(&p, end);
    }
    if (flags & kBurn) {
      const uint64_t bits = GetVarint(&p, end);
      std::memcpy(&ws.slo_burn, &bits, sizeof(bits));
    }
    SyscallStats sys;
    sys.calls = GetVarint(&p, end);
    sys.errors = GetVarint(&p, end);
    GetHist(&p, end, &sys.hist);
    if (sys.calls || sys.errors) ws.syscalls[kFoldedSyscall] = sys;
    if (const uint64_t retrans = GetVarint(&p, end)) {
      ws.tcp[TcpPeer{}].retrans_segs = retrans;
    }
    const uint64_t culprits = GetVarint(&p, end);
    for (uint64_t c = 0; c < culprits && p < end; ++c) {
      const uint64_t name = GetVarint(&p, end);
      const uint64_t ns = GetVarint(&p, end);
      if (name < t.names.size()) ws.rq_culprits[t.names[name]] = ns;
    }
    const uint64_t requests = GetVarint(&p, end);
    for (uint64_t r = 0; r < requests && p < end; ++r) {
      const uint64_t code = GetVarint(&p, end);
      RequestStats st;
      st.requests = GetVarint(&p, end);
      GetHist(&p, end, &st.hist);
      for (uint64_t c : st.hist) st.timed += c;
      const size_t proto = code / 4;
      if (proto >= RequestProtocols().size()) continue;
      const Outcomes& o = RepresentativeOutcomes()[proto];
      ws.requests[RequestKey{.protocol = RequestProtocols()[proto].name,
                             .server = (code & 2) != 0,
                             .operation = "all",
                             .outcome = (code & 1) ? o.error : o.ok}] = st;
    }
  }
  return s;
}

void History::Add(const Snapshot& snap) {
  std::lock_guard<std::mutex> l(mu_);
  if (opts_.max_entries == 0) return;
  if (!entries_.empty() && snap.taken_unix_ns <= entries_.back().taken_unix_ns)
    return;
  Entry e = Encode(snap, &tables_);
  if (!entries_.empty() && *entries_.back().header == *e.header) {
    e.header = entries_.back().header;
  }
  entries_.push_back(std::move(e));
  EvictLocked(snap.taken_unix_ns);
  if (tables_.ids.size() + tables_.names.size() > compact_at_) {
    CompactTablesLocked();
  }
}

void History::EvictLocked(int64_t newest_ns) {
  while (entries_.size() > opts_.max_entries ||
         (!entries_.empty() &&
          entries_.front().taken_unix_ns < newest_ns - opts_.keep_ns)) {
    entries_.pop_front();
  }
}

void History::CompactTablesLocked() {
  Tables fresh;
  for (Entry& e : entries_) {
    Entry re = Encode(Decode(e, tables_), &fresh);
    e.workloads = std::move(re.workloads);
  }
  tables_ = std::move(fresh);
  compact_at_ =
      std::max<size_t>(1024, 2 * (tables_.ids.size() + tables_.names.size()));
}

HistoryRange History::Range(int64_t from_ns, int64_t to_ns,
                            size_t limit) const {
  std::lock_guard<std::mutex> l(mu_);
  HistoryRange r;
  r.entries = entries_.size();
  if (entries_.empty()) return r;
  r.oldest_unix_ns = entries_.front().taken_unix_ns;
  r.newest_unix_ns = entries_.back().taken_unix_ns;
  auto first = std::lower_bound(
      entries_.begin(), entries_.end(), from_ns,
      [](const Entry& e, int64_t t) { return e.taken_unix_ns < t; });
  auto last = std::upper_bound(
      first, entries_.end(), to_ns,
      [](int64_t t, const Entry& e) { return t < e.taken_unix_ns; });
  if (static_cast<size_t>(last - first) > limit) {
    r.truncated = true;
    first = last - static_cast<std::ptrdiff_t>(limit);
  }
  for (auto it = first; it != last; ++it) {
    r.snapshots.push_back(Decode(*it, tables_));
  }
  return r;
}

size_t History::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

size_t History::MemoryBytes() const {
  std::lock_guard<std::mutex> l(mu_);
  // The deque's blocks hold the Entry structs themselves.
  size_t b = entries_.size() * sizeof(Entry) + tables_.Bytes();
  const Header* last = nullptr;
  for (const Entry& e : entries_) {
    b += e.workloads.capacity() > 15 ? e.workloads.capacity() + 1 : 0;
    b += e.slos.capacity() * sizeof(SloBurn);
    if (e.header.get() != last) {
      last = e.header.get();
      b += sizeof(Header) + 32 +  // the control block of make_shared
           last->programs.capacity() * sizeof(ProgramStatus);
    }
  }
  return b;
}

}  // namespace redline
