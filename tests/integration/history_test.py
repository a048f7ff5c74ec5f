#!/usr/bin/env python3
"""The agent's history and `redline top --at`, against a helper whose
getppid rate steps at a known moment (20k/s for 5 s, then 60k/s), paced
on absolute 1 ms deadlines so every 1 s window holds the same count:
- during each phase, `top -b --json --connect` prints the helper's rate;
  later, `top --at=<then>` (local HH:MM:SS for the first, RFC 3339 for the
  second) prints the agent's interval at that time: the same rate within
  1%, and the two phases' rates 3x apart (it rewound to the right one);
  the text form (-b) shows the same row;
- /api/v1/history?from=&to= returns the entries of that range (1 s
  refresh: 2-4 in 3 s) as snapshots; junk, from after to, limit 0: HTTP
  400 with one line;
- --at outside what is kept (60 s): one line naming the range, exit 2;
  --at without --connect: one line, exit 2."""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, python_as, redline_bin, require_bpf  # noqa

# Phase A then phase B: getppid calls per 1 ms tick, on absolute deadlines.
HELPER = """
import os, sys, time
start = time.time()
for per_tick, seconds in ((20, 5.0), (60, 6.0)):
    end = start + seconds
    tick = start
    while tick < end:
        for _ in range(per_tick):
            os.getppid()
        tick += 0.001
        delay = tick - time.time()
        if delay > 0:
            time.sleep(delay)
    start = end
print("done", flush=True)
"""
COMM = "rl_histstep"


def top(*args):
    return subprocess.run([redline_bin(), "top", *args], capture_output=True,
                          text=True, timeout=30)


def helper_rate(out):
    for row in json.loads(out)["rows"]:
        if row["name"] == COMM:
            return row["syscalls_per_second"]
    return None


def live(agent):
    """top's rate now over 1 s, and when it printed it."""
    r = top(f"--connect={agent.url('')}", "-b", "-n", "1", "-d", "1",
            "--json", f"--filter={COMM}")
    check(r.returncode == 0, f"top -b --json ran: {r.stderr.strip()}")
    return helper_rate(r.stdout), time.time()


def get_status(agent, path):
    try:
        with urllib.request.urlopen(agent.url(path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="rl-hist-")
    script = os.path.join(tmp, "step.py")
    with open(script, "w") as f:
        f.write(HELPER)
    with Agent("--probes=syscalls", "--refresh-interval=1",
               "--history=60s") as agent:
        t0 = time.time()
        helper = subprocess.Popen([python_as(tmp, COMM), script],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(2.5)  # into phase A, past the agent's first entries
        rate_a, at_a = live(agent)
        time.sleep(max(0, t0 + 7.5 - time.time()))  # into phase B
        rate_b, at_b = live(agent)
        helper.wait(timeout=30)
        check(rate_a and rate_b and 2.5 < rate_b / rate_a < 3.5,
              f"live: {rate_a:.0f}/s then {rate_b:.0f}/s (20k then 60k)")
        time.sleep(1.5)  # the entries after at_b exist

        url = f"--connect={agent.url('')}"
        clock = time.strftime("%H:%M:%S", time.localtime(at_a))
        # HH:MM:SS drops the fraction: the entry at or before that second.
        r = top(url, "-b", "--json", f"--at={clock}", f"--filter={COMM}")
        check(r.returncode == 0, f"--at={clock}: {r.stderr.strip()}")
        past_a = helper_rate(r.stdout)
        check(past_a is not None and abs(past_a - rate_a) <= 0.01 * rate_a,
              f"--at={clock}: {past_a}/s, printed then {rate_a:.0f}/s "
              "(within 1%)")
        rfc = datetime.datetime.fromtimestamp(
            at_b, datetime.timezone.utc).isoformat()
        r = top(url, "-b", "--json", f"--at={rfc}", f"--filter={COMM}")
        check(r.returncode == 0, f"--at={rfc}: {r.stderr.strip()}")
        past_b = helper_rate(r.stdout)
        check(past_b is not None and abs(past_b - rate_b) <= 0.01 * rate_b,
              f"--at={rfc}: {past_b}/s, printed then {rate_b:.0f}/s "
              "(within 1%)")
        r = top(url, "-b", f"--at={rfc}", f"--filter={COMM}")
        check(r.returncode == 0 and "interval 1.0s" in r.stdout and
              any(l.startswith(COMM) for l in r.stdout.splitlines()),
              f"-b --at prints the text report:\n{r.stdout}")

        frm, to = int(at_b) - 3, int(at_b)
        status, body = get_status(
            agent, f"/api/v1/history?from={frm}&to={to}")
        h = json.loads(body)
        times = [s["taken_unix_ns"] / 1e9 for s in h["snapshots"]]
        check(status == 200 and 2 <= len(times) <= 4 and
              all(frm <= t <= to for t in times) and h["interval_s"] == 1 and
              any(w["id"]["comm"] == COMM for w in h["snapshots"][-1]["workloads"]),
              f"/api/v1/history?from={frm}&to={to}: {len(times)} entries")
        for bad in ("from=junk", f"from={to}&to={frm}", "limit=0",
                    "to=14%3A99"):
            status, body = get_status(agent, f"/api/v1/history?{bad}")
            check(status == 400 and body.count("\n") == 1,
                  f"?{bad}: HTTP {status}: {body.strip()}")

        r = top(url, "-b", "--at=-10m")
        check(r.returncode == 2 and "outside the history" in r.stderr and
              r.stderr.count("\n") == 1,
              f"--at=-10m: exit {r.returncode}: {r.stderr.strip()}")
    r = top("-b", "--at=-1m")
    check(r.returncode == 2 and "--connect" in r.stderr and
          r.stderr.count("\n") == 1,
          f"--at without --connect: exit {r.returncode}: {r.stderr.strip()}")


if __name__ == "__main__":
    main()
