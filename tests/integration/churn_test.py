#!/usr/bin/env python3
"""Process churn and cardinality with a running agent:
- 30000 short-lived /bin/true from 4 parallel workers to warm up, then 4
  batches of 10000: exec and exit_group of comm "true" counted exactly once
  per process, kernel map entries back to their steady state, no drops,
  and no leak: the agent's live heap and anonymous RSS judged by their
  growth in each batch, not by one bound (see leak_rates);
- 5000 distinct comms: every family stays within the series budget plus
  one [other] series, counters never go down, and the folded family's total
  matches an agent that folds nothing; a third agent with --max-series=800
  exports at most 800 label sets in its workload families together (counted
  in the exposition, and equal to its redline_series gauges), keeps the
  request and syscall counts before the histograms, never lets a series
  or [other] go down, and its syscall total matches the unfolded agent's."""
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, exe_as, require_bpf, rss_kib,  # noqa
                    series, value)

N_WARMUP = 30000
N_BATCH = 10000
BATCHES = 4
N_TRUE = N_BATCH * BATCHES
# Leak bounds, bytes per process over the measured batches. Measured with
# series stable: heap within +-60 KiB and anonymous RSS within +-400 KiB
# per 10000-process batch, no trend over 16 batches. A leak of one
# allocation per process is at least 32 B (glibc's smallest chunk), so it
# grows the heap >= 320 KiB in every batch; warm-up, a table's capacity
# doubling and the scatter of a heap of ~14000 series are not steady (a
# CI machine's heap: 13.6, 26.5, 13.7 B/process over 3 batches after a
# 20000-process warm-up; another: 50, -5.5, 11.3, 30 over 4 after 30000;
# 8 batches here: +25, +38, then flat). So the batch that grew least
# judges: a leak grows every batch past the bound, scatter does not; and
# the whole run's growth must stay under a gross bound. New series (comms that other activity
# on the host brings, whose totals the agent keeps) legitimately cost
# memory: ~330 B per sample line measured, allowed 1 KiB.
HEAP_RATE_MAX = 16
HEAP_TOTAL_MAX = 48
RSS_RATE_MAX = 64
SERIES_ALLOWANCE = 1024
N_COMMS = 5000
BUDGET = 2000
HOST_BUDGET = 800



def spawn(*args):
    out = subprocess.run([os.environ["RL_SPAWN"], *map(str, args)],
                         check=True, capture_output=True, text=True).stdout
    check(out.strip() == f"spawned {args[1]}", f"rl_spawn {args[:3]}: {out.strip()}")


def settle(agent, seconds=2.5):
    """Two refreshes (interval 1 s): exited processes exported, then freed
    and the heap trimmed."""
    time.sleep(seconds)
    return agent.scrape()


def rss_anon_kib(pid):
    """Anonymous resident memory: RSS without file pages (shared library
    code faulted in late is not growth of the agent's own)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def batch_rates(xs, ys):
    """(y growth) / (x growth) between consecutive points."""
    return [(y1 - y0) / (x1 - x0) for x0, x1, y0, y1 in
            zip(xs, xs[1:], ys, ys[1:])]


def leak_rates(points):
    """points: (processes so far, heap bytes, anon RSS bytes, series, ...).
    Each batch's bytes per process of heap and anon RSS, net of the
    allowance for series that appeared meanwhile."""
    xs = [p[0] for p in points]
    heap = [p[1] - SERIES_ALLOWANCE * p[3] for p in points]
    rss = [p[2] - SERIES_ALLOWANCE * p[3] for p in points]
    return batch_rates(xs, heap), batch_rates(xs, rss)


def churn():
    with Agent("--refresh-interval=1") as agent:
        pid = agent.proc.pid
        scrapes = []
        took = 0.0

        def storm(n):
            """n processes while scraping as Prometheus would; then the
            agent's view once it settled, with no scrape in flight (its
            buffers are live heap)."""
            nonlocal took
            stop = threading.Event()

            def scraper():
                while not stop.is_set():
                    scrapes.append(agent.scrape())
                    time.sleep(0.3)
            t = threading.Thread(target=scraper)
            t.start()
            t0 = time.time()
            spawn("exec", n, 4, "/bin/true")
            took += time.time() - t0
            stop.set()
            t.join()
            return settle(agent)

        def point(done, m):
            # The history (one entry a refresh, kept an hour) grows with
            # time, not processes: a slower machine's batches take longer
            # and grew it by 18.8 B/process here. Its own gauge is netted
            # out; a leak anywhere else is not hidden by that.
            hist = value(m, "redline_history_bytes")
            return (done, value(m, "redline_heap_inuse_bytes") - hist,
                    rss_anon_kib(pid) * 1024 - hist, len(m), hist)

        # Warm-up, the same storm: the agent's tables, malloc's heap and
        # the library code it touches reach their storm size. How far a
        # machine's warm-up gets varies (a slower one grew 13.2 -> 19.4 ->
        # 21.2 -> 21.4 -> 21.5 MiB over 20000-process batches), so no
        # single bound judges a leak: the median growth of the batches
        # after it does.
        before = storm(N_WARMUP)
        scrapes.clear()
        took = 0.0
        points = [point(0, before)]
        procs0 = value(before, "redline_bpf_map_entries", map="procs")
        stats0 = value(before, "redline_bpf_map_entries", map="sys_stats")
        sched0 = value(before, "redline_bpf_map_entries", map="sched_stats")

        for b in range(BATCHES):
            after = storm(N_BATCH)
            points.append(point((b + 1) * N_BATCH, after))

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
        by_err = {(dict(l)["map"], dict(l)["errno"]): v for l, v in
                  series(after, "redline_bpf_map_update_errors_total").items()
                  if v}
        culprit = sum(v for (m, _), v in by_err.items() if m == "culprits")
        other = sum(drops.values()) - sys_drops - culprit
        check(other <= 10, f"other map drops are rare and counted ({other}: "
              f"{by_err})")
        # The noisy-neighbour table holds pairs of workloads, not of
        # processes: a storm of 3000 short-lived processes a second under
        # a few names makes a few pairs per name. Keyed by tgid, it made more
        # pairs in one refresh than the 4096 entries (27383 E2BIG in one
        # run). The table is not preallocated: in such a burst its
        # allocator can be out of memory for a moment (ENOMEM; seen: 2 of
        # 160436 in one CI run), counted.
        culprit_errs = {e: v for (m, e), v in by_err.items()
                        if m == "culprits"}
        check(set(culprit_errs) <= {"ENOMEM"} and culprit <= 10,
              f"no culprit pair dropped for want of room ({culprit_errs})")
        culprits1 = value(after, "redline_bpf_map_entries", map="culprits")
        check(culprits1 <= 1000, f"culprits table small ({culprits1:.0f} "
              f"entries)")
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
        heap_rate, rss_rate = leak_rates(points)
        print("info: (processes, heap B, anon RSS B, series, history B) "
              f"after each batch, heap and RSS net of the history: {points};"
              f" RSS {rss_kib(pid)} KiB; history entries "
              f"{value(after, 'redline_history_entries'):.0f}")
        check(min(heap_rate) <= HEAP_RATE_MAX,
              f"live heap growth, least of the batches: {min(heap_rate):.1f}"
              f" B/process <= {HEAP_RATE_MAX} (all: "
              f"{[round(r, 1) for r in heap_rate]})")
        heap_all = sum(heap_rate) / len(heap_rate)
        check(heap_all <= HEAP_TOTAL_MAX,
              f"live heap growth over the run: {heap_all:.1f} B/process "
              f"<= {HEAP_TOTAL_MAX}")
        check(min(rss_rate) <= RSS_RATE_MAX,
              f"anonymous RSS growth, least of the batches: "
              f"{min(rss_rate):.1f} B/process <= {RSS_RATE_MAX} (all: "
              f"{[round(r, 1) for r in rss_rate]})")
        print(f"info: {N_TRUE} processes in {took:.1f} s "
              f"({N_TRUE / took:.0f}/s), {len(scrapes)} scrapes during churn")


def label_sets(m, family):
    """Distinct label sets of a family in a scrape (a histogram's by its
    _count samples)."""
    return (len(series(m, family)) or len(series(m, family + "_count")))


def host_budget(h1, h2, full):
    """--max-series: the families redline_series lists, plus its own and
    redline_series_budget, are within the budget in both scrapes."""
    for m in (h1, h2):
        fams = {dict(l)["family"]: v
                for l, v in series(m, "redline_series").items()}
        counted = {f: label_sets(m, f) for f in fams}
        check(counted == {f: int(v) for f, v in fams.items()},
              "--max-series: redline_series equals the label sets exported")
        total = (sum(counted.values()) + len(fams)
                 + len(series(m, "redline_series_budget")))
        check(total <= HOST_BUDGET and
              value(m, "redline_series_budget") == HOST_BUDGET,
              f"--max-series={HOST_BUDGET}: {total} label sets in all")
    n_calls = label_sets(h2, "redline_syscalls_total")
    n_hist = label_sets(h2, "redline_syscall_duration_seconds")
    check(n_calls > n_hist and n_hist >= 1,
          f"--max-series: syscall counts keep more series ({n_calls}) than "
          f"their histograms ({n_hist}, [other] included)")
    for fam in ("redline_syscalls_total", "redline_cpu_seconds_total"):
        down = [(dict(l), series(h1, fam)[l], v)
                for l, v in series(h2, fam).items()
                if v < series(h1, fam).get(l, 0)]
        check(not down, f"--max-series: no {fam} series goes down, "
              f"[other] included {down[:3]}")
    folded = value(h2, "redline_series_folded_total",
                   family="redline_syscall_duration_seconds")
    check(folded > 0, f"--max-series: histogram folds counted ({folded})")

    def total(m):
        return sum(v for l, v in series(m, "redline_syscalls_total").items()
                   if dict(l).get("comm") != "redline")
    # The unfolded agent was scraped between the two: folding keeps the
    # total (each agent counts from its own start: 1% for the moment
    # between the two starts).
    check(total(h1) <= 1.01 * total(full) and total(full) <= 1.01 * total(h2),
          f"--max-series: syscall totals, kept + [other], bracket the "
          f"unfolded agent's: {total(h1):.0f} <= {total(full):.0f} <= "
          f"{total(h2):.0f}")


def cardinality():
    with Agent() as folded, Agent(f"--max-series-per-family={10**6}") as full, \
            Agent(f"--max-series={HOST_BUDGET}") as budget:
        spawn("names", N_COMMS, 4, 3, "rlc")
        time.sleep(0.3)
        h1 = budget.scrape()
        a1 = folded.scrape()
        b = full.scrape()
        a2 = folded.scrape()
        h2 = budget.scrape()
        host_budget(h1, h2, b)
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
        # Both agents see the same syscalls, except what runs between the
        # two scrapes: the agents' own map reads (comm "redline") and this
        # test reading the first scrape's response (comm "python3": a
        # chunked body read a few KiB per syscall). Both are too large to
        # be folded, so they are never in [other]: leave them out.
        def by_comm(m):
            out = {}
            for l, v in series(m, "redline_syscalls_total").items():
                c = dict(l).get("comm")
                if c not in ("redline", "python3"):
                    c = "rlc*" if c and c.startswith("rlc") else c
                    out[c] = out.get(c, 0) + v
            return out
        total_a, total_b = sum(by_comm(a1).values()), sum(by_comm(b).values())
        if abs(total_a - total_b) > 0.01 * total_b:
            ca, cb = by_comm(a1), by_comm(b)
            diff = {c: cb.get(c, 0) - ca.get(c, 0) for c in set(ca) | set(cb)}
            print("info: unfolded minus folded, by comm (rlc* and [other] "
                  "go together): " + str(sorted(
                      ((c, d) for c, d in diff.items() if d),
                      key=lambda x: -abs(x[1]))[:10]))
            for name, m in (("folded", a1), ("unfolded", b)):
                print(f"info: {name}: update errors " + str(
                    {str(sorted(l)): v for l, v in series(
                        m, "redline_bpf_map_update_errors_total").items()
                     if v}) + ", early reads " + str(value(
                         m, "redline_kernel_early_reads_total",
                         concern="syscalls")))
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
    with tempfile.TemporaryDirectory() as tmp, \
            Agent("--refresh-interval=1",
                  "--max-syscall-entries=256") as agent:
        kids = []
        try:
            for _ in range(n):
                p = subprocess.Popen(
                    [exe_as(tmp, os.environ["RL_SYSSTORM"], "rl_spill"),
                     str(calls), "0", "--wait"],
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
        # drop; the helpers' exact counts below are what must hold. They
        # hold on a quiet host (ctest runs one test at a time): a loop
        # elsewhere forking curl twice a second (~40 new pairs each) fills
        # the room between two reads, and then a helper's pairs are dropped
        # too (counted in drops, as designed). The helpers exec under their
        # own name: renamed with prctl after exec, one of 60 was once read
        # (reads come every ~100 ms here) before its rename and counted as
        # rl_sysstorm (5900).
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
