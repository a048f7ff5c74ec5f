"""h2_test's full ring buffer phase (a module of it): HTTP/2 frame events
that find the ring buffer full are counted, never waited for, and never
miscounted; the agent goes on counting exactly once it drains again.

An agent with the smallest ring buffer (--h2-buffer-bytes=65536, so the
kernel wakes it once 8 KiB wait) is stopped (SIGSTOP) while h2load sends
3000 requests to nginx over h2c: ~12,000 frame events of ~120 bytes each,
far more than the buffer holds. Then it is continued. Asserted:
- the kernel counted the events it could not send:
  redline_http_unparsed_total{kind="h2_events_lost"} grew;
- what was counted of those 3000 is no more than h2load's own counts by
  status class and no method but GET, on the server side and on h2load's
  client side (a connection that lost frames is given up, never decoded
  from a broken HPACK state);
- the agent was not blocked and is not stuck: h2load finished while it
  was stopped, and 20 requests on new connections afterwards (one curl
  each: a load the small buffer takes whole; under h2load's bursts a
  64 KiB buffer loses events now and then on a busy 2-CPU machine, and
  counts them) are counted exactly on both sides; nothing was counted as
  HTTP/1.x.
Oracle: h2load's and curl's own status counts."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from h2_names import H1_CLI, H1_SRV, H2_CLI, H2_SRV, LOST, UNPARSED  # noqa
from rltest import Agent, check, series, value  # noqa

STALLED, AFTER = 3000, 20


def h2load(port, n):
    """h2load over h2c on 4 connections (nginx ends one after 1000
    requests): its status classes, checked all done."""
    out = subprocess.run(
        ["h2load", "-n", str(n), "-c", "4", "-m", "8",
         f"http://127.0.0.1:{port}/rl-ok.html"],
        capture_output=True, text=True, timeout=120).stdout
    done = re.search(r"^requests: \d+ total, \d+ started, (\d+) done", out,
                     re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, "
                      r"(\d+) 5xx", out, re.M)
    lines = [ln for ln in out.splitlines()
             if ln.startswith(("requests:", "status codes:"))]
    check(bool(done and codes and int(done.group(1)) == n),
          f"h2load: {n} requests done {lines}")
    return {f"{i + 2}xx": int(c) for i, c in enumerate(codes.groups())
            if int(c)}


def curls(port, n):
    """n curl processes, one request each over h2c (prior knowledge): a
    load the smallest buffer takes whole. Their status classes."""
    out = {}
    for _ in range(n):
        code = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null",
             "-w", "%{http_code}", f"http://127.0.0.1:{port}/rl-ok.html"],
            capture_output=True, text=True, timeout=30).stdout.strip()
        c = code[:1] + "xx"
        out[c] = out.get(c, 0) + 1
    return out


def by_label(m1, m0, name, key, **labels):
    out = {}
    for lbl, v in series(m1, name, **labels).items():
        k = dict(lbl).get(key, "")
        out[k] = out.get(k, 0) + v - m0.get((name, lbl), 0)
    return {k: int(round(v)) for k, v in out.items() if round(v)}


def scrape_when(agent, m0, name, labels, at_least):
    """Scrapes until name{labels} grew by at_least since m0, or 10 s; then
    once more a refresh later."""
    deadline = time.time() + 10
    while time.time() < deadline:
        m = agent.scrape()
        if value(m, name, **labels) - value(m0, name, **labels) >= at_least:
            break
        time.sleep(0.2)
    time.sleep(1.2)
    return agent.scrape()


def within(got, oracle):
    return all(oracle.get(k, 0) >= v for k, v in got.items())


def phase(port):
    srv = dict(comm="nginx", local_port=str(port))
    cli = dict(comm="h2load", remote=f"127.0.0.1:{port}")
    with Agent("--probes=l7", "--h2-buffer-bytes=65536") as agent:
        m0 = agent.scrape()
        agent.proc.send_signal(signal.SIGSTOP)
        try:
            stalled = h2load(port, STALLED)
        finally:
            agent.proc.send_signal(signal.SIGCONT)
        m1 = scrape_when(agent, m0, UNPARSED, {"kind": LOST}, 1)
        lost = value(m1, UNPARSED, kind=LOST) - value(m0, UNPARSED,
                                                      kind=LOST)
        check(lost > 0, f"full ring buffer: {LOST} +{lost:.0f} > 0 (the "
              f"agent stopped through {STALLED} requests, 64 KiB buffer)")
        for side, labels in (("server", srv), ("client", cli)):
            name = H2_SRV if side == "server" else H2_CLI
            got = by_label(m1, m0, name, "status_class", **labels)
            methods = by_label(m1, m0, name, "method", **labels)
            n = sum(got.values())
            check(within(got, stalled) and set(methods) <= {"GET"},
                  f"full ring buffer, {side} side: {got} ({n} of "
                  f"{STALLED}) within h2load's {stalled}, methods "
                  f"{methods} (no request miscounted)")
        after = curls(port, AFTER)
        m2 = scrape_when(agent, m1, H2_SRV, srv, AFTER)
        lost = value(m2, UNPARSED, kind=LOST) - value(m1, UNPARSED,
                                                      kind=LOST)
        for side, labels in (("server", srv),
                             ("client", dict(comm="curl",
                                             remote=f"127.0.0.1:{port}"))):
            name = H2_SRV if side == "server" else H2_CLI
            got = by_label(m2, m1, name, "status_class", **labels)
            check(got == after, f"after the full ring buffer, {side} side: "
                  f"{got} == curl's {after} (new connections exact; "
                  f"{LOST} +{lost:.0f} meanwhile)")
        h1 = sum(series(m2, H1_SRV, comm="nginx").values()) + sum(
            sum(series(m2, H1_CLI, comm=c).values())
            for c in ("h2load", "curl"))
        check(h1 == 0, f"full ring buffer: nothing counted as HTTP/1.x "
              f"({h1:.0f})")
