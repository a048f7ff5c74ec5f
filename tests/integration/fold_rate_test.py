#!/usr/bin/env python3
"""Folding keeps Prometheus's rate() continuous (issue 23).

A real Prometheus scrapes two agents every second: one that folds
(--max-series-per-family=20) and one that folds nothing. 20 names make
40,000 getppid calls each and stop, and take every place in the budget
(the host's other syscalls are far fewer in this test's seconds); 5 more
names appear small (folded into [other]), then each makes 100,000 calls in
one burst and so displaces one of the 20 (more than twice its total). Over
a window around the burst, quiet at both ends:
- no exported series of the folding agent resets (Prometheus's resets());
- the growth of all its series over the window ([other] included; max -
  min per series, what increase() adds without its extrapolation) equals
  the other agent's within 5% (1.000 here): the displaced series end at their totals
  and [other] takes only their growth (none: they are idle). Moving their
  200,000 past calls into [other] at once, as folding did before, reads
  as 40% more calls in that window than happened;
- the 5 burst names are exported on their own, from 0, and the displaced
  series are no longer exported;
- redline_series_folded_total counts the displacements."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, Prometheus, check, exe_as,  # noqa: E402
                    require_bpf, value)

A_NAMES = [f"rlfa{i:02d}" for i in range(20)]  # as many as the budget
B_NAMES = [f"rlfb{i:02d}" for i in range(5)]
A_CALLS = 40000
B_CALLS = 100000


TMP = tempfile.mkdtemp(prefix="rl-fold-")


def run(comm, calls):
    subprocess.run([exe_as(TMP, os.environ["RL_SYSSTORM"], comm), str(calls),
                    "0"], check=True, capture_output=True)


def pairs(m):
    """{(comm, syscall): calls} of a scrape."""
    return {(dict(l).get("comm"), dict(l).get("syscall")): v
            for (n, l), v in m.items() if n == "redline_syscalls_total"}


def folded(m):
    return value(m, "redline_series_folded_total",
                 family="redline_syscalls_total")


def main():
    require_bpf()
    with Agent("--probes=syscalls", "--max-series-per-family=20") as budget, \
            Agent("--probes=syscalls",
                  f"--max-series-per-family={10**6}") as full, \
            Prometheus({"budget": f"127.0.0.1:{budget.port}",
                        "full": f"127.0.0.1:{full.port}"}) as prom:
        prom.wait_up(["budget", "full"])
        for comm in A_NAMES:
            run(comm, A_CALLS)
        for comm in B_NAMES:
            run(comm, 100)
        time.sleep(3.5)  # scraped quiet: B folded, A's getppid kept
        m = budget.scrape()
        kept_a = [c for c in A_NAMES if (c, "getppid") in pairs(m)]
        # A busy host's own pairs may hold a place or two (each one the
        # burst displaces instead of a name is one jump fewer to see).
        spare = len(A_NAMES) - len(kept_a)
        check(spare <= 2,
              f"the budget holds {len(kept_a)} of the {len(A_NAMES)} names' "
              f"getppid: the burst displaces them")
        folded0 = folded(m)
        t0 = time.time()
        for comm in B_NAMES:
            run(comm, B_CALLS)
        time.sleep(4.5)  # the burst scraped, then quiet again
        t1 = time.time()
        time.sleep(1.5)  # Prometheus has ingested t1's scrapes
        window = f"[{t1 - t0 + 2.5:.0f}s]"
        resets = prom.scalar(
            f'sum(resets(redline_syscalls_total{{job="budget"}}{window}))', t1)
        check(resets == 0, f"no series of the folding agent reset ({resets})")
        # Growth per series over the window, as sampled: what increase()
        # adds up, without its extrapolation to the window's edges (each
        # job is scraped at its own phase: up to ~10% apart here).
        grow = ("sum(max_over_time(redline_syscalls_total{{job=\"{0}\"}}{1})"
                " - min_over_time(redline_syscalls_total{{job=\"{0}\"}}{1}))")
        inc = {job: prom.scalar(grow.format(job, window), t1)
               for job in ("budget", "full")}
        check(inc["full"] is not None and inc["full"] >= 5 * B_CALLS * 0.9,
              f"the unfolded agent's growth holds the burst ({inc})")
        ratio = inc["budget"] / inc["full"]
        check(abs(ratio - 1) <= 0.05,
              f"growth over all series, folding / unfolded = {ratio:.3f} "
              f"({inc['budget']:.0f} vs {inc['full']:.0f}); the displaced "
              f"names' past moved into [other] at once reads as ~1.4")
        m = budget.scrape()
        now = pairs(m)
        for comm in B_NAMES:
            got = now.get((comm, "getppid"))
            check(got is not None and got < B_CALLS,
                  f"{comm} exported on its own from 0 ({got})")
        displaced = len(kept_a) - sum(1 for c in A_NAMES
                                      if (c, "getppid") in now)
        check(displaced >= len(B_NAMES) - spare,
              f"{displaced} displaced names no longer exported")
        folded1 = folded(m)
        check(folded1 - folded0 >= len(B_NAMES),
              f"the displacements are counted ({folded1 - folded0})")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
