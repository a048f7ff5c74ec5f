#!/usr/bin/env python3
"""USE signals against oracles nobody here wrote:
- CPU: a pinned busy loop's redline_cpu_seconds_total delta within 2% of its
  utime+stime delta in /proc/<pid>/stat; 20 processes of ~50 ms each
  within 2% of their rusage (wait4);
- run queue: two spinners sharing one CPU wait on the order of a scheduler
  slice; their number of waits agrees within 10% with libbpf-tools runqlat
  -p, their total wait within 10% with run_delay in /proc/<pid>/schedstat;
  a lone spinner waits two or more log2 buckets less (median);
- context switches: N nanosleep(500 us) calls give >= N voluntary switches, within
  1% of voluntary_ctxt_switches in /proc/<pid>/status;
- disk: O_DIRECT writes, reads and an fsync on a loop device the test
  creates: I/O counts and bytes per op equal /proc/diskstats deltas; the
  I/O count equals biolatency's and the modal latency bucket agrees within
  one log2 bucket; bytes are attributed to dd."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, require_bpf, series, value  # noqa

NS = 1e9


class Load:
    """rl_useload exec'd under `name` (a symlink), pinned to `cpu`."""

    def __init__(self, tmp, name, mode, arg, cpu):
        path = os.path.join(tmp, name)
        if not os.path.exists(path):
            os.symlink(os.path.abspath(os.environ["RL_USELOAD"]), path)
        self.p = subprocess.Popen(["taskset", "-c", str(cpu), path, mode,
                                   str(arg)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.name = name
        check(self.p.stdout.readline().strip() == "ready", f"{name} ready")

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def wait_done(self):
        check(self.p.stdout.readline().strip() == "done", f"{self.name} done")

    def finish(self):
        self.p.stdin.write("exit\n")
        self.p.stdin.close()
        self.p.wait()

    def stat_cpu_s(self):
        f = open(f"/proc/{self.p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def status(self, field):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    def run_delay_ns(self):
        return int(open(f"/proc/{self.p.pid}/schedstat").read().split()[1])


def rq_slots(metrics, comm):
    """Per-slot wait counts from the histogram: slot s is the native bucket
    (2^(s-31), 2^(s-30)] s, le = 2^(s-30) s (bpf/hist_edges.h)."""
    cum = {}
    for l, v in series(metrics, "redline_runqueue_latency_seconds_bucket",
                       comm=comm).items():
        le = dict(l)["le"]
        if le != "+Inf":
            cum[round(__import__("math").log2(float(le))) + 30] = v
    slots, prev = {}, 0
    for s in sorted(cum):
        slots[s], prev = cum[s] - prev, cum[s]
    return slots


def median_slot(slots):
    total, run = sum(slots.values()), 0
    for s in sorted(slots):
        run += slots[s]
        if run * 2 >= total:
            return s
    return None


def diff_slots(a, b):
    return {s: b.get(s, 0) - a.get(s, 0) for s in b}


def cpu_and_switches(agent, tmp, cpu):
    # One after the other: a nap preempted by a spinner between arming its
    # timer and schedule() would not sleep at all.
    spin = Load(tmp, "rl_use_spin", "spin", 2000, cpu)
    m0 = agent.scrape()
    c0 = spin.stat_cpu_s()
    spin.go()
    spin.wait_done()
    m1 = agent.scrape()
    c1 = spin.stat_cpu_s()
    got = (value(m1, "redline_cpu_seconds_total", comm="rl_use_spin") -
           value(m0, "redline_cpu_seconds_total", comm="rl_use_spin"))
    want = c1 - c0
    check(want > 1.0 and abs(got - want) <= 0.02 * want,
          f"CPU of a 2 s busy loop: {got:.3f} s vs utime+stime {want:.3f} s")
    spin.finish()

    naps = Load(tmp, "rl_use_naps", "sleep", 2000, cpu)
    m0 = agent.scrape()
    v0 = naps.status("voluntary_ctxt_switches")
    naps.go()
    naps.wait_done()
    m1 = agent.scrape()
    v1 = naps.status("voluntary_ctxt_switches")
    vol = (value(m1, "redline_context_switches_total", comm="rl_use_naps",
                 kind="voluntary") -
           value(m0, "redline_context_switches_total", comm="rl_use_naps",
                 kind="voluntary"))
    # >= N unless the kernel itself says fewer: a nanosleep whose timer
    # expired before schedule() (the vCPU was preempted) does not switch.
    check(vol >= min(2000, v1 - v0) and v1 - v0 >= 1980 and
          abs(vol - (v1 - v0)) <= 0.01 * (v1 - v0),
          f"2000 nanosleeps: {vol:.0f} voluntary switches (>= 2000 or as "
          f"many as the kernel counted), /proc status says {v1 - v0}")
    naps.finish()


def runqlat_hist(pid):
    """Starts runqlat -p PID; returns a stopper giving (count, modal bucket)."""
    p = subprocess.Popen(["runqlat", "-p", str(pid)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)  # loaded and attached

    def stop():
        p.send_signal(signal.SIGINT)
        out = p.communicate(timeout=20)[0]
        rows = re.findall(r"^\s*(\d+) -> (\d+)\s*: (\d+)", out, re.M)
        return sum(int(c) for _, _, c in rows), out
    return stop


def runqueue(agent, tmp, cpu):
    a = Load(tmp, "rl_use_rq_a", "spin", 2000, cpu)
    b = Load(tmp, "rl_use_rq_b", "spin", 2000, cpu)
    stop_a = runqlat_hist(a.p.pid)
    m0 = agent.scrape()
    d0 = a.run_delay_ns() + b.run_delay_ns()
    a.go()
    b.go()
    a.wait_done()
    b.wait_done()
    m1 = agent.scrape()
    d1 = a.run_delay_ns() + b.run_delay_ns()
    rq_count, out = stop_a()
    waits = {c: diff_slots(rq_slots(m0, c), rq_slots(m1, c))
             for c in ("rl_use_rq_a", "rl_use_rq_b")}
    n_a = sum(waits["rl_use_rq_a"].values())
    check(rq_count > 0 and abs(n_a - rq_count) <= 0.10 * rq_count,
          f"waits of one spinner: {n_a:.0f} vs runqlat -p {rq_count}")
    total = sum(value(m1, "redline_runqueue_latency_seconds_sum", comm=c) -
                value(m0, "redline_runqueue_latency_seconds_sum", comm=c)
                for c in waits) * NS
    check(d1 - d0 > 0 and abs(total - (d1 - d0)) <= 0.10 * (d1 - d0),
          f"total wait {total / 1e6:.1f} ms vs schedstat run_delay "
          f"{(d1 - d0) / 1e6:.1f} ms")
    pair = median_slot(waits["rl_use_rq_a"])
    # EEVDF's base slice is 0.75-3 ms depending on CPU count: a sharing
    # spinner waits about one slice of the other.
    # Slots 19..24: (0.24 ms, 15.6 ms].
    check(pair is not None and 19 <= pair <= 24,
          f"sharing a CPU, median wait ~ a slice: slot {pair} "
          f"(<= {2.0 ** (pair - 30) * 1e3 if pair else 0:.2f} ms)")
    a.finish()
    b.finish()

    lone = Load(tmp, "rl_use_lone", "spin", 2000, cpu)
    m0 = agent.scrape()
    lone.go()
    lone.wait_done()
    m1 = agent.scrape()
    lw = diff_slots(rq_slots(m0, "rl_use_lone"), rq_slots(m1, "rl_use_lone"))
    # Its only waits: the wakeup by "go", and kernel threads that preempt it.
    lm = median_slot(lw)
    check(lm is not None and lm <= pair - 2,
          f"alone on the CPU, median wait slot {lm} <= {pair - 2} "
          f"({sum(lw.values())} waits)")
    lone.finish()


def diskstats(dev):
    for line in open("/proc/diskstats"):
        f = line.split()
        if f[2] == dev:
            return {"read": (int(f[3]), int(f[5]) * 512),
                    "write": (int(f[7]), int(f[9]) * 512),
                    "flush": (int(f[18]), 0) if len(f) > 18 else (0, 0)}
    raise AssertionError(f"{dev} not in /proc/diskstats")


def disk_counts(m, dev, op):
    n = value(m, "redline_disk_io_operations_total", device=dev, op=op)
    b = value(m, "redline_disk_io_bytes_total", device=dev, op=op)
    return n, b


def disk(agent, tmp):
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    loop = subprocess.run(["losetup", "-f", "--show", img], check=True,
                          capture_output=True, text=True).stdout.strip()
    dev = os.path.basename(loop)
    try:
        time.sleep(0.5)
        bio = subprocess.Popen(["biolatency", "-d", dev],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        s0, m0 = diskstats(dev), agent.scrape()
        subprocess.run(["dd", "if=/dev/zero", f"of={loop}", "bs=4k",
                        "count=300", "oflag=direct", "conv=fsync"],
                       check=True, capture_output=True)
        subprocess.run(["dd", f"if={loop}", "of=/dev/null", "bs=8k",
                        "count=200", "iflag=direct"], check=True,
                       capture_output=True)
        time.sleep(1.2)
        s1, m1 = diskstats(dev), agent.scrape()
        bio.send_signal(signal.SIGINT)
        out = bio.communicate(timeout=20)[0]
        for op in ("write", "read", "flush"):
            n0, b0 = disk_counts(m0, dev, op)
            n1, b1 = disk_counts(m1, dev, op)
            want_n = s1[op][0] - s0[op][0]
            want_b = s1[op][1] - s0[op][1]
            check((want_n > 0 or op == "flush") and n1 - n0 == want_n,
                  f"{dev} {op} I/Os {n1 - n0:.0f} == diskstats {want_n}")
            check(b1 - b0 == want_b,
                  f"{dev} {op} bytes {b1 - b0:.0f} == diskstats {want_b}")
        dd_w = (value(m1, "redline_disk_io_bytes_total", device=dev,
                      op="write", comm="dd") -
                value(m0, "redline_disk_io_bytes_total", device=dev,
                      op="write", comm="dd"))
        check(dd_w == 300 * 4096, f"O_DIRECT writes attributed to dd ({dd_w:.0f})")
        rows = [(int(lo), int(c)) for lo, _, c in
                re.findall(r"^\s*(\d+) -> (\d+)\s*: (\d+)", out, re.M)]
        bio_n = sum(c for _, c in rows)
        ours = {}
        for op in ("read", "write", "flush"):
            for l, v in series(m1, "redline_disk_io_duration_seconds_bucket",
                               device=dev, op=op).items():
                le = dict(l)["le"]
                ours[le] = ours.get(le, 0) + v - value(
                    m0, "redline_disk_io_duration_seconds_bucket", device=dev,
                    op=op, le=le)
        our_n = ours.get("+Inf", 0)
        check(our_n == bio_n, f"I/O count {our_n:.0f} == biolatency {bio_n}")
        # Modal buckets: biolatency's [2^k, 2^(k+1)) us ~ our slot k+10.
        bio_mode = max(rows, key=lambda r: r[1])[0]
        bio_slot = (bio_mode.bit_length() - 1 if bio_mode else 0) + 10
        per = {}
        prev = 0
        for le in sorted((k for k in ours if k != "+Inf"), key=float):
            slot = round(__import__("math").log2(float(le) * NS)) - 1
            per[slot], prev = ours[le] - prev, ours[le]
        our_slot = max(per, key=per.get)
        check(abs(our_slot - bio_slot) <= 1,
              f"modal latency slot {our_slot} vs biolatency's {bio_slot} (+-1)")
    finally:
        subprocess.run(["losetup", "-d", loop], capture_output=True)


def short_lived_cpu(agent, tmp):
    """Processes that live ~50 ms and may never be switched out before
    exit: the kernel resets the slice start on the way out (autogroup),
    which once lost nearly all their CPU time. Oracle: the kernel's own
    rusage of each child (wait4), summed."""
    exe = os.path.join(tmp, "rl_use_short")
    shutil.copy(os.environ["RL_SYSSTORM"], exe)
    c0 = value(agent.scrape(), "redline_cpu_seconds_total", comm="rl_use_short")
    want = 0.0
    for _ in range(20):
        p = subprocess.Popen([exe, "100000", "0"], stdout=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        want += ru.ru_utime + ru.ru_stime
    got, deadline = 0.0, time.time() + 5
    while time.time() < deadline:  # exits are exported at the next read
        got = value(agent.scrape(), "redline_cpu_seconds_total",
                    comm="rl_use_short") - c0
        if abs(got - want) <= 0.02 * want:
            break
        time.sleep(0.5)
    check(want > 0.2 and abs(got - want) <= 0.02 * want,
          f"CPU of 20 short-lived processes: {got:.4f} s vs rusage "
          f"{want:.4f} s")


def main():
    require_bpf()
    for tool in ("taskset", "runqlat", "biolatency", "losetup"):
        check(shutil.which(tool) is not None, f"{tool} installed")
    cpu = os.cpu_count() - 1
    with tempfile.TemporaryDirectory() as tmp, \
            Agent("--refresh-interval=1") as agent:
        cpu_and_switches(agent, tmp, cpu)
        short_lived_cpu(agent, tmp)
        runqueue(agent, tmp, cpu)
        disk(agent, tmp)


if __name__ == "__main__":
    main()
