#include "agent/probes/dns_sweep.h"

#include <bpf/bpf.h>
#include <linux/types.h>

#include <cstddef>
#include <vector>

#include "bpf/l7_dns.h"

namespace redline {

static_assert(sizeof(rl_dns_pending_key) == 16);
static_assert(offsetof(rl_dns_pending_key, id) == 12);
static_assert(sizeof(rl_dns_pending) == sizeof(rl_l7_key) + 8);
static_assert(sizeof(rl_dns_early) == 16);

namespace {

// Early responses (dns_early) older than RL_DNS_EARLY_NS: their query
// never came. Deleted; the number the agent deleted (a query that came
// meanwhile deleted it first, and counted it).
uint64_t SweepEarly(int early_fd, uint64_t now_ns) {
  std::vector<rl_dns_pending_key> old;
  rl_dns_pending_key key{}, next{};
  rl_dns_early e{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(early_fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(early_fd, &key, &e) == 0 && e.ts_ns < now_ns &&
        now_ns - e.ts_ns > RL_DNS_EARLY_NS) {
      old.push_back(key);
    }
  }
  uint64_t n = 0;
  for (const rl_dns_pending_key& k : old) {
    n += bpf_map_delete_elem(early_fd, &k) == 0;
  }
  return n;
}

}  // namespace

DnsSweep SweepDnsTimeouts(const DnsSweepMaps& maps, uint64_t now_ns) {
  const int pending_fd = maps.pending, stats_fd = maps.stats;
  DnsSweep out;
  std::vector<rl_dns_pending_key> expired;
  rl_dns_pending_key key{}, next{};
  rl_dns_pending p{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(pending_fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(pending_fd, &key, &p) != 0) continue;
    // A query seen after now_ns was read (another CPU) is not old.
    if (p.start_ns < now_ns && now_ns - p.start_ns > RL_DNS_TIMEOUT_NS) {
      expired.push_back(key);
    } else {
      ++out.pending;
    }
  }
  for (const rl_dns_pending_key& k : expired) {
    if (bpf_map_lookup_elem(pending_fd, &k, &p) != 0 ||
        bpf_map_delete_elem(pending_fd, &k) != 0) {
      continue;  // answered meanwhile: the kernel counted it
    }
    ++out.timed_out;
    rl_l7_key s = p.key;
    s.outcome = RL_DNS_R_TIMEOUT;
    rl_l7_val v{};
    if (bpf_map_lookup_elem(stats_fd, &s, &v) != 0) v = rl_l7_val{};
    ++v.requests;  // no response: untimed
    if (bpf_map_update_elem(stats_fd, &s, &v, BPF_ANY) != 0) ++out.lost;
  }
  if (maps.early >= 0) out.unmatched = SweepEarly(maps.early, now_ns);
  return out;
}

}  // namespace redline
