#include "agent/model/history_codec.h"

#include <algorithm>
#include <cstring>

#include "agent/model/request_protocols.h"

namespace redline::history {
namespace {

// LEB128 of zigzag deltas: an interval's growth is mostly 1-5 bytes.
void Put(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t Get(const char** p, const char* end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    const auto b = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

// Wrapping difference, zigzagged: exact for any pair of uint64.
void PutDelta(uint64_t cur, uint64_t prev, std::string* out) {
  const auto d = static_cast<int64_t>(cur - prev);
  Put((static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63), out);
}

uint64_t GetDelta(uint64_t prev, const char** p, const char* end) {
  const uint64_t z = Get(p, end);
  return prev + ((z >> 1) ^ (~(z & 1) + 1));
}

// The slots that changed, as chunks of up to 64 slots: the number of
// chunks, then each chunk's start (from the end of the one before) and a
// mask of its slots (bit 0: the start), then each changed slot's delta.
// Busy slots are contiguous: one chunk of a few bytes, not a gap each.
template <typename Hist>
void PutHist(const Hist& cur, const Hist& prev, std::string* out) {
  std::vector<std::pair<size_t, uint64_t>> chunks;
  for (size_t i = 0; i < cur.size(); ++i) {
    if (cur[i] == prev[i]) continue;
    if (chunks.empty() || i >= chunks.back().first + 64) {
      chunks.emplace_back(i, 0);
    }
    chunks.back().second |= uint64_t{1} << (i - chunks.back().first);
  }
  Put(chunks.size(), out);
  size_t next = 0;
  for (const auto& [start, mask] : chunks) {
    Put(start - next, out);
    Put(mask, out);
    for (size_t b = 0; b < 64; ++b) {
      if (mask & (uint64_t{1} << b)) {
        PutDelta(cur[start + b], prev[start + b], out);
      }
    }
    next = start + 64;
  }
}

template <typename Hist>
void GetHist(const char** p, const char* end, Hist* h) {
  size_t next = 0;
  for (uint64_t c = Get(p, end); c > 0 && *p < end; --c) {
    const size_t start = next + Get(p, end);
    const uint64_t mask = Get(p, end);
    for (size_t b = 0; b < 64; ++b) {
      if (!(mask & (uint64_t{1} << b))) continue;
      if (start + b >= h->size()) return;
      (*h)[start + b] = GetDelta((*h)[start + b], p, end);
    }
    next = start + 64;
  }
}

constexpr uint64_t kSame = 8;  // record flag: as in the entry before

// An outcome label of each class per protocol, for folded requests: the
// decoded key must be an error exactly when the originals were.
const std::vector<std::pair<std::string, std::string>>& Outcomes() {
  static const auto* out = [] {
    auto* v = new std::vector<std::pair<std::string, std::string>>;
    for (const RequestProtocol& p : RequestProtocols()) {
      std::string ok = "ok", error = "error";
      bool have_ok = false, have_error = false;
      for (uint32_t code = 0; code < 256; ++code) {
        const std::string label = p.outcome_name(code);
        const bool bad = p.is_error(label);
        if (bad && !have_error) error = label, have_error = true;
        if (!bad && !have_ok) ok = label, have_ok = true;
      }
      v->emplace_back(ok, error);
    }
    return v;
  }();
  return *out;
}

Rec FoldWorkload(const WorkloadStats& ws, Tables* t) {
  Rec r;
  r.flags = (ws.has_sched ? kSched : 0) | (ws.has_throttle ? kThrottle : 0) |
            (ws.slo_burn >= 0 ? kBurn : 0);
  r.v[kCpu] = ws.sched.cpu_ns;
  r.v[kSteal] = ws.sched.steal_ns;
  r.v[kRq] = ws.sched.rq_sum_ns;
  for (int i = 0; i < kOffCpuReasons; ++i) r.v[kOff0 + i] = ws.sched.off_ns[i];
  r.rq = ws.sched.rq_hist;
  r.v[kPeriods] = ws.throttle.periods;
  r.v[kThrottledPeriods] = ws.throttle.throttled_periods;
  r.v[kThrottledNs] = ws.throttle.throttled_ns;
  if (ws.slo_burn >= 0) std::memcpy(&r.v[kBurnBits], &ws.slo_burn, 8);
  for (const auto& [nr, s] : ws.syscalls) {
    r.v[kCalls] += s.calls;
    r.v[kErrors] += s.errors;
    for (size_t i = 0; i < s.hist.size(); ++i) r.sys[i] += s.hist[i];
  }
  for (const auto& [peer, tcp] : ws.tcp) r.v[kRetrans] += tcp.retrans_segs;
  for (const auto& [who, ns] : ws.rq_culprits) r.culprits[t->Name(who)] = ns;
  const auto& protocols = RequestProtocols();
  for (const auto& [k, st] : ws.requests) {
    for (uint32_t p = 0; p < protocols.size(); ++p) {
      if (k.protocol != protocols[p].name) continue;
      const bool bad = protocols[p].is_error(k.outcome);
      auto& [n, h] = r.requests[p * 4 + (k.server ? 2 : 0) + (bad ? 1 : 0)];
      n += st.requests;
      for (size_t i = 0; i < h.size(); ++i) h[i] += st.hist[i];
    }
  }
  return r;
}

}  // namespace

uint32_t Tables::Id(const WorkloadId& id) {
  auto [it, added] = id_index.try_emplace(id, ids.size());
  if (added) ids.push_back(id);
  return it->second;
}

uint32_t Tables::Name(const std::string& name) {
  auto [it, added] = name_index.try_emplace(name, names.size());
  if (added) names.push_back(name);
  return it->second;
}

size_t Tables::Bytes() const {
  auto heap = [](const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond SSO
  };
  // The indexes hold a copy of every key.
  size_t b = ids.capacity() * sizeof(WorkloadId) +
             names.capacity() * sizeof(std::string) +
             id_index.capacity() * (sizeof(WorkloadId) + 5) +
             name_index.capacity() * (sizeof(std::string) + 5);
  for (const WorkloadId& id : ids) {
    b += 2 * (heap(id.comm) + heap(id.container_id) + heap(id.pod_uid) +
              heap(id.systemd_unit) + heap(id.namespace_name) + heap(id.pod) +
              heap(id.container) + heap(id.workload));
  }
  for (const std::string& n : names) b += 2 * heap(n);
  return b;
}

State Fold(const Snapshot& snap, Tables* t) {
  State s;
  s.reserve(snap.workloads.size());
  for (const auto& [id, ws] : snap.workloads) {
    s[t->Id(id)] = FoldWorkload(ws, t);
  }
  return s;
}

std::string Encode(const State& cur, const State& prev) {
  std::string out;
  static const Rec kZero;
  Put(cur.size(), &out);
  for (const auto& [id, r] : cur) {
    Put(id, &out);
    auto it = prev.find(id);
    const Rec& p = it == prev.end() ? kZero : it->second;
    if (it != prev.end() && r == p) {
      Put(kSame, &out);
      continue;
    }
    Put(r.flags, &out);
    for (int i = 0; i < kScalars; ++i) PutDelta(r.v[i], p.v[i], &out);
    PutHist(r.rq, p.rq, &out);
    PutHist(r.sys, p.sys, &out);
    Put(r.culprits.size(), &out);
    for (const auto& [name, ns] : r.culprits) {
      auto pc = p.culprits.find(name);
      Put(name, &out);
      PutDelta(ns, pc == p.culprits.end() ? 0 : pc->second, &out);
    }
    Put(r.requests.size(), &out);
    for (const auto& [code, req] : r.requests) {
      auto pr = p.requests.find(code);
      static const std::pair<uint64_t, FineHist> kNone{};
      const auto& before = pr == p.requests.end() ? kNone : pr->second;
      Put(code, &out);
      PutDelta(req.first, before.first, &out);
      PutHist(req.second, before.second, &out);
    }
  }
  out.shrink_to_fit();
  return out;
}

State Decode(const std::string& data, const State& prev) {
  State s;
  const char* p = data.data();
  const char* end = p + data.size();
  const uint64_t n = Get(&p, end);
  s.reserve(std::min<uint64_t>(n, data.size()));
  for (uint64_t k = 0; k < n && p < end; ++k) {
    const auto id = static_cast<uint32_t>(Get(&p, end));
    auto it = prev.find(id);
    Rec& r = s[id];
    if (it != prev.end()) r = it->second;
    const uint64_t flags = Get(&p, end);
    if (flags == kSame) continue;
    r.flags = flags;
    for (int i = 0; i < kScalars; ++i) r.v[i] = GetDelta(r.v[i], &p, end);
    GetHist(&p, end, &r.rq);
    GetHist(&p, end, &r.sys);
    std::map<uint32_t, uint64_t> culprits;
    for (uint64_t c = Get(&p, end); c > 0 && p < end; --c) {
      const auto name = static_cast<uint32_t>(Get(&p, end));
      auto pc = r.culprits.find(name);
      culprits[name] =
          GetDelta(pc == r.culprits.end() ? 0 : pc->second, &p, end);
    }
    r.culprits = std::move(culprits);
    std::map<uint32_t, std::pair<uint64_t, FineHist>> requests;
    for (uint64_t c = Get(&p, end); c > 0 && p < end; --c) {
      const auto code = static_cast<uint32_t>(Get(&p, end));
      auto& req = requests[code];
      if (auto pr = r.requests.find(code); pr != r.requests.end()) {
        req = pr->second;
      }
      req.first = GetDelta(req.first, &p, end);
      GetHist(&p, end, &req.second);
    }
    r.requests = std::move(requests);
  }
  return s;
}

void Unfold(const State& s, const Tables& t, Snapshot* out) {
  const auto& protocols = RequestProtocols();
  for (const auto& [id, r] : s) {
    if (id >= t.ids.size()) continue;
    WorkloadStats& ws = out->workloads[t.ids[id]];
    ws.has_sched = r.flags & kSched;
    ws.has_throttle = r.flags & kThrottle;
    ws.sched.cpu_ns = r.v[kCpu];
    ws.sched.steal_ns = r.v[kSteal];
    ws.sched.rq_sum_ns = r.v[kRq];
    for (int i = 0; i < kOffCpuReasons; ++i) {
      ws.sched.off_ns[i] = r.v[kOff0 + i];
    }
    ws.sched.rq_hist = r.rq;
    ws.throttle = {r.v[kPeriods], r.v[kThrottledPeriods], r.v[kThrottledNs]};
    if (r.flags & kBurn) std::memcpy(&ws.slo_burn, &r.v[kBurnBits], 8);
    if (r.v[kCalls] || r.v[kErrors]) {
      SyscallStats& sys = ws.syscalls[kFoldedSyscall];
      sys.calls = r.v[kCalls];
      sys.errors = r.v[kErrors];
      sys.hist = r.sys;
    }
    if (r.v[kRetrans]) ws.tcp[TcpPeer{}].retrans_segs = r.v[kRetrans];
    for (const auto& [name, ns] : r.culprits) {
      if (name < t.names.size()) ws.rq_culprits[t.names[name]] = ns;
    }
    for (const auto& [code, req] : r.requests) {
      const size_t p = code / 4;
      if (p >= protocols.size()) continue;
      RequestStats& st = ws.requests[RequestKey{
          .protocol = protocols[p].name,
          .server = (code & 2) != 0,
          .operation = "all",
          .outcome = (code & 1) ? Outcomes()[p].second : Outcomes()[p].first}];
      st.requests = req.first;
      st.hist = req.second;
      for (uint64_t c : st.hist) st.timed += c;
    }
  }
}

State Remap(const State& s, const Tables& from, Tables* to) {
  State out;
  for (const auto& [id, r] : s) {
    if (id >= from.ids.size()) continue;
    Rec& n = out[to->Id(from.ids[id])];
    n = r;
    n.culprits.clear();
    for (const auto& [name, ns] : r.culprits) {
      if (name < from.names.size()) n.culprits[to->Name(from.names[name])] = ns;
    }
  }
  return out;
}

size_t StateBytes(const State& s) {
  constexpr size_t kNode = 48;  // a std::map node's links and allocation
  size_t b = s.capacity() * (sizeof(uint32_t) + sizeof(Rec) + 1);
  for (const auto& [id, r] : s) {
    b += r.culprits.size() * (kNode + 16) +
         r.requests.size() * (kNode + sizeof(std::pair<uint64_t, FineHist>));
  }
  return b;
}

}  // namespace redline::history
