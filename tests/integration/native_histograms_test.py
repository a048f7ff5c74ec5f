#!/usr/bin/env python3
"""Real Prometheus (Debian 2.42) with --enable-feature=native-histograms
scrapes the agent by protobuf; a second one, without the feature, scrapes
the same agent as text (2.42 has no scrape_classic_histograms: a native
Prometheus ignores the classic buckets of a histogram with native ones).
For a known workload (two sleepers of known syscall latency, an HTTP server
with a fixed delay and its client):

- the native Prometheus holds native series and no _bucket series (it was
  answered in protobuf), the classic one holds _bucket series;
- histogram_quantile(0.5, rate(native[1m])) is in the same bucket as
  histogram_quantile(0.5, rate(classic_bucket[1m])), and in the bucket of
  the known latency or the next;
- with the workload stopped (SIGSTOP: the series stay, their counts hold
  still, so both servers end up with the same samples), the 0.5, 0.9 and
  0.99 quantiles of the native and the classic series are equal.
  (A rate() over two servers' windows differs by their scrape phases: a
  tail quantile right at a bucket edge, as 1% of 2 ms sleeps is, can then
  land on either side of it.)
- histogram_count(native) equals the counter of the same scrape exactly.
"""
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, Prometheus, check, enter_netns, free_port,  # noqa
                    python_as, require_bpf)

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "helpers", "http_load.py")
SLEEP = "import time\nwhile True: time.sleep({})\n"


def bucket(seconds, schema):
    """The native bucket index of a duration: (2^((i-1)/2^s), 2^(i/2^s)]."""
    return math.ceil(math.log2(seconds) * 2 ** schema - 1e-9)


def main():
    require_bpf()
    enter_netns("RL_NH_NETNS")
    tmp = tempfile.mkdtemp(prefix="rl-nh-")
    procs = []
    try:
        with Agent() as agent, \
                Prometheus({"redline": f"127.0.0.1:{agent.port}"},
                           extra=["--enable-feature=native-histograms"]) \
                as nprom, \
                Prometheus({"redline": f"127.0.0.1:{agent.port}"}) as cprom:
            # 2 ms and 20 ms sleeps: clock_nanosleep in buckets
            # (1.95, 3.9] ms and (15.6, 31.25] ms (with wakeup latency).
            for comm, s in (("rl_nh_fast", 0.002), ("rl_nh_slow", 0.02)):
                procs.append(subprocess.Popen(
                    [python_as(tmp, comm), "-c", SLEEP.format(s)]))
            port = free_port()
            srv = subprocess.Popen([python_as(tmp, "rl_nh_srv"), LOAD,
                                    "serve", str(port), "10"],
                                   stdout=subprocess.PIPE, text=True)
            procs.append(srv)
            check(srv.stdout.readline().strip() == "listening",
                  "HTTP server (10 ms delay) started")
            procs.append(subprocess.Popen([python_as(tmp, "rl_nh_cli"), LOAD,
                                           "loop", str(port), "40"]))
            time.sleep(25)
            live = time.time() - 1
            for p in procs:
                if p is not srv:
                    p.send_signal(signal.SIGSTOP)
            time.sleep(4)  # a few scrapes of the still counts by both
            checks(nprom, cprom, live, time.time())
            for p in procs:
                p.send_signal(signal.SIGCONT)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    print("native histograms: all checks passed")


def checks(nprom, cprom, live, at):
    cases = [
        ("redline_syscall_duration_seconds",
         'comm="rl_nh_fast",syscall="clock_nanosleep"', 0, 0.002),
        ("redline_syscall_duration_seconds",
         'comm="rl_nh_slow",syscall="clock_nanosleep"', 0, 0.02),
        ("redline_http_server_request_duration_seconds",
         'comm="rl_nh_srv"', 1, 0.010),
    ]
    for name, sel, schema, known in cases:
        native = nprom.query(f"{name}{{{sel}}}", at)
        check(len(native) == 1 and "histogram" in native[0],
              f"{name}{{{sel}}} is one native histogram series")
        check(not nprom.query(f"{name}_bucket{{{sel}}}", at),
              f"native Prometheus has no {name}_bucket (scraped protobuf)")
        check(cprom.query(f"{name}_bucket{{{sel}}}", at),
              f"classic Prometheus has {name}_bucket (scraped text)")
        nq = nprom.scalar(f"histogram_quantile(0.5, "
                    f"sum(rate({name}{{{sel}}}[1m])))", live)
        cq = cprom.scalar(f"histogram_quantile(0.5, sum by (le) "
                    f"(rate({name}_bucket{{{sel}}}[1m])))", live)
        check(nq is not None and cq is not None and
              bucket(nq, schema) == bucket(cq, schema),
              f"rate p50 of {sel}: native {nq} and classic {cq} "
              f"in one bucket (schema {schema})")
        check(bucket(known, schema) <= bucket(nq, schema) <=
              bucket(known, schema) + 1,
              f"p50 of {sel} ({nq * 1e3:.2f} ms) in the bucket of "
              f"{known * 1e3:g} ms or the next")
        for q in (0.5, 0.9, 0.99):
            nq = nprom.scalar(f"histogram_quantile({q}, "
                        f"sum({name}{{{sel}}}))", at)
            cq = cprom.scalar(f"histogram_quantile({q}, sum by (le) "
                        f"({name}_bucket{{{sel}}}))", at)
            # Same counts, same bounds, same interpolation: same number.
            check(nq is not None and nq == cq,
                  f"still p{q * 100:g} of {sel}: native {nq} == classic "
                  f"{cq} (bucket {bucket(nq or 1, schema)}, schema "
                  f"{schema})")
    # The count of the native histogram and the counter come from the same
    # scrape: equal exactly.
    for sel in ('comm="rl_nh_fast",syscall="clock_nanosleep"',
                'comm="rl_nh_slow",syscall="clock_nanosleep"'):
        hc = nprom.scalar("histogram_count(redline_syscall_duration_seconds"
                    f"{{{sel}}})", at)
        total = nprom.scalar(f"redline_syscalls_total{{{sel}}}", at)
        check(hc is not None and hc == total and hc > 100,
              f"histogram_count {hc} == redline_syscalls_total {total} "
              f"({sel})")
    sel = 'comm="rl_nh_srv"'
    hc = nprom.scalar("histogram_count(sum(redline_http_server_request_"
                f"duration_seconds{{{sel}}}))", at)
    total = nprom.scalar(f"sum(redline_http_server_requests_total{{{sel}}})",
                   at)
    check(hc is not None and hc == total and hc > 100,
          f"HTTP: histogram_count {hc} == requests_total {total}")


if __name__ == "__main__":
    main()
