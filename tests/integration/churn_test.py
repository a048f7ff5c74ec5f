#!/usr/bin/env python3
"""Process churn and cardinality with a running agent:
- 20000 short-lived /bin/true from 4 parallel workers: exec and exit_group
  of comm "true" counted exactly once per process, agent RSS and kernel map
  entries back to their steady state, no drops;
- 5000 distinct comms: every family stays within the series budget plus
  one [other] series, counters never go down, and the folded family's total
  matches an agent that folds nothing."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, require_bpf, rss_kib, series, value  # noqa

N_TRUE = 20000
N_COMMS = 5000
BUDGET = 2000



def spawn(*args):
    out = subprocess.run([os.environ["RL_SPAWN"], *map(str, args)],
                         check=True, capture_output=True, text=True).stdout
    check(out.strip() == f"spawned {args[1]}", f"rl_spawn {args[:3]}: {out.strip()}")


def settle(agent, seconds=2.5):
    """Two refreshes (interval 1 s): exited processes exported, then freed
    and the heap trimmed."""
    time.sleep(seconds)
    return agent.scrape()


def churn():
    with Agent("--refresh-interval=1") as agent:
        # Warm-up at the storm's own size: the agent's tables and malloc's
        # arenas reach the storm's peak once, so what is left to grow in
        # the measured storm is a leak (with a 2000-process warm-up, the
        # first peak alone gave +2-12% on CI, leak or not).
        spawn("exec", N_TRUE, 4, "/bin/true")
        before = settle(agent)
        rss0 = rss_kib(agent.proc.pid)
        procs0 = value(before, "redline_bpf_map_entries", map="procs")
        stats0 = value(before, "redline_bpf_map_entries", map="sys_stats")
        sched0 = value(before, "redline_bpf_map_entries", map="sched_stats")

        stop = threading.Event()
        scrapes = []

        def scraper():  # scrapes during the storm, as Prometheus would
            while not stop.is_set():
                scrapes.append(agent.scrape())
                time.sleep(0.3)
        t = threading.Thread(target=scraper)
        t.start()
        t0 = time.time()
        spawn("exec", N_TRUE, 4, "/bin/true")
        took = time.time() - t0
        stop.set()
        t.join()
        after = settle(agent)

        for sc in ("exit_group", "execve"):
            d = (value(after, "redline_syscalls_total", comm="true", syscall=sc)
                 - value(before, "redline_syscalls_total", comm="true",
                         syscall=sc))
            check(d == N_TRUE, f"{sc} of comm=true == {N_TRUE} processes ({d:.0f})")
        seen = [value(m, "redline_syscalls_total", comm="true",
                      syscall="exit_group") for m in scrapes + [after]]
        check(all(b >= a for a, b in zip(seen, seen[1:])),
              f"exit_group of comm=true never went down over {len(seen)} scrapes")
        drops = series(after, "redline_bpf_map_drops_total")
        sys_drops = sum(v for l, v in drops.items()
                        if dict(l)["map"] in ("sys_stats", "sys_errors", "procs"))
        check(sys_drops == 0, f"no syscall map drops ({sys_drops})")
        # sched_stats is updated under the run-queue lock, where the BPF
        # allocator cannot refill its per-CPU cache: a fork storm may rarely
        # get -ENOMEM. Such a loss is counted, and must stay rare.
        other = sum(drops.values()) - sys_drops
        check(other <= 10, f"other map drops are rare and counted ({other})")
        procs1 = value(after, "redline_bpf_map_entries", map="procs")
        stats1 = value(after, "redline_bpf_map_entries", map="sys_stats")
        check(procs1 <= procs0 + 20,
              f"procs map back to steady state ({procs0:.0f} -> {procs1:.0f})")
        check(stats1 <= stats0 + 200,
              f"sys_stats map back to steady state ({stats0:.0f} -> {stats1:.0f})")
        sched1 = value(after, "redline_bpf_map_entries", map="sched_stats")
        check(sched1 <= sched0 + 200,
              f"sched_stats map back to steady state ({sched0:.0f} -> {sched1:.0f})")
        cpu = (value(after, "redline_cpu_seconds_total", comm="true") -
               value(before, "redline_cpu_seconds_total", comm="true"))
        check(cpu > 0, f"CPU time of comm=true counted ({cpu:.3f} s)")
        rss1 = rss_kib(agent.proc.pid)
        check(rss1 <= rss0 * 1.10,
              f"agent RSS within 10% ({rss0} KiB -> {rss1} KiB)")
        print(f"info: {N_TRUE} processes in {took:.1f} s "
              f"({N_TRUE / took:.0f}/s), {len(scrapes)} scrapes during churn")


def cardinality():
    with Agent() as folded, Agent(f"--max-series-per-family={10**6}") as full:
        spawn("names", N_COMMS, 4, 3, "rlc")
        time.sleep(0.3)
        a1 = folded.scrape()
        b = full.scrape()
        a2 = folded.scrape()
        names = {dict(l).get("comm") for l in
                 series(b, "redline_syscalls_total")}
        check(sum(1 for n in names if n and n.startswith("rlc")) == N_COMMS,
              f"the unfolded agent sees all {N_COMMS} comms")
        for fam in ("redline_syscalls_total", "redline_syscall_errors_total",
                    "redline_syscall_duration_seconds_count"):
            n = len(series(a2, fam))
            check(n <= BUDGET + 1, f"{fam}: {n} series <= budget + 1")
        other = series(a2, "redline_syscalls_total", comm="[other]")
        check(len(other) == 1, f"one [other] series: {other}")
        folded_n = value(a2, "redline_series_folded_total",
                         family="redline_syscalls_total")
        check(folded_n > 0, f"redline_series_folded_total counts folds ({folded_n})")
        # Both agents see the same syscalls, except each other's map reads
        # and deletes, which happen between the two scrapes: leave comm
        # "redline" out (too large to be folded, so it is never in [other]).
        def total(m):
            return sum(v for l, v in series(m, "redline_syscalls_total").items()
                       if dict(l).get("comm") != "redline")
        total_a, total_b = total(a1), total(b)
        check(abs(total_a - total_b) <= 0.01 * total_b,
              f"folded total matches the unfolded agent ({total_a:.0f} vs {total_b:.0f})")
        for labels, v in series(a2, "redline_syscalls_total").items():
            prev = series(a1, "redline_syscalls_total").get(labels)
            if prev is not None and v < prev:
                check(False, f"series went down: {dict(labels)} {prev} -> {v}")
        check(True, "no series went down between scrapes")


def map_pressure():
    """sys_stats sized for 256 entries, 60 live processes with ~30 syscalls
    each: the agent moves the smallest live entries into its own totals so
    new pairs find room, and counts stay exact."""
    n, calls = 60, 100
    with Agent("--refresh-interval=1", "--max-syscall-entries=256") as agent:
        kids = []
        try:
            for _ in range(n):
                p = subprocess.Popen(
                    [os.environ["RL_SYSSTORM"], str(calls), "0", "--wait",
                     "--comm", "rl_spill"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                p.stdout.readline()
                kids.append(p)
            # Start-up fills the map (drops there are expected). Each read
            # makes room (down to 50% full); between reads, a batch of 10
            # processes adds ~30 new (process, syscall) pairs.
            time.sleep(1.2)
            m0 = agent.scrape()
            for i in range(0, n, 10):
                time.sleep(1.2)
                for p in kids[i:i + 10]:
                    p.stdin.write("go\n")
                    p.stdin.flush()
                    p.stdout.readline()
            m1 = agent.scrape()
            time.sleep(2.5)
            m2 = agent.scrape()
        finally:
            for p in kids:
                p.stdin.close()
                p.wait()
        ev = value(m2, "redline_bpf_map_evictions_total", map="sys_stats")
        check(ev > 0, f"live entries were moved out of the full map ({ev:.0f})")
        drops = (value(m2, "redline_bpf_map_drops_total", map="sys_stats") -
                 value(m0, "redline_bpf_map_drops_total", map="sys_stats"))
        # Every process on the host shares the 256-entry map, so others may
        # drop; the helpers' exact counts below are what must hold.
        print(f"info: sys_stats drops after start-up, host-wide: {drops:.0f}")
        for m in (m1, m2):
            got = value(m, "redline_syscalls_total", comm="rl_spill",
                        syscall="getppid")
            check(got == n * calls, f"getppid exact under map pressure ({got:.0f})")
        entries = value(m2, "redline_bpf_map_entries", map="sys_stats")
        check(entries <= 256, f"sys_stats within capacity ({entries:.0f})")


def main():
    require_bpf()
    churn()
    cardinality()
    map_pressure()


if __name__ == "__main__":
    main()
