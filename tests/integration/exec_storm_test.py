#!/usr/bin/env python3
"""Exec storm and soak: short-lived processes (/bin/true, 4 workers) as
fast as this machine forks them (a copy named rl_storm_true), for 60 s,
with Prometheus-like scrapes every 5 s and the default refresh interval
(10 s). Each process adds ~18 (process, syscall) entries: at 2,000/s that
fills sys_stats (65,536) in under 2 s, so the agent must read early
(redline_kernel_early_reads_total) or drop. Zero crashes; no update of
sys_stats or procs dropped; execve and exit_group of the copy's comm
counted exactly once per process spawned; the agent's RSS bounded
(printed every 5 s: the curve); the kernel's procs map back to its
baseline within 10 s after the storm. The achieved rate is printed."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, require_bpf, rss_kib, series, value  # noqa

SOAK_S = float(os.environ.get("RL_STORM_SECONDS", "60"))
BATCH = 2000



COMM = "rl_storm_true"  # /bin/true under a name nothing else on the host has


def counts(m):
    return {sc: value(m, "redline_syscalls_total", comm=COMM, syscall=sc)
            for sc in ("execve", "exit_group")}


def diagnose(before, after, spawned):
    """Where missing counts went: execve by comm (the storm's children run
    execve under rl_spawn's name until the exec), update errors, folding."""
    def by_comm(m, sc):
        out = {}
        for l, v in series(m, "redline_syscalls_total", syscall=sc).items():
            c = dict(l).get("comm", "?")
            out[c] = out.get(c, 0) + v
        return out
    for sc in ("execve", "exit_group"):
        b, a = by_comm(before, sc), by_comm(after, sc)
        grew = {c: a[c] - b.get(c, 0) for c in a if a[c] - b.get(c, 0)}
        print(f"info: {sc} growth by comm: {grew} (spawned {spawned})")
    errs = {str(sorted(l)): v for l, v in
            series(after, "redline_bpf_map_update_errors_total").items() if v}
    print(f"info: map update errors: {errs}")
    for fam in ("redline_series", "redline_series_folded_total"):
        print(f"info: {fam}: " + str({str(sorted(l)): v for l, v in
                                      series(after, fam).items() if v}))


def main():
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="rl-storm-")
    true = os.path.join(tmp, COMM)
    shutil.copy("/bin/true", true)
    with Agent() as agent:
        subprocess.run([os.environ["RL_SPAWN"], "exec", "1000", "4",
                        true], check=True, stdout=subprocess.DEVNULL)
        time.sleep(2.5)
        before = agent.scrape()
        procs0 = value(before, "redline_bpf_map_entries", map="procs")
        c0 = counts(before)
        curve, stop = [], threading.Event()

        def sample():
            t0 = time.time()
            while not stop.is_set():
                agent.scrape()  # as Prometheus would, during the storm
                curve.append((time.time() - t0, rss_kib(agent.proc.pid)))
                stop.wait(5)
        t = threading.Thread(target=sample)
        t.start()
        spawned, t0 = 0, time.time()
        while time.time() - t0 < SOAK_S:
            out = subprocess.run([os.environ["RL_SPAWN"], "exec", str(BATCH),
                                  "4", true], check=True,
                                 capture_output=True, text=True).stdout
            if out.strip() != f"spawned {BATCH}":
                check(False, f"batch: {out.strip()}")
            spawned += BATCH
        took = time.time() - t0
        stop.set()
        t.join()
        check(agent.proc.poll() is None, "agent alive after the storm")
        rate = spawned / took
        print(f"info: {spawned} processes in {took:.1f} s = {rate:.0f}/s")
        print("info: agent RSS (s, KiB): " +
              " ".join(f"{s:.0f}:{k}" for s, k in curve))
        got, deadline = {}, time.time() + 10
        while time.time() < deadline:
            after = agent.scrape()
            c1 = counts(after)
            got = {sc: c1[sc] - c0[sc] for sc in c1}
            procs1 = value(after, "redline_bpf_map_entries", map="procs")
            if all(v == spawned for v in got.values()) and procs1 <= procs0 + 20:
                break
            time.sleep(0.5)
        if not all(v == spawned for v in got.values()):
            diagnose(before, after, spawned)
        dropped = {m: value(after, "redline_bpf_map_update_errors_total",
                            map=m) - value(before,
                                           "redline_bpf_map_update_errors_total",
                                           map=m)
                   for m in ("sys_stats", "procs")}
        early = value(after, "redline_kernel_early_reads_total",
                      concern="syscalls")
        print(f"info: early reads (syscalls maps filling): {early:.0f}; reads "
              f"{value(after, 'redline_kernel_reads_total', concern='syscalls'):.0f}")
        check(not any(dropped.values()), f"no update dropped ({dropped})")
        if rate >= 1000:
            # 5 s between scrapes x 18 entries x 1,000/s > 65,536.
            check(early > 0, f"read early while sys_stats filled ({early:.0f})")
        for sc, v in got.items():
            check(v == spawned, f"{sc} of comm={COMM} == {spawned} spawned ({v:.0f})")
        check(procs1 <= procs0 + 20, f"procs map back to baseline within 10 s "
              f"({procs0:.0f} -> {procs1:.0f})")
        rss = [k for _, k in curve]
        check(max(rss) <= 2 * rss[0] + 20000,
              f"RSS bounded during the storm (first {rss[0]} KiB, max {max(rss)} KiB)")
        # Machines differ tenfold: 2,000-3,000/s on most seen, 193/s on a
        # nested-virtualized one with fork (page faults after fork are slow
        # there; rl_spawn now vforks). The floor only says it stormed.
        check(rate >= 100, f"sustained {rate:.0f} processes/s (the machine's "
              "fork rate; >= 100 as a sanity floor)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
