#!/usr/bin/env python3
"""A kernel map too small for its keys: every lost update is counted.

The HTTP stats map is shrunk to its minimum (--max-http-entries=64) and a
workload (comm rl_mapfill, in this test's own network namespace) makes
R keep-alive requests on each of N connections to N distinct listening
ports, playing both ends: 2 * N keys (client side by peer port, server
side by local port) and 2 * N * R request events, far more than fit.

- redline_bpf_map_update_errors_total{map="l7_stats",errno="E2BIG"} > 0:
  the map was full and BPF said so (a full hash map returns -E2BIG);
- counted + dropped = generated, exactly: the requests exported for
  rl_mapfill (client and server) plus the update errors of l7_stats equal
  2 * N * R. Nothing else speaks HTTP in this namespace but the test's
  own readiness probe, whose keys are inserted while the map is empty;
- redline_bpf_map_drops_total{map="l7_stats"} is the sum over errno;
- the map never holds more than its capacity, and the agent keeps
  serving (a full map never blocks).
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (HTTP_EXCHANGE, Agent, check, enter_netns,  # noqa: E402
                    python_as, require_bpf, series, value)

N, R, CAP = 150, 3, 64
COMM = "rl_mapfill"
UPD = "redline_bpf_map_update_errors_total"

WORKLOAD = HTTP_EXCHANGE + r"""
import socket, sys
n, r = int(sys.argv[1]), int(sys.argv[2])
listeners = []
for _ in range(n):
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(1)
    listeners.append(l)
for l in listeners:
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    for _ in range(r):
        exchange(c, s)
    c.close()
    s.close()
    l.close()
print("done", flush=True)
sys.stdin.read()  # stay alive until the test has read the counts
"""


def counted(m):
    return sum(sum(series(m, f"redline_http_{role}_requests_total",
                          comm=COMM).values())
               for role in ("client", "server"))


def main():
    require_bpf()
    enter_netns("RL_MAPFULL_INNER")
    generated = 2 * N * R
    with tempfile.TemporaryDirectory() as tmp, \
            Agent(f"--max-http-entries={CAP}") as agent:
        m0 = agent.scrape()
        base = value(m0, UPD, map="l7_stats")
        check(base == 0, f"no l7_stats update errors before the workload "
              f"({base:.0f})")
        check(value(m0, "redline_bpf_map_capacity", map="l7_stats") == CAP,
              f"l7_stats capacity {CAP}")
        wl = subprocess.Popen([python_as(tmp, COMM), "-c", WORKLOAD, str(N),
                               str(R)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        try:
            check(wl.stdout.readline().strip() == "done",
                  f"{COMM}: {N} connections x {R} requests, both ends")
            # Counts reach the agent at its next read; both sides settle.
            deadline, total = time.time() + 10, None
            while time.time() < deadline:
                m = agent.scrape()
                c = counted(m)
                e = value(m, UPD, map="l7_stats")
                if c + e == generated:
                    break
                time.sleep(0.5)
        finally:
            wl.stdin.close()
            wl.wait(timeout=10)
        e2big = value(m, UPD, map="l7_stats", errno="E2BIG")
        print(f"info: generated {generated}, counted {c:.0f}, "
              f"update errors {e:.0f} (E2BIG {e2big:.0f})")
        check(e2big > 0 and e2big == e,
              f"the full map said so: {e2big:.0f} E2BIG update errors, "
              f"no other kind ({e - e2big:.0f})")
        check(c + e == generated,
              f"counted + dropped = generated: {c:.0f} + {e:.0f} = "
              f"{c + e:.0f} (want {generated})")
        drops = value(m, "redline_bpf_map_drops_total", map="l7_stats")
        check(drops == e, f"redline_bpf_map_drops_total {drops:.0f} is the "
              f"sum over errno")
        entries = value(m, "redline_bpf_map_entries", map="l7_stats")
        check(entries <= CAP, f"l7_stats holds {entries:.0f} <= {CAP}")
        kinds = {dict(l)["errno"] for l in series(m, UPD, map="sys_stats")}
        check(kinds == {"E2BIG", "ENOMEM", "EBUSY", "ENOENT", "other"},
              f"every map exports every kind from the start ({sorted(kinds)})")
        hz = agent.get("/healthz")
        check(hz.strip() != "", "the agent still serves")


if __name__ == "__main__":
    main()
