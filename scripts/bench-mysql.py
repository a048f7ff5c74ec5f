#!/usr/bin/env python3
"""Benchmarks the cost of redline's MySQL request tracking (issue 20): a
MariaDB server of its own (pinned to CPU 0) under sysbench on loopback
in a network namespace (default: oltp_point_select with server-side
prepared statements: the most requests per second, so the most tracking
per unit of server work; --test oltp_read_only adds 100-row range
reads), with no agent and with `redline run --probes=PROBES` (default
l7,tcp,sched), interleaved over R rounds; ratio of median queries per
second. Reports the agent's CPU per 10k requests/s (scraped every
second) and the mean ns per run of the l7 programs
(kernel.bpf_stats_enabled, a last round). With --floor-track, also the
floor of any request tracker (bench-redis.py says which). Needs root, mariadb-server and
sysbench (scripts/install-deps.sh) and a build.

usage: scripts/bench-mysql.py [--build DIR] [--rounds R] [--seconds S]
                              [--threads T] [--test NAME] [--probes LIST]
                              [--floor-track]
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

PORT = 13406
NCPU = os.cpu_count() or 1
TASKSET_SERVER = ["taskset", "-c", "0"] if NCPU > 1 else []
TASKSET_CLIENT = ["taskset", "-c", f"1-{NCPU - 1}"] if NCPU > 1 else []
SYSBENCH = ["sysbench", "--db-driver=mysql", "--mysql-host=127.0.0.1",
            f"--mysql-port={PORT}", "--mysql-user=rl", "--mysql-password=rl",
            "--mysql-db=sbtest", "--tables=1", "--table-size=10000"]


def sysbench(test, seconds, threads):
    """Queries per second of one run (sysbench's own count)."""
    out = subprocess.run(
        TASKSET_CLIENT + [*SYSBENCH, test, f"--threads={threads}",
                          f"--time={seconds}", "--db-ps-mode=auto", "run"],
        check=True, capture_output=True, text=True).stdout
    return float(re.search(r"queries:\s+\d+\s+\(([0-9.]+) per sec",
                           out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--test", default="oltp_point_select")
    ap.add_argument("--probes", default="l7,tcp,sched")
    ap.add_argument("--floor-track", action="store_true",
                    help=bench_redis.FLOOR_TRACK_HELP)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-mysql: needs root (BPF, network namespaces)")
    if not (shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd")) \
            or not shutil.which("sysbench"):
        sys.exit("bench-mysql: mariadb-server or sysbench not found: run "
                 "scripts/install-deps.sh")
    if os.environ.get("RL_BENCH_NETNS") != "1":
        env = dict(os.environ, RL_BENCH_NETNS="1")
        sys.exit(subprocess.run(
            ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
            env=env).returncode)
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    os.environ["PATH"] += ":/usr/sbin"
    configs = {"none": None, "agent": args.probes}
    if args.floor_track:
        configs["floor-track"] = None
    rates = {k: [] for k in configs}
    cpu = []
    tmp = tempfile.mkdtemp(prefix="rl-bench-mysql-")
    srv = None
    try:
        srv = rltest.start_mariadb(PORT, tmp, TASKSET_SERVER)
        subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1",
                        f"-P{PORT}", "-url", "-prl", "-e",
                        "CREATE DATABASE sbtest"], check=True)
        subprocess.run([*SYSBENCH, args.test, "prepare"], check=True,
                       capture_output=True)
        sysbench(args.test, 2, args.threads)  # warm up
        for r in range(args.rounds):
            for name, probes in bench_redis.rotated(configs, r):
                if probes is None:
                    with bench_redis.floor_or_none(args.build, args.probes,
                                                   name):
                        rates[name].append(sysbench(args.test, args.seconds,
                                                    args.threads))
                    continue
                with rltest.Agent(f"--probes={probes}") as agent, \
                        bench_redis.Scraper(agent):
                    c0 = bench_http.cpu_seconds(agent.proc.pid)
                    t0 = time.time()
                    rates[name].append(sysbench(args.test, args.seconds,
                                                args.threads))
                    cpu.append((bench_http.cpu_seconds(agent.proc.pid) - c0)
                               / (time.time() - t0))
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{k} {v[-1]:.0f} q/s" for k, v in rates.items()),
                file=sys.stderr)
        per_run = bench_http.ns_per_run(
            args.seconds, args.probes,
            load=lambda s: sysbench(args.test, s, args.threads))
    finally:
        if srv:
            rltest.stop_mariadb(srv)
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(rates["none"])
    ratio = statistics.median(rates["agent"]) / base
    print(f"mariadbd (CPU 0), sysbench {args.test} --threads={args.threads}, "
          f"{args.rounds} rounds of {args.seconds} s: none {base:.0f} q/s, "
          f"--probes={args.probes} ratio {ratio:.3f}")
    bench_redis.report_floor_track(rates, base, ratio)
    bench_redis.report_paired(rates)
    per_10k = statistics.median(cpu) / (statistics.median(rates["agent"])
                                        / 1e4)
    print(f"agent CPU (user space): {statistics.median(cpu) * 100:.2f}% of "
          f"one core, {per_10k * 100:.2f}% per 10k requests/s")
    bench_http.print_per_run(per_run)


if __name__ == "__main__":
    main()
