#!/usr/bin/env python3
"""Benchmarks the cost of redline's PostgreSQL request tracking (issue 20):
a PostgreSQL 15 server of its own (pinned to CPU 0, fsync off) under
pgbench on loopback in a network namespace (default: -S -M prepared, the
select-only script: the most requests per second, so the most tracking
per unit of server work), with no agent and with `redline run
--probes=PROBES` (default l7,tcp,sched), interleaved over R rounds; ratio
of median TPS. With --all, also every probe; with --floor-track, the
floor of any request tracker (bench-redis.py says which). Reports the agent's CPU per
10k requests/s (scraped every second) and the mean ns per run of the l7
programs (kernel.bpf_stats_enabled, a last round). Needs root,
postgresql-15 and pgbench (scripts/install-deps.sh) and a build.

usage: scripts/bench-pg.py [--build DIR] [--rounds R] [--seconds S]
                           [--clients C] [--pgbench-args ARGS]
                           [--probes LIST] [--all] [--floor-track]
"""
import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name,
                                                  os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# Agent CPU, bpf_stats per program (bench-http); the scraper (bench-redis).
bench_http = _load("bench_http", "bench-http.py")
bench_redis = _load("bench_redis", "bench-redis.py")

PORT = 15532
NCPU = os.cpu_count() or 1
TASKSET_SERVER = ["taskset", "-c", "0"] if NCPU > 1 else []
TASKSET_CLIENT = ["taskset", "-c", f"1-{NCPU - 1}"] if NCPU > 1 else []


def pgbench(seconds, clients, extra):
    """TPS of one run (pgbench's own, without connection time)."""
    out = subprocess.run(
        TASKSET_CLIENT + ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(PORT),
                          "-U", "postgres", "-c", str(clients), "-j", "1",
                          "-T", str(seconds), *extra, "bench"],
        check=True, capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pgbench-args", default="-S -M prepared")
    ap.add_argument("--probes", default="l7,tcp,sched")
    ap.add_argument("--all", action="store_true",
                    help="also measure with every probe (syscall RED too)")
    ap.add_argument("--floor-track", action="store_true",
                    help=bench_redis.FLOOR_TRACK_HELP)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-pg: needs root (BPF, network namespaces)")
    if not (os.path.exists(f"{rltest.PG_BIN}/postgres")
            and shutil.which("pgbench")):
        sys.exit("bench-pg: postgresql-15 or pgbench not found: run "
                 "scripts/install-deps.sh")
    if os.environ.get("RL_BENCH_NETNS") != "1":
        env = dict(os.environ, RL_BENCH_NETNS="1")
        sys.exit(subprocess.run(
            ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
            env=env).returncode)
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    extra = args.pgbench_args.split()
    configs = {"none": None, "agent": args.probes}
    if args.all:
        configs["all"] = "syscalls,sched,block,tcp,l7"
    if args.floor_track:
        configs["floor-track"] = None
    rates = {k: [] for k in configs}
    cpu = []
    tmp = tempfile.mkdtemp(prefix="rl-bench-pg-")
    srv = None
    try:
        srv = rltest.start_postgres(PORT, tmp, TASKSET_SERVER)
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", "-h", "127.0.0.1",
                        "-p", str(PORT), "-U", "postgres", "postgres"],
                       check=True, capture_output=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PORT), "-U",
                        "postgres", "-c", "CREATE DATABASE bench TEMPLATE "
                        "postgres"], check=True, capture_output=True)
        pgbench(2, args.clients, extra)  # warm up
        for r in range(args.rounds):
            for name, probes in bench_redis.rotated(configs, r):
                if probes is None:
                    with bench_redis.floor_or_none(args.build, args.probes,
                                                   name):
                        rates[name].append(pgbench(args.seconds,
                                                   args.clients, extra))
                    continue
                with rltest.Agent(f"--probes={probes}") as agent, \
                        bench_redis.Scraper(agent):
                    c0 = bench_http.cpu_seconds(agent.proc.pid)
                    t0 = time.time()
                    rates[name].append(pgbench(args.seconds, args.clients,
                                               extra))
                    if name == "agent":
                        cpu.append((bench_http.cpu_seconds(agent.proc.pid)
                                    - c0) / (time.time() - t0))
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{k} {v[-1]:.0f} tps" for k, v in rates.items()),
                file=sys.stderr)
        per_run = bench_http.ns_per_run(
            args.seconds, args.probes,
            load=lambda s: pgbench(s, args.clients, extra))
    finally:
        if srv:
            rltest.stop_postgres(srv, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(rates["none"])
    ratio = statistics.median(rates["agent"]) / base
    print(f"postgres (CPU 0), pgbench {args.pgbench_args} -c {args.clients}, "
          f"{args.rounds} rounds of {args.seconds} s: none {base:.0f} tps, "
          f"--probes={args.probes} ratio {ratio:.3f}")
    if "all" in rates:
        print(f"every probe: ratio "
              f"{statistics.median(rates['all']) / base:.3f}")
    bench_redis.report_floor_track(rates, base, ratio)
    bench_redis.report_paired(rates)
    per_10k = statistics.median(cpu) / (statistics.median(rates["agent"])
                                        / 1e4)
    print(f"agent CPU (user space): {statistics.median(cpu) * 100:.2f}% of "
          f"one core, {per_10k * 100:.2f}% per 10k requests/s")
    bench_http.print_per_run(per_run)


if __name__ == "__main__":
    main()
