#!/usr/bin/env python3
"""What each exposition costs a host with many processes (issue 23).

Starts P live processes under C names (rl_sysstorm, as bench-syscalls.py
does), one `redline run`, and two Debian Prometheus servers scraping it:
one with --enable-feature=native-histograms (protobuf) and one without
(text). Reports, per exposition: Prometheus's own scrape_samples_scraped
(series per scrape), bytes per scrape and the median scrape latency of N
scrapes by this script: text, protobuf with classic and native buckets,
protobuf native only (an agent with --native-histograms-only) and that
with --syscall-histograms=top:4. Targets: 10x fewer series and 5x fewer
bytes than text, latency no worse; the agent's scrape time half of text's
(with --baseline BIN: half of that agent's text scrape, "today's", in the
same rounds).

The processes make their syscalls, then wait --settle seconds (default
12) before the scrapes are timed, as on a host of long-lived processes:
the agent moves entries idle for 10 s out of its kernel maps (README);
--settle 0 times the scrapes right after the workload.

Where a scrape's time goes, from the agent's own counters over the N
scrapes (one agent alive at a time, so its comm's syscalls are its own):
kernel map reads per concern (redline_kernel_read_seconds_total), the whole
response (redline_scrape_duration_seconds), the rest (families, folding,
serializing) and the agent's syscalls per scrape (bpf() calls: batch
reads). Rounds interleave the configurations. Needs root.

usage: scripts/bench-exposition.py [--build DIR] [--procs P] [--comms C]
                                   [--scrapes N] [--rounds R] [--settle S]
                                   [--baseline BIN]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402

PROTO = ("application/vnd.google.protobuf;proto=io.prometheus.client."
         "MetricFamily;encoding=delimited")


def scrape(agent, accept, n=20):
    times, size = [], 0
    for _ in range(n):
        req = urllib.request.Request(agent.url(), headers={"Accept": accept})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as r:
            size = len(r.read())
        times.append((time.perf_counter() - t0) * 1e3)
    return size, statistics.median(times)


def samples_scraped(prom):
    for _ in range(60):
        try:
            n = prom.scalar("scrape_samples_scraped")
            if n is not None:
                return int(n)
        except OSError:
            pass
        time.sleep(1)
    return None


CONFIGS = (
    ("text 0.0.4", (), "text/plain"),
    ("protobuf classic+native", (), PROTO),
    ("protobuf native only", ("--native-histograms-only",), PROTO),
    ("native, top:4 syscalls", ("--native-histograms-only",
                                "--syscall-histograms=top:4"), PROTO),
)


def own(agent):
    """The agent's own cost counters (a text scrape: it adds one read)."""
    m = rltest.parse_metrics(agent.get())
    out = {"scrape_s": rltest.value(m, "redline_scrape_duration_seconds_sum"),
           "scrapes": rltest.value(m, "redline_scrape_duration_seconds_count")}
    for (name, labels), v in m.items():
        d = dict(labels)
        if name == "redline_kernel_read_seconds_total":
            out["read:" + d["concern"]] = v
        elif name == "redline_kernel_reads_total":
            out["reads:" + d["concern"]] = v
        elif name == "redline_syscalls_total" and d.get("comm") == "redline":
            out["sys:" + d["syscall"]] = out.get("sys:" + d["syscall"], 0) + v
    return out


class Workload:
    """P live processes under C names that made their syscalls while the
    agent ran (an agent counts only what happens after it attached)."""

    def __init__(self, helper, procs, comms):
        self.children = []
        try:
            for i in range(procs):
                p = subprocess.Popen(
                    [helper, "100", "10", "--wait", "--comm",
                     f"rlbench{i % comms:05d}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                p.stdout.readline()
                p.stdin.write("go\n")
                p.stdin.flush()
                self.children.append(p)
            for p in self.children:
                p.stdout.readline()
        except BaseException:
            self.close()
            raise

    def close(self):
        for p in self.children:
            p.stdin.close()
            p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def measure(a, extra, accept, exe=None):
    """(bytes, median ms, breakdown per scrape) for one fresh agent."""
    helper = os.path.join(a.build, "tests", "rl_sysstorm")
    own_exe = os.environ["REDLINE_BIN"]
    with tempfile.TemporaryDirectory() as tmp:
        # Named redline, whatever its file is called: own() finds the
        # agent's syscalls by its comm.
        os.environ["REDLINE_BIN"] = (rltest.exe_as(tmp, exe, "redline")
                                     if exe else own_exe)
        try:
            with rltest.Agent(*extra) as agent, \
                    Workload(helper, a.procs, a.comms):
                return measure_agent(a, agent, accept)
        finally:
            os.environ["REDLINE_BIN"] = own_exe


def measure_agent(a, agent, accept):
    """measure()'s body, for an agent with its workload."""
    scrape(agent, accept, 2)  # warm: first reads size the buffers
    if a.settle:
        time.sleep(a.settle)
        scrape(agent, accept, 2)
    b0 = own(agent)
    size, ms = scrape(agent, accept, a.scrapes)
    b1 = own(agent)
    n = b1["scrapes"] - b0["scrapes"]  # our scrapes + the second own()
    per = {k: (b1.get(k, 0) - b0.get(k, 0)) / n for k in b1}
    return size, ms, per


def samples(a):
    """Prometheus's scrape_samples_scraped: native (protobuf), text."""
    helper = os.path.join(a.build, "tests", "rl_sysstorm")
    with rltest.Agent() as agent, Workload(helper, a.procs, a.comms):
        target = {"redline": f"127.0.0.1:{agent.port}"}
        with rltest.Prometheus(
                target, "2s", ["--enable-feature=native-histograms"]) as n:
            n_native = samples_scraped(n)
        with rltest.Prometheus(target, "2s") as c:
            n_text = samples_scraped(c)
    return n_native, n_text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--comms", type=int, default=54)
    ap.add_argument("--scrapes", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--settle", type=float, default=12)
    ap.add_argument("--baseline", help="another redline binary, measured "
                    "with text exposition in the same rounds")
    a = ap.parse_args()
    os.environ["REDLINE_BIN"] = os.path.join(a.build, "agent", "redline")
    configs = list(CONFIGS)
    if a.baseline:
        configs.insert(0, ("text 0.0.4, --baseline", (), "text/plain",
                           a.baseline))
    results = {c[0]: [] for c in configs}
    n_native, n_text = samples(a)
    for r in range(a.rounds):
        for label, extra, accept, *exe in configs:
            results[label].append(measure(a, extra, accept, *exe))
        print(f"round {r + 1}/{a.rounds}: " + "  ".join(
            f"{k} {v[-1][1]:.1f} ms" for k, v in results.items()),
            flush=True)
    report(a, configs, results, n_text, n_native)


def report(a, configs, results, n_text, n_native):
    med = lambda xs: statistics.median(xs)  # noqa: E731
    rows = []
    for label, _, accept, *_ in configs:
        runs = results[label]
        per = {k: med([r[2].get(k, 0) for r in runs]) for k in runs[0][2]}
        rows.append((label, n_text if accept == "text/plain" else n_native,
                     runs[-1][0], med([r[1] for r in runs]), per))
    print(f"\n{a.procs} live processes under {a.comms} names, "
          f"{a.rounds} rounds x {a.scrapes} scrapes (medians):")
    print(f"  {'exposition':26} {'samples':>8} {'bytes':>10} {'client ms':>10}"
          f" {'agent ms':>9} {'maps ms':>8} {'rest ms':>8} {'bpf()':>6}")
    for label, n, size, ms, per in rows:
        read = sum(v for k, v in per.items() if k.startswith("read:"))
        print(f"  {label:26} {n!s:>8} {size:>10} {ms:>10.1f} "
              f"{per['scrape_s'] * 1e3:>9.1f} {read * 1e3:>8.1f} "
              f"{(per['scrape_s'] - read) * 1e3:>8.1f} "
              f"{per.get('sys:bpf', 0):>6.0f}")
    print("  kernel map reads per scrape, ms, by concern:")
    for label, _, _, _, per in rows:
        parts = sorted(((k[5:], v * 1e3) for k, v in per.items()
                        if k.startswith("read:")), key=lambda kv: -kv[1])
        print(f"    {label:26} " + ", ".join(f"{k} {v:.2f}" for k, v in parts))
    print("  the agent's syscalls per scrape (top 6):")
    for label, _, _, _, per in rows:
        parts = sorted(((k[4:], v) for k, v in per.items()
                        if k.startswith("sys:")), key=lambda kv: -kv[1])[:6]
        print(f"    {label:26} " + ", ".join(f"{k} {v:.0f}" for k, v in parts))
    t = rows[1] if a.baseline else rows[0]
    if a.baseline:
        b = rows[0][4]["scrape_s"]
        for label, n, size, ms, per in rows[2:]:
            ratio = per["scrape_s"] / b
            print(f"  {label}: agent scrape time {ratio:.2f}x the baseline's"
                  f" text (target <= 0.50: "
                  f"{'PASS' if ratio <= 0.5 else 'FAIL'})")
    for label, n, size, ms, per in rows[rows.index(t) + 1:]:
        ratio = per["scrape_s"] / t[4]["scrape_s"]
        print(f"  {label}: {t[1] / max(1, n or 1):.1f}x fewer samples, "
              f"{t[2] / size:.1f}x fewer bytes, client latency "
              f"{ms / t[3]:.2f}x text, agent scrape time {ratio:.2f}x text "
              f"(target <= 0.50: {'PASS' if ratio <= 0.5 else 'FAIL'})")


if __name__ == "__main__":
    main()
