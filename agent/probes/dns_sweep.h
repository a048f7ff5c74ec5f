// DNS queries nobody answered (bpf/l7_dns_udp.bpf.h keeps each query until
// its response): at each refresh, those older than RL_DNS_TIMEOUT_NS are
// counted in l7_stats as requests with outcome `timeout` (the kernel never
// writes that outcome, so the agent's read-modify-write races with nothing)
// and deleted, which also keeps the table from filling. And a client's
// response that came before its query (dns_early) and waited longer than
// RL_DNS_EARLY_NS is a response without a query: counted and deleted.
#ifndef REDLINE_AGENT_PROBES_DNS_SWEEP_H_
#define REDLINE_AGENT_PROBES_DNS_SWEEP_H_

#include <cstdint>

namespace redline {

struct DnsSweep {
  uint64_t pending = 0;    // queries still waiting, after the sweep
  uint64_t timed_out = 0;  // counted as timeouts and deleted
  uint64_t lost = 0;       // timed out, but l7_stats had no room to count
  uint64_t unmatched = 0;  // early responses no query claimed, deleted
};

// The maps a sweep reads and writes.
struct DnsSweepMaps {
  int pending = -1;  // dns_pending
  int early = -1;    // dns_early
  int stats = -1;    // l7_stats
};

// now_ns: CLOCK_MONOTONIC (bpf_ktime_get_ns's clock).
DnsSweep SweepDnsTimeouts(const DnsSweepMaps& maps, uint64_t now_ns);

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_DNS_SWEEP_H_
