#!/usr/bin/env python3
"""Scrape robustness with more than 20k series.

- 10 clients that read their response one byte a second (a response
  still being written after 10 s is cut off, so a worker is held at most
  that long);
- meanwhile 50 concurrent healthy scrapes each finish within 1.5 s with 200
  (or a quick 503), never 500, and every 200 body passes
  `promtool check metrics`;
- 48 clients that never finish a request fill the 16 workers and 32 queue
  slots: the
  next 20 scrapes are answered 503 quickly (bounded in-flight work),
  counted in redline_http_requests_rejected_total, /healthz stays 200, and
  scrapes are served again when those clients leave;
- map reading never blocks BPF updates: a helper's getppid calls made
  during all of it are counted exactly.
"""
import concurrent.futures
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, require_bpf, series, value  # noqa

N_GETPPID = 300000


def scrape(url):
    t0 = time.time()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read(), time.time() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.time() - t0


def scrape_quick(url):
    """Status of a scrape that must be answered within 0.5 s."""
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def slow_client(port, out, stop):
    """Sends a scrape, then reads one byte a second."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    t0, got = time.time(), 0
    try:
        while not stop.is_set() and time.time() - t0 < 12:
            b = s.recv(1)
            if not b:
                break
            got += 1
            time.sleep(1)
    except OSError:
        pass
    out.append((time.time() - t0, got))
    s.close()


def promtool_clean(bodies):
    bad = []
    for body in bodies:
        r = subprocess.run(["promtool", "check", "metrics"], input=body,
                           capture_output=True)
        # promtool lints too (e.g. counters without _total); only parse
        # errors matter here.
        if r.returncode != 0 and b"error while linting" in r.stderr:
            bad.append(r.stderr[:200])
    return bad


def main():
    require_bpf()
    if not shutil.which("promtool"):
        check(False, "promtool is installed")
    with Agent("--max-series-per-family=20000") as agent:
        # Many label sets: 140 short-lived processes with distinct names (each
        # ~160 series: syscalls, CPU, switches, run-queue histogram).
        subprocess.run([os.environ["RL_SPAWN"], "names", "140", "4", "3",
                        "rlscr"], check=True, stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        text = agent.get()
        n_series = sum(1 for l in text.splitlines() if l and l[0] != "#")
        check(n_series >= 20000, f"{n_series} series exposed (>= 20000)")
        url = agent.url()

        stop, slow = threading.Event(), []
        slow_threads = [threading.Thread(target=slow_client,
                                         args=(agent.port, slow, stop))
                        for _ in range(10)]
        for t in slow_threads:
            t.start()
        time.sleep(1.0)
        # A copy under its own name: nothing else on the host counts as it.
        tmp = tempfile.mkdtemp(prefix="rl-scrape-")
        storm_bin = os.path.join(tmp, "rl_scrape_storm")
        shutil.copy(os.environ["RL_SYSSTORM"], storm_bin)
        storm = subprocess.Popen([storm_bin, str(N_GETPPID), "0"],
                                 stdout=subprocess.DEVNULL)

        with concurrent.futures.ThreadPoolExecutor(50) as ex:
            healthy = list(ex.map(lambda _: scrape(url), range(50)))
        codes = sorted({c for c, _, _ in healthy})
        ok = [(b, d) for c, b, d in healthy if c == 200]
        slowest = max(d for _, _, d in healthy)
        check(set(codes) <= {200, 503} and len(ok) >= 25,
              f"50 concurrent scrapes beside 10 slow readers: codes {codes}, "
              f"{len(ok)} x 200")
        # What this guards: a healthy scrape never waits behind a slow
        # reader (which holds a worker up to 10 s) or an unbounded queue.
        # What it measures is 50 Python clients reading ~3 MB each on a
        # 2-core machine beside a getppid storm: 1.038 s once on CI with
        # the request engine on the sock tracepoints (every recv of those
        # clients is traced), so 1.5 s. Under ASan (scripts/sanitize.sh)
        # the same work runs about 2x slower (CI: 1.098 s at 1 s before).
        bound = 2.5 if os.environ.get("REDLINE_SANITIZED") else 1.5
        check(slowest <= bound, f"every healthy scrape within {bound:.1f} s "
              f"(slowest {slowest:.3f} s)")
        uniq = {hashlib.sha1(b).hexdigest(): b for b, _ in ok}
        bad = promtool_clean(uniq.values())
        check(not bad, f"promtool check metrics clean on all {len(ok)} "
              f"responses ({len(uniq)} distinct bodies): {bad[:1]}")

        storm.wait()
        for t in slow_threads:
            t.join(timeout=45)
        stop.set()
        # Their responses sit in the kernel's socket buffers (or are cut at
        # the 10 s deadline when larger): either way no worker waited on
        # them, which the healthy latencies above show.
        check(len(slow) == 10 and all(g > 0 for _, g in slow),
              f"slow readers were served, one byte a second "
              f"({', '.join(f'{d:.0f}s/{g}B' for d, g in slow)})")
        # Bounded in-flight work: 48 clients that never finish their
        # request hold the 16 workers (each until the read timeout) and the
        # 32 queue slots; what comes next is answered 503 at once, /healthz
        # still 200, and closing them brings scrapes back.
        stalled = []
        for _ in range(48):
            c = socket.create_connection(("127.0.0.1", agent.port))
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            stalled.append(c)
        # Once the server has taken them all in, a request is refused:
        # wait for that (a slow machine accepts them more slowly).
        full, deadline = False, time.time() + 10
        while not full and time.time() < deadline:
            try:
                full = scrape_quick(url) == 503
            except OSError:  # queued behind them: the queue fills up anyway
                pass
        check(full, "48 stalled connections fill the workers and the queue")
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            burst = list(ex.map(lambda _: scrape(url), range(20)))
        n503 = sum(1 for c, _, _ in burst if c == 503)
        times = sorted(d for _, _, d in burst)
        # A refusal needs no metrics work, so it is quick; but 20 Python
        # threads connecting at once on a loaded 2-core CI machine took
        # 1.2 s, so the bound is "not queued behind a scrape" (5 s read
        # timeout), not the 1 s asked of healthy scrapes.
        check(n503 == 20 and times[-1] < 5.0,
              f"beyond 16 workers + 32 queued: 20 of 20 answered 503 "
              f"({n503}), median {times[len(times) // 2]:.3f} s, "
              f"slowest {times[-1]:.3f} s")
        hc, hb, _ = scrape(agent.url("/healthz"))
        check(hc == 200, f"/healthz still 200 under overload ({hc})")
        for c in stalled:
            c.close()
        back, deadline = None, time.time() + 10
        while time.time() < deadline:
            back = scrape(url)
            if back[0] == 200:
                break
            time.sleep(0.2)
        check(back and back[0] == 200, "scrapes served again once they left")
        time.sleep(1.5)
        m = agent.scrape()
        rejected = value(m, "redline_http_requests_rejected_total")
        check(rejected >= n503, f"redline_http_requests_rejected_total "
              f"{rejected:.0f} >= {n503} seen")
        shutil.rmtree(tmp, ignore_errors=True)
        got = sum(series(m, "redline_syscalls_total", comm="rl_scrape_storm",
                         syscall="getppid").values())
        check(got == N_GETPPID, f"getppid made during the scrapes counted "
              f"exactly: {got:.0f} == {N_GETPPID}")


if __name__ == "__main__":
    main()
