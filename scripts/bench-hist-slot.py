#!/usr/bin/env python3
"""What the native-histogram slot search costs on the syscall hot path.

Runs `redline run --probes=syscalls` from two builds in alternation (this
tree's and --baseline, e.g. a build of the previous commit), drives N
getppid() calls per round with rl_sysstorm pinned to one CPU, and reads the
kernel's own accounting (kernel.bpf_stats_enabled: run_time_ns / run_cnt
of sys_enter and sys_exit). Prints the median ns per run of each program
and the difference per syscall (enter + exit). Target (issue 23): at most
10 ns more per syscall. Needs root.

usage: scripts/bench-hist-slot.py --baseline BIN [--build DIR] [--rounds R]
                                  [--calls N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402

PROGS = ("sys_enter", "sys_exit")


def prog_stats():
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"],
                                      check=True, capture_output=True,
                                      text=True).stdout)
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in progs if p.get("name") in PROGS}


def one_round(binary, storm, calls):
    os.environ["REDLINE_BIN"] = binary
    with rltest.Agent("--probes=syscalls"):
        s0 = prog_stats()
        subprocess.run(["taskset", "-c", "1", storm, str(calls), "0"],
                       check=True, capture_output=True)
        s1 = prog_stats()
    return {n: (s1[n][0] - s0.get(n, (0, 0))[0]) /
            max(1, s1[n][1] - s0.get(n, (0, 0))[1]) for n in s1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--baseline", required=True, help="a redline binary")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=3_000_000)
    a = ap.parse_args()
    this = os.path.join(a.build, "agent", "redline")
    storm = os.path.join(a.build, "tests", "rl_sysstorm")
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        old = f.read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    runs = {"baseline": [], "this": []}
    try:
        for _ in range(a.rounds):
            runs["baseline"].append(one_round(a.baseline, storm, a.calls))
            runs["this"].append(one_round(this, storm, a.calls))
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old)
    med = {k: {p: statistics.median(r[p] for r in v) for p in PROGS}
           for k, v in runs.items()}
    for k in ("baseline", "this"):
        print(f"{k:9} " + "  ".join(f"{p} {med[k][p]:6.1f} ns/run"
                                    for p in PROGS))
    d = sum(med["this"][p] - med["baseline"][p] for p in PROGS)
    print(f"difference per syscall (enter + exit): {d:+.1f} ns "
          f"(median of {a.rounds} rounds of {a.calls} getppid)")


if __name__ == "__main__":
    main()
