#!/usr/bin/env python3
"""Benchmarks redline's syscall RED (issue 2 targets). Needs root and a build.

1. Added cost per syscall: ns per getppid() over N calls (default 10M) with
   no observer, with the bare tp_btf pair (empty, and with only the two
   bpf_ktime_get_ns calls any latency tool needs: the floor), with
   `redline run`, and with libbpf-tools `syscount -L`, interleaved over R
   rounds in one run; medians are compared.
   Target: redline adds at most half of what syscount -L adds.
2. Agent footprint with 500 live processes: peak RSS (target < 30 MiB) and
   scrape latency (target < 20 ms), for a typical host (processes share 50
   names) and for the worst case (every process has its own name, so the
   cardinality governor folds beyond --max-series-per-family).
3. User-space cost per scrape stage (redline_pipeline_bench).

usage: scripts/bench-syscalls.py [--build DIR] [--calls N] [--rounds R]
                                 [--procs P]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402


def storm(helper, calls, cpu):
    out = subprocess.run(["taskset", "-c", str(cpu), helper, str(calls), "0"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split("ns_per_getppid=")[1])


class Floor:
    """The same tp_btf pair, empty or with only the two clock reads."""

    def __init__(self, exe, mode):
        self.proc = subprocess.Popen([exe, mode], stdout=subprocess.PIPE,
                                     text=True)
        if self.proc.stdout.readline().strip() != "attached":
            sys.exit(f"floor bench ({mode}) failed to attach")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Syscount:
    def __init__(self):
        self.proc = subprocess.Popen(["syscount", "-L", "-i", "3600"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # load + attach; no readiness signal to wait on
        if self.proc.poll() is not None:
            sys.exit("syscount -L failed to start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def bench_overhead(helper, floor_exe, calls, rounds, cpu):
    results = {"none": [], "empty pair": [], "pair+2 clocks": [],
               "redline": [], "redline syscalls": [], "syscount -L": []}
    for r in range(rounds):
        results["none"].append(storm(helper, calls, cpu))
        for key, mode in (("empty pair", "empty"), ("pair+2 clocks", "clock")):
            fl = Floor(floor_exe, mode)
            try:
                results[key].append(storm(helper, calls, cpu))
            finally:
                fl.stop()
        with rltest.Agent():
            results["redline"].append(storm(helper, calls, cpu))
        # Syscall RED alone: every probe also runs l7's sys_exit program.
        with rltest.Agent("--probes=syscalls"):
            results["redline syscalls"].append(storm(helper, calls, cpu))
        sc = Syscount()
        try:
            results["syscount -L"].append(storm(helper, calls, cpu))
        finally:
            sc.stop()
        print(f"round {r + 1}/{rounds}: " + "  ".join(
            f"{k} {v[-1]:.0f} ns" for k, v in results.items()), flush=True)
    med = {k: statistics.median(v) for k, v in results.items()}
    base = med["none"]
    print(f"\nns per getppid, median of {rounds} x {calls} calls (CPU {cpu}):")
    for k, v in med.items():
        print(f"  {k:16s} {v:7.1f} ns   added {v - base:6.1f} ns")
    floor = (med["pair+2 clocks"] - base) / max(med["syscount -L"] - base, 1e-9)
    print(f"  floor (tp_btf pair + 2 bpf_ktime_get_ns) / syscount -L added = "
          f"{floor:.2f}: no latency tool can add less here")
    for key in ("redline syscalls", "redline"):
        r = (med[key] - base) / max(med["syscount -L"] - base, 1e-9)
        print(f"  {key} added / syscount -L added = {r:.2f} "
              f"(target <= 0.50): {'PASS' if r <= 0.5 else 'FAIL'}")
        ratio = r
    return ratio <= 0.5


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def bench_footprint(helper, procs, comms):
    children = []
    try:
        with rltest.Agent() as agent:
            for i in range(procs):
                p = subprocess.Popen(
                    [helper, "100", "10", "--wait", "--comm", f"rlbench{i % comms:05d}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                p.stdout.readline()  # pid: the process is live
                p.stdin.write("go\n")
                p.stdin.flush()
                children.append(p)
            for p in children:
                p.stdout.readline()  # "done": its syscalls happened
            times, series = [], 0
            for _ in range(20):
                t0 = time.perf_counter()
                body = agent.get()
                times.append((time.perf_counter() - t0) * 1e3)
            series = sum(1 for ln in body.splitlines()
                         if ln and not ln.startswith("#"))
            comms = len({ln.split('comm="')[1].split('"')[0]
                         for ln in body.splitlines()
                         if ln.startswith("redline_syscalls_total{")})
            hwm = rss_kib(agent.proc.pid, "VmHWM") / 1024
            rss = rss_kib(agent.proc.pid, "VmRSS") / 1024
    finally:
        for p in children:
            p.stdin.close()
            p.wait()
    p50, p99 = statistics.median(times), max(times)
    print(f"\n{procs} live processes ({comms} comms, {series} samples/scrape):")
    print(f"  agent RSS {rss:.1f} MiB, peak {hwm:.1f} MiB (target < 30): "
          f"{'PASS' if hwm < 30 else 'FAIL'}")
    print(f"  scrape median {p50:.1f} ms, max {p99:.1f} ms of 20 "
          f"(target < 20): {'PASS' if p50 < 20 else 'FAIL'}")
    return hwm < 30 and p50 < 20


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--cpu", type=int, default=os.cpu_count() - 1)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-syscalls: needs root to load BPF programs")
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    helper = os.path.join(args.build, "tests", "rl_sysstorm")
    for f in (os.environ["REDLINE_BIN"], helper):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench-syscalls: {f} missing: build first "
                     "(scripts/test.sh or cmake --build build)")
    if shutil.which("syscount") is None:
        sys.exit("bench-syscalls: syscount missing: scripts/install-deps.sh")
    floor_exe = os.path.join(args.build, "tests", "redline_floor_bench")
    ok = bench_overhead(helper, floor_exe, args.calls, args.rounds, args.cpu)
    for comms in (50, args.procs):
        ok = bench_footprint(helper, args.procs, comms) and ok
    pipeline = os.path.join(args.build, "tests", "redline_pipeline_bench")
    print("\nuser-space stages per scrape (no kernel read):")
    for comms in (50, args.procs):
        out = subprocess.run([pipeline, str(args.procs), "30", str(comms)],
                             check=True, capture_output=True, text=True)
        print("  " + out.stdout.strip())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
