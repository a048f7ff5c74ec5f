#!/usr/bin/env python3
"""What each exposition costs a host with many processes (issue 23).

Starts P live processes under C names (rl_sysstorm, as bench-syscalls.py
does), one `redline run`, and two Debian Prometheus servers scraping it:
one with --enable-feature=native-histograms (protobuf) and one without
(text). Reports, per exposition: Prometheus's own scrape_samples_scraped
(series per scrape), bytes per scrape and the median scrape latency of 20
scrapes by this script: text, protobuf with classic and native buckets, and
protobuf native only (a second agent with --native-histograms-only).
Targets: 10x fewer series and 5x fewer bytes than text, latency no worse.
Needs root.

usage: scripts/bench-exposition.py [--build DIR] [--procs P] [--comms C]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402

PROTO = ("application/vnd.google.protobuf;proto=io.prometheus.client."
         "MetricFamily;encoding=delimited")


def scrape(agent, accept):
    times, size = [], 0
    for _ in range(20):
        req = urllib.request.Request(agent.url(), headers={"Accept": accept})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as r:
            size = len(r.read())
        times.append((time.perf_counter() - t0) * 1e3)
    return size, statistics.median(times)


def prometheus(tmp, name, target, native):
    cfg = os.path.join(tmp, f"{name}.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 2s\n"
                "scrape_configs:\n  - job_name: redline\n"
                f"    static_configs:\n      - targets: ['{target}']\n")
    port = rltest.free_port()
    cmd = ["prometheus", f"--config.file={cfg}",
           f"--storage.tsdb.path={tmp}/{name}",
           f"--web.listen-address=127.0.0.1:{port}"]
    if native:
        cmd.append("--enable-feature=native-histograms")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL), port


def samples_scraped(port):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
        {"query": "scrape_samples_scraped"})
    for _ in range(60):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                res = json.load(r)["data"]["result"]
            if res:
                return int(float(res[0]["value"][1]))
        except OSError:
            pass
        time.sleep(1)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--comms", type=int, default=54)
    a = ap.parse_args()
    os.environ["REDLINE_BIN"] = os.path.join(a.build, "agent", "redline")
    helper = os.path.join(a.build, "tests", "rl_sysstorm")
    tmp = tempfile.mkdtemp(prefix="rl-bench-expo-")
    children, proms = [], []
    rows = []
    try:
        with rltest.Agent() as agent, \
                rltest.Agent("--native-histograms-only") as native_only:
            for i in range(a.procs):
                p = subprocess.Popen(
                    [helper, "100", "10", "--wait", "--comm",
                     f"rlbench{i % a.comms:05d}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                p.stdout.readline()
                p.stdin.write("go\n")
                p.stdin.flush()
                children.append(p)
            for p in children:
                p.stdout.readline()
            target = f"127.0.0.1:{agent.port}"
            for name, native in (("native", True), ("classic", False)):
                proms.append(prometheus(tmp, name, target, native))
            n_native = samples_scraped(proms[0][1])
            n_text = samples_scraped(proms[1][1])
            for label, ag, accept, n in (
                    ("text 0.0.4", agent, "text/plain", n_text),
                    ("protobuf classic+native", agent, PROTO, n_native),
                    ("protobuf native only", native_only, PROTO, n_native)):
                size, ms = scrape(ag, accept)
                rows.append((label, n, size, ms))
    finally:
        for p, _ in proms:
            p.terminate()
            p.wait()
        for p in children:
            p.stdin.close()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.procs} live processes under {a.comms} names:")
    print(f"  {'exposition':26} {'samples':>8} {'bytes':>10} {'median ms':>10}")
    for label, n, size, ms in rows:
        print(f"  {label:26} {n!s:>8} {size:>10} {ms:>10.1f}")
    t = rows[0]
    for label, n, size, ms in rows[1:]:
        print(f"  {label}: {t[1] / max(1, n or 1):.1f}x fewer samples, "
              f"{t[2] / size:.1f}x fewer bytes, latency {ms / t[3]:.2f}x text")


if __name__ == "__main__":
    main()
