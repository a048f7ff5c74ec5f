#!/usr/bin/env python3
"""Benchmarks the cost of redline's scheduler programs (issue 4 target):
`perf bench sched pipe` and `perf bench sched messaging` run time with and
without `redline run --probes=sched` attached, interleaved over R rounds in
one run; the ratio of medians is reported. Target: at most 1.10.

Also reports the same with every probe attached (--probes=all), since an
SRE runs them all, and the floor: an empty tp_btf/sched_switch program
(tests/bench/floor.bpf.c), below which no scheduler tool can go. Needs root, perf (linux-perf) and a build.

With --baseline BIN (the agent built before a change to the scheduler
programs), that agent's sched probe too, in the same rounds: issue 24's
budget is the change costing at most 3 points of the no-agent time more.

usage: scripts/bench-sched.py [--build DIR] [--rounds R] [--pipe-loops N]
                              [--messaging-loops N] [--baseline BIN]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402


def perf_seconds(args, cpu):
    # Pinned: both pipe ends on one CPU measure the switch path itself (an
    # unpinned run on a small VM flips between same- and cross-CPU modes).
    out = subprocess.run(["taskset", "-c", cpu, "perf", "bench", "sched",
                          *args], check=True,
                         capture_output=True, text=True).stdout
    return float(re.search(r"Total time: ([\d.]+) \[sec\]", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pipe-loops", type=int, default=50000)
    ap.add_argument("--messaging-loops", type=int, default=100)
    ap.add_argument("--baseline", help="another redline binary (the sched "
                    "probe before a change), run with --probes=sched in the "
                    "same rounds: the change's budget is 3 points over it")
    ap.add_argument("--cpus", default=str(os.cpu_count() - 1),
                    help="taskset CPU list for perf (default: the last CPU)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-sched: needs root to load BPF programs")
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    benches = {"pipe": ["pipe", "-l", str(args.pipe_loops)],
               "messaging": ["messaging", "-l", str(args.messaging_loops)]}
    modes = {"none": None, "floor": "floor", "sched": "--probes=sched",
             "all": "--probes=syscalls,sched,block"}
    own = os.environ["REDLINE_BIN"]
    if args.baseline:
        modes["baseline"] = "--probes=sched"
    floor_exe = os.path.join(args.build, "tests", "redline_floor_bench")
    times = {(b, m): [] for b in benches for m in modes}
    for r in range(args.rounds):
        for m, flag in modes.items():
            agent = floor = None
            if flag == "floor":  # an empty sched_switch program
                floor = subprocess.Popen([floor_exe, "sched"],
                                         stdout=subprocess.PIPE, text=True)
                if floor.stdout.readline().strip() != "attached":
                    sys.exit("bench-sched: the floor program did not attach")
            elif flag:
                os.environ["REDLINE_BIN"] = args.baseline \
                    if m == "baseline" else own
                agent = rltest.Agent(flag)
            try:
                for b, a in benches.items():
                    times[(b, m)].append(perf_seconds(a, args.cpus))
            finally:
                if agent:
                    agent.stop()
                if floor:
                    floor.terminate()
                    floor.wait()
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    ok = True
    for b in benches:
        base = statistics.median(times[(b, "none")])
        print(f"perf bench sched {b}: none {base:.3f} s")
        for m in [m for m in modes if m != "none"]:
            t = statistics.median(times[(b, m)])
            verdict = ""
            if m == "sched":
                verdict = " (target <= 1.10: " + \
                    ("PASS" if t / base <= 1.10 else "FAIL") + ")"
                ok = ok and t / base <= 1.10
            if m == "baseline":
                pts = (statistics.median(times[(b, "sched")]) - t) / base
                verdict = f" (sched - baseline {100 * pts:+.1f} points, " \
                    f"budget 3: {'PASS' if pts <= 0.03 else 'FAIL'})"
                ok = ok and pts <= 0.03
            print(f"  with {m:8s} {t:.3f} s  ratio {t / base:.3f}{verdict}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
