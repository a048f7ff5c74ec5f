#!/usr/bin/env python3
"""CPU throttling: a busy loop in a cgroup with a quota of 20% of a CPU
(cgroup v2 cpu.max "20000 100000", or v1 cpu.cfs_quota_us 20000 where the
cpu controller is on a v1 hierarchy, as on hybrid hosts): the workload's
redline_cpu_throttled_seconds_total delta equals the cgroup's cpu.stat
throttled time delta within 2%, its throttled periods equal nr_throttled's
delta within 2%, and it ran about 20% of the time (its CPU time over the
wall time within 0.15-0.25: the quota really applied). Both sides are read
while the loop is idle, so they are the same numbers."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, quota_cgroup, require_bpf, value  # noqa

NAME = "rl_throttled"


def cgroup_dir():
    """(dir, v2) of a new cgroup with a 20% quota, or exit 77."""
    got = quota_cgroup("rl_throttle_test")
    if got is None:
        print("skip: no cpu controller")
        sys.exit(77)
    return got


def stat(d, v2):
    kv = dict(line.split() for line in open(os.path.join(d, "cpu.stat")))
    ns = int(kv["throttled_usec"]) * 1000 if v2 else int(kv["throttled_time"])
    return ns / 1e9, int(kv["nr_throttled"])


def main():
    require_bpf()
    d, v2 = cgroup_dir()
    tmp = os.path.join("/tmp", NAME)
    if not os.path.exists(tmp):
        os.symlink(os.path.abspath(os.environ["RL_USELOAD"]), tmp)
    try:
        with Agent("--probes=sched", "--refresh-interval=1") as agent:
            p = subprocess.Popen([tmp, "spin", "3000"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            check(p.stdout.readline().strip() == "ready", "helper ready")
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(p.pid))
            time.sleep(2.5)  # a refresh with the helper in the cgroup
            m0, s0 = agent.scrape(), stat(d, v2)
            t0 = time.time()
            p.stdin.write("go\n")
            p.stdin.flush()
            check(p.stdout.readline().strip() == "done", "helper done")
            wall = time.time() - t0
            time.sleep(2.5)
            m1, s1 = agent.scrape(), stat(d, v2)
            got = (value(m1, "redline_cpu_throttled_seconds_total", comm=NAME)
                   - value(m0, "redline_cpu_throttled_seconds_total",
                           comm=NAME))
            want = s1[0] - s0[0]
            check(want > 1.0 and abs(got - want) <= 0.02 * want,
                  f"throttled {got:.4f} s vs cpu.stat {want:.4f} s "
                  f"({'v2' if v2 else 'v1'} {d})")
            gp = (value(m1, "redline_cpu_throttled_periods_total", comm=NAME)
                  - value(m0, "redline_cpu_throttled_periods_total",
                          comm=NAME))
            wp = s1[1] - s0[1]
            check(wp > 10 and abs(gp - wp) <= 0.02 * wp,
                  f"throttled periods {gp:.0f} vs nr_throttled {wp}")
            cpu = (value(m1, "redline_cpu_seconds_total", comm=NAME) -
                   value(m0, "redline_cpu_seconds_total", comm=NAME))
            check(0.15 <= cpu / wall <= 0.25,
                  f"ran {cpu:.3f} s of {wall:.3f} s: {cpu / wall:.1%} (quota "
                  f"20%)")
            p.stdin.write("exit\n")
            p.stdin.close()
            p.wait()
    finally:
        os.unlink(tmp)
        time.sleep(0.2)
        os.rmdir(d)


if __name__ == "__main__":
    main()
