#!/usr/bin/env python3
"""Benchmarks the cost of redline's Redis request tracking (issue 20
target): redis-server (pinned to CPU 0) under `redis-benchmark -c 50` (GET
and SET, no pipelining) on loopback in a network namespace, with no agent
and with `redline run --probes=PROBES` (default l7,tcp,sched: no syscall
tracepoint), interleaved over R rounds; ratio of median requests/s (target:
at least 0.93). With --all, also every probe. Reports the agent's CPU per
10k requests/s (scraped every second) and, in a last round with kernel.bpf_stats_enabled, the mean
ns per run of the l7 programs. With --floor, also the floor under the
target: the same probes but l7, plus empty programs at the socket
tracepoints l7 uses (redline_floor_bench sock): what any request tracer
there costs before it does anything. With --floor-track, also the floor
of any request tracker: the other probes plus programs there doing the
least per-request work one needs (redline_floor_bench track: socket
storage, a 16-byte peek, a clock read per message, one stats update per
answer; no parsing); a target above it is out of reach of any tracker on
socket I/O on that machine. With --baseline BIN, another redline
binary (built before a change) with the same probes, in the same rounds,
and its ns per run. Each configuration's ratio is also given as the
median of its rounds' own ratios to that round's run without an agent. Besides requests/s (which a loaded or nested-virtual
machine spreads by +-30% between rounds), the CPU redis-server used per
request (/proc/PID/stat; BPF programs run in its syscalls count as its
system time): its ratio none/agent is what the agent costs the server
while it is busy (where one redis-benchmark does not saturate it, idle
wake-ups count too: on a loaded 2-core VM it spread as much as
throughput did). Needs root, redis-server and
redis-benchmark (scripts/install-deps.sh) and a build.

usage: scripts/bench-redis.py [--build DIR] [--rounds R] [--requests N]
                              [--probes LIST] [--all] [--floor]
                              [--floor-track] [--baseline BIN]
"""
import contextlib
import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402

# The HTTP benchmark's helpers: agent CPU from /proc, bpf_stats per program.
_spec = importlib.util.spec_from_file_location(
    "bench_http", os.path.join(HERE, "bench-http.py"))
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)

PORT = 16479
NCPU = os.cpu_count() or 1
TASKSET_SERVER = ["taskset", "-c", "0"] if NCPU > 1 else []
TASKSET_CLIENT = ["taskset", "-c", f"1-{NCPU - 1}"] if NCPU > 1 else []


def bench(requests):
    """Requests/s of GET and SET together (the sum of their times)."""
    out = subprocess.run(
        TASKSET_CLIENT + ["redis-benchmark", "-h", "127.0.0.1", "-p",
                          str(PORT), "-c", "50", "-n", str(requests), "-t",
                          "get,set", "--csv"],
        check=True, capture_output=True, text=True).stdout
    rows = [l.replace('"', "").split(",") for l in out.strip().splitlines()]
    rps = [float(r[1]) for r in rows[1:]]
    return len(rps) / sum(1 / r for r in rps)


class Scraper:
    """Scrapes the agent every second while a round runs: its CPU is what
    serving Prometheus costs (without scrapes it does almost nothing)."""

    def __init__(self, agent):
        self.agent, self.stop = agent, threading.Event()

    def __enter__(self):
        def run():
            while not self.stop.wait(1.0):
                self.agent.get()
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(timeout=10)


@contextlib.contextmanager
def floor_of(build, probes, mode="sock"):
    """The floor of --probes: its other probes in an agent, and the socket
    tracepoint pair of redline_floor_bench MODE (sock: empty; track: a
    minimal request tracker)."""
    rest = ",".join(p for p in probes.split(",") if p != "l7")
    with contextlib.ExitStack() as stack:
        if rest:
            stack.enter_context(rltest.Agent(f"--probes={rest}"))
        p = subprocess.Popen([os.path.join(build, "tests",
                                           "redline_floor_bench"), mode],
                             stdout=subprocess.PIPE, text=True)
        try:
            if p.stdout.readline().strip() != "attached":
                sys.exit(f"bench-redis: redline_floor_bench {mode} did not "
                         "attach (kernel < 6.3?)")
            yield
        finally:
            p.terminate()
            p.wait(timeout=10)


def rotated(configs, r):
    """configs' items, round r starting r rows later: this host slows down
    and speeds up within a round, which a fixed order charges to the same
    rows (bench-pg, bench-mysql too)."""
    items = list(configs.items())
    k = r % len(items)
    return items[k:] + items[:k]


def floor_or_none(build, probes, name):
    """For a config without an agent: the tracker floor if name is
    floor-track, else nothing."""
    if name == "floor-track":
        return floor_of(build, probes, "track")
    return contextlib.nullcontext()


FLOOR_TRACK_HELP = ("also the floor of any request tracker: the other probes "
                    "plus redline_floor_bench track, in the same rounds")


def report_floor_track(rates, base, ratio):
    """The --floor-track line (bench-pg, bench-mysql and bench-h2 too)."""
    if "floor-track" not in rates:
        return
    track = statistics.median(rates["floor-track"]) / base
    print(f"floor of any request tracker (the other probes + "
          f"redline_floor_bench track): ratio {track:.3f}; redline "
          f"minus it {ratio - track:+.3f}")


def report_paired(rates):
    """Each configuration's ratio to none within each round, their median
    and range (bench-pg, bench-mysql and bench-h2 too): this host's speed
    drifts by more than the agent costs from one minute to the next, which
    the ratio of medians over all rounds mixes in; a round's rows run
    within a minute or two of each other."""
    none = rates["none"]
    for name, got in rates.items():
        if name == "none" or len(got) != len(none):
            continue
        r = sorted(g / n for g, n in zip(got, none))
        print(f"paired, {name}/none per round: median "
              f"{statistics.median(r):.3f} (range {r[0]:.3f}-{r[-1]:.3f}, "
              f"{len(r)} rounds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--probes", default="l7,tcp,sched")
    ap.add_argument("--all", action="store_true",
                    help="also measure with every probe (syscall RED too)")
    ap.add_argument("--baseline", help="another redline binary, same "
                    "probes, same rounds")
    ap.add_argument("--floor", action="store_true",
                    help="also the floor: the other probes plus empty "
                         "socket tracepoint programs")
    ap.add_argument("--floor-track", action="store_true",
                    help="also the floor of any request tracker: the other "
                         "probes plus a minimal tracker's programs there")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-redis: needs root (BPF, network namespaces)")
    for exe in ("redis-server", "redis-benchmark"):
        if not shutil.which(exe):
            sys.exit(f"bench-redis: {exe} not found: run "
                     "scripts/install-deps.sh")
    if os.environ.get("RL_BENCH_NETNS") != "1":
        env = dict(os.environ, RL_BENCH_NETNS="1")
        sys.exit(subprocess.run(
            ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
            env=env).returncode)
    own = os.environ.setdefault("REDLINE_BIN",
                                os.path.join(args.build, "agent", "redline"))
    configs = {"none": None, "agent": args.probes}
    if args.baseline:
        configs["baseline"] = args.probes
    if args.all:
        configs["all"] = "syscalls,sched,block,tcp,l7"
    if args.floor:
        configs["floor"] = "floor"
    if args.floor_track:
        configs["floor-track"] = "floor-track"
    rates = {k: [] for k in configs}
    us = {k: [] for k in configs}  # redis-server CPU us per request
    cpu = []
    with tempfile.TemporaryDirectory() as tmp:
        srv = rltest.start_redis(PORT, tmp, TASKSET_SERVER)
        try:
            bench(args.requests // 4)  # warm up
            def measured(name):
                s0 = bench_http.cpu_seconds(srv.pid)
                rates[name].append(bench(args.requests))
                us[name].append((bench_http.cpu_seconds(srv.pid) - s0) * 1e6
                                / (2 * args.requests))  # GET and SET

            for r in range(args.rounds):
                for name, probes in rotated(configs, r):
                    if probes is None:
                        measured(name)
                        continue
                    if probes in ("floor", "floor-track"):
                        mode = "track" if probes == "floor-track" else "sock"
                        with floor_of(args.build, args.probes, mode):
                            measured(name)
                        continue
                    os.environ["REDLINE_BIN"] = (args.baseline if
                                                 name == "baseline" else own)
                    with rltest.Agent(f"--probes={probes}") as agent, \
                            Scraper(agent):
                        c0 = bench_http.cpu_seconds(agent.proc.pid)
                        t0 = time.time()
                        measured(name)
                        if name == "agent":
                            cpu.append((bench_http.cpu_seconds(agent.proc.pid)
                                        - c0) / (time.time() - t0))
                    os.environ["REDLINE_BIN"] = own
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{k} {v[-1]:.0f} req/s" for k, v in rates.items()),
                    file=sys.stderr)
            per_run = bench_http.ns_per_run(
                args.requests, args.probes, load=bench)
            if args.baseline:
                os.environ["REDLINE_BIN"] = args.baseline
                base_per_run = bench_http.ns_per_run(
                    args.requests, args.probes, load=bench)
                os.environ["REDLINE_BIN"] = own
        finally:
            srv.terminate()
            srv.wait(timeout=10)
    base = statistics.median(rates["none"])
    ratio = statistics.median(rates["agent"]) / base
    print(f"redis-server (CPU 0), redis-benchmark -c 50 GET+SET, "
          f"{args.rounds} rounds of {args.requests}: none {base:.0f} req/s, "
          f"--probes={args.probes} ratio {ratio:.3f} (target >= 0.93: "
          f"{'PASS' if ratio >= 0.93 else 'FAIL'})")
    cpu_none = statistics.median(us["none"])
    print(f"redis-server CPU per request: none {cpu_none:.2f} us; " +
          "; ".join(f"{k} {statistics.median(v):.2f} us (ratio "
                    f"{cpu_none / statistics.median(v):.3f})"
                    for k, v in us.items() if k != "none"))
    if "baseline" in rates:
        print(f"baseline ({args.baseline}): ratio "
              f"{statistics.median(rates['baseline']) / base:.3f}")
    if "all" in rates:
        print(f"every probe: ratio "
              f"{statistics.median(rates['all']) / base:.3f}")
    if "floor" in rates:
        floor = statistics.median(rates["floor"]) / base
        print(f"floor (the other probes + empty socket tracepoint "
              f"programs): ratio {floor:.3f}; l7's own share: "
              f"{floor - ratio:.3f}")
    report_floor_track(rates, base, ratio)
    report_paired(rates)
    per_10k = statistics.median(cpu) / (statistics.median(rates["agent"])
                                        / 1e4)
    print(f"agent CPU (user space): {statistics.median(cpu) * 100:.2f}% of "
          f"one core, {per_10k * 100:.2f}% per 10k requests/s")
    bench_http.print_per_run(per_run)
    if args.baseline:
        print("baseline:")
        bench_http.print_per_run(base_per_run)
    sys.exit(0 if ratio >= 0.93 else 1)


if __name__ == "__main__":
    main()
