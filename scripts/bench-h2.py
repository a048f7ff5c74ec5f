#!/usr/bin/env python3
"""Benchmarks the cost of redline's HTTP/2 request tracking (issue 22
target): nginx (h2c, one worker pinned to CPU 0, `return 200`) under
`h2load -c 8 -m 32` (keep-alive, many streams) on loopback in a network
namespace, with no agent and with `redline run --probes=PROBES` (default
l7,tcp,sched), interleaved over R rounds (each round starting one row
later); ratio of median requests/s
(target: at least 0.93). Also, from the agent's own counters: ring
buffer records and the HTTP/2 frames they carried per second, and
events lost (target 0 at the default --h2-buffer-bytes), and, in a last round with
kernel.bpf_stats_enabled, the mean ns per run of the l7 programs. Needs
root, nginx and h2load (scripts/install-deps.sh) and a build. With
--baseline BIN, another redline binary runs in the same rounds; with
--floor-track, the floor of any request tracker (bench-redis.py says
which: it forwards no header block, so an HTTP/2 tracker's floor is
higher still).

With --server nghttpd, nghttp2's own server (Debian nghttp2-server, one
thread pinned to CPU 0) serves a small file instead: its encoder sends
content-length without indexing and refers to repeated fields by index,
where nginx adds every response field to the dynamic table, so the two
exercise the agent's HPACK decoding differently.

usage: scripts/bench-h2.py [--build DIR] [--rounds R] [--requests N]
                           [--probes LIST] [--baseline BIN] [--floor-track]
                           [--server nginx|nghttpd]
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

_spec = importlib.util.spec_from_file_location(
    "bench_http", os.path.join(HERE, "bench-http.py"))
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
_spec = importlib.util.spec_from_file_location(
    "bench_redis", os.path.join(HERE, "bench-redis.py"))
bench_redis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_redis)

PORT = 18480
NCPU = os.cpu_count() or 1
TASKSET_CLIENT = ["taskset", "-c", f"1-{NCPU - 1}"] if NCPU > 1 else []
CONF = """
daemon off;
user root;
worker_processes 1;
worker_cpu_affinity 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000000;  # HTTP/2 too (1.19.7+): one connection
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} http2;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def start_server(server, tmp):
    """nginx (CONF) or nghttpd serving index.html from tmp, on PORT."""
    if server == "nghttpd":
        with open(os.path.join(tmp, "index.html"), "w") as f:
            f.write("ok")
        cmd = ["taskset", "-c", "0", "nghttpd", "--no-tls", "-d", tmp,
               str(PORT)] if NCPU > 1 else ["nghttpd", "--no-tls", "-d",
                                            tmp, str(PORT)]
    else:
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(tmp=tmp, port=PORT))
        cmd = ["nginx", "-c", conf, "-p", tmp]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def bench(requests):
    out = subprocess.run(
        TASKSET_CLIENT + ["h2load", "-n", str(requests), "-c", "8", "-m",
                          "32", f"http://127.0.0.1:{PORT}/index.html"],
        check=True, capture_output=True, text=True).stdout
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", out)
    if not m or not done or int(done.group(1)) != requests:
        sys.exit(f"bench-h2: h2load did not finish:\n{out[-500:]}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--probes", default="l7,tcp,sched")
    ap.add_argument("--baseline", help="another redline binary, same "
                    "probes, in the same interleaved rounds")
    ap.add_argument("--floor-track", action="store_true",
                    help=bench_redis.FLOOR_TRACK_HELP)
    ap.add_argument("--server", choices=("nginx", "nghttpd"), default="nginx")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-h2: needs root (BPF, network namespaces)")
    for exe in (args.server, "h2load"):
        if not shutil.which(exe):
            sys.exit(f"bench-h2: {exe} not found: run scripts/install-deps.sh")
    if os.environ.get("RL_BENCH_NETNS") != "1":
        env = dict(os.environ, RL_BENCH_NETNS="1")
        sys.exit(subprocess.run(
            ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
            env=env).returncode)
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    own = os.environ["REDLINE_BIN"]
    rates = {"none": [], "agent": []}
    cpu = {"agent": []}
    if args.baseline:
        rates["baseline"], cpu["baseline"] = [], []
    if args.floor_track:
        rates["floor-track"] = []
    events, totals = [], {"counted": 0, "lost": 0, "desynced": 0}
    with tempfile.TemporaryDirectory() as tmp:
        srv = start_server(args.server, tmp)
        try:
            time.sleep(0.5)
            bench(args.requests // 4)  # warm up
            def agent_round(name):
                os.environ["REDLINE_BIN"] = (args.baseline if
                                             name == "baseline" else own)
                with rltest.Agent(f"--probes={args.probes}",
                                  "--refresh-interval=1") as agent:
                    c0 = bench_http.cpu_seconds(agent.proc.pid)
                    t0 = time.time()
                    rates[name].append(bench(args.requests))
                    took = time.time() - t0
                    # User-space CPU: the ring buffer's draining and
                    # decoding, mostly.
                    cpu[name].append(
                        (bench_http.cpu_seconds(agent.proc.pid) - c0)
                        / took)
                    time.sleep(1.5)  # the ring buffer drained, counted
                    if name != "agent":
                        return
                    m = agent.scrape()
                    totals["counted"] += rltest.value(
                        m, "redline_http2_server_requests_total")
                    totals["lost"] += rltest.value(
                        m, "redline_http_unparsed_total",
                        kind="h2_events_lost")
                    totals["desynced"] += rltest.value(
                        m, "redline_http_unparsed_total", kind="h2_desynced")
                    # The agent's own counts (the warm-up's few included).
                    events.append((
                        rltest.value(m, "redline_h2_ring_records_total") / took,
                        rltest.value(m, "redline_h2_frames_total") / took))

            def floor_round(name):
                with bench_redis.floor_of(args.build, args.probes, "track"):
                    rates[name].append(bench(args.requests))

            def none_round(name):
                rates[name].append(bench(args.requests))

            special = {"none": none_round, "floor-track": floor_round}
            runs = {name: special.get(name, agent_round) for name in rates}
            for r in range(args.rounds):
                # Each round one row later (bench-redis's rotated): this
                # host speeds up and slows down within a round.
                for name, run in bench_redis.rotated(runs, r):
                    run(name)
                os.environ["REDLINE_BIN"] = own
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{k} {v[-1]:.0f} req/s" for k, v in rates.items())
                    + ", agent CPU " + ", ".join(
                        f"{k} {v[-1] * 100:.0f}%" for k, v in cpu.items())
                    + " of a core", file=sys.stderr)
            per_run = bench_http.ns_per_run(args.requests, args.probes,
                                            load=bench)
        finally:
            srv.terminate()
            srv.wait(timeout=10)
    base = statistics.median(rates["none"])
    ratio = statistics.median(rates["agent"]) / base
    what = ("nginx h2c (1 worker, CPU 0)" if args.server == "nginx" else
            "nghttpd h2c (1 thread, CPU 0)")
    print(f"{what}, h2load -c 8 -m 32, {args.rounds} "
          f"rounds of {args.requests}: none {base:.0f} req/s, "
          f"--probes={args.probes} ratio {ratio:.3f} (target >= 0.93: "
          f"{'PASS' if ratio >= 0.93 else 'FAIL'})")
    counted, lost = totals["counted"], totals["lost"]
    print(f"server side counted {counted:.0f} of "
          f"{args.requests * args.rounds} requests; ring buffer records "
          f"{statistics.median(e[0] for e in events):.0f}/s carrying frames "
          f"{statistics.median(e[1] for e in events):.0f}/s; lost {lost:.0f}, "
          f"connections desynced {totals['desynced']:.0f}")
    for name, c in cpu.items():
        per_10k = statistics.median(c) / (statistics.median(rates[name])
                                          / 1e4)
        print(f"{name} CPU (draining and decoding): "
              f"{statistics.median(c) * 100:.1f}% of one core, "
              f"{per_10k * 100:.2f}% per 10k requests/s")
    if args.baseline:
        print(f"baseline ({args.baseline}): ratio "
              f"{statistics.median(rates['baseline']) / base:.3f}")
    bench_redis.report_floor_track(rates, base, ratio)
    bench_redis.report_paired(rates)
    bench_http.print_per_run(per_run)
    sys.exit(0 if ratio >= 0.93 and lost == 0 else 1)


if __name__ == "__main__":
    main()
