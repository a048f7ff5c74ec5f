#!/usr/bin/env python3
"""`redline top` in batch mode, as a person or a script would use it:
- --connect to a running agent, --json: the busy helper's syscall rate
  agrees within 10% with the /metrics counters scraped around the same
  interval; sorted by SYS_P99 (filtered to the helpers) the slow one, in a
  17 ms sleep loop, is first with a p99 in the 15.6-31.25 ms bucket;
- the text form (-n 2) has the header and one row per helper, and its two
  reports' rates agree with /metrics within 10% too;
- standalone (loads its own programs) sees the same helpers;
- a wrong --connect URL: one line on stderr, exit 2."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, python_as, redline_bin,  # noqa
                    require_bpf, series)

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                    "helpers", "top_load.py")


def calls(m, comm):
    return sum(v for l, v in series(m, "redline_syscalls_total",
                                    comm=comm).items())


def unit(text):
    """A rate as top prints it: 950, 12.5k, 1.2M."""
    scale = {"k": 1e3, "M": 1e6}.get(text[-1])
    return float(text[:-1]) * scale if scale else float(text)


def top(*args, timeout=60):
    return subprocess.run([redline_bin(), "top", *args], capture_output=True,
                          text=True, timeout=timeout)


def main():
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="rl-top-")
    helpers = [subprocess.Popen([python_as(tmp, name), LOAD, mode, "60"])
               for name, mode in (("rl_topbusy", "busy"),
                                  ("rl_topslow", "slow"))]
    try:
        slo = os.path.join(tmp, "slo.yaml")
        with open(slo, "w") as f:
            f.write("slos:\n  - name: busy\n    selector: {comm: rl_topbusy}\n"
                    "    sli: {kind: syscall_errors, syscalls: [getppid]}\n"
                    "    objective: 99\n")
        with Agent("--probes=syscalls,sched", f"--slo-config={slo}") as agent:
            time.sleep(1)
            m0, t0 = agent.scrape(), time.monotonic()
            r = top(f"--connect={agent.url('')}", "-b", "-n", "1", "-d", "3",
                    "--json", "--filter=rl_top", "--sort=SYS_P99")
            m1, t1 = agent.scrape(), time.monotonic()
            check(r.returncode == 0, f"top --connect ran: {r.stderr.strip()}")
            view = json.loads(r.stdout)
            rows = {row["name"]: row for row in view["rows"]}
            check(set(rows) == {"rl_topbusy", "rl_topslow"},
                  f"--filter keeps the helpers: {sorted(rows)}")
            got = rows["rl_topbusy"]["syscalls_per_second"]
            want = (calls(m1, "rl_topbusy") - calls(m0, "rl_topbusy")) / (t1 - t0)
            check(abs(got - want) <= 0.1 * want,
                  f"busy helper: top {got:.0f}/s vs /metrics {want:.0f}/s "
                  f"(within 10%)")
            check(view["rows"][0]["name"] == "rl_topslow",
                  f"sorted by SYS_P99 the slow helper is first "
                  f"({[x['name'] for x in view['rows']]})")
            p99 = view["rows"][0]["syscall_p99_seconds"]
            check(p99 == 2 ** -5,
                  f"its p99 {p99 * 1e3:.2f} ms is the 15.6-31.25 ms bucket")
            check(rows["rl_topbusy"]["slo_burn_rate_5m"] == 0 and
                  rows["rl_topslow"]["slo_burn_rate_5m"] is None,
                  "BURN: 0 for the SLO'd helper (getppid never fails), "
                  "none for the other")
            check(view["host"] == os.uname().nodename and
                  view["kernel"] == os.uname().release and
                  view["agent_uptime_seconds"] > 1,
                  f"header: host {view['host']}, kernel {view['kernel']}, "
                  f"agent up {view['agent_uptime_seconds']:.0f} s")
            check(rows["rl_topbusy"]["cpu_pct"] > 5,
                  f"busy helper uses CPU ({rows['rl_topbusy']['cpu_pct']:.0f}%)")

            m0, t0 = agent.scrape(), time.monotonic()
            r = top(f"--connect={agent.url('')}", "-b", "-n", "2", "-d", "1",
                    "--filter=rl_top")
            m1, t1 = agent.scrape(), time.monotonic()
            check(r.returncode == 0, "text batch ran")
            reports = [x for x in r.stdout.split("\n\n") if x.strip()]
            check(len(reports) == 2, f"-n 2: two reports ({len(reports)})")
            lines = reports[0].splitlines()
            check(lines[0].startswith("redline top  ")
                  and " kernel " in lines[0] and " agent up " in lines[0]
                  and lines[0].endswith("  interval 1.0s")
                  and lines[1].startswith("process: 2  syscalls/s ")
                  and lines[2].split()[:4] == ["NAME", "CPU%", "RQ_P99",
                                               "SYS/S"]
                  and {l.split()[0] for l in lines[3:]} ==
                  {"rl_topbusy", "rl_topslow"},
                  f"text report: header, columns, a row each:\n{reports[0]}")
            # Both reports' busy-helper rates (text: 471.2k) against the
            # /metrics scrapes taken around the two intervals.
            got = [unit(next(l for l in rep.splitlines()
                             if l.startswith("rl_topbusy")).split()[3])
                   for rep in reports]
            want = (calls(m1, "rl_topbusy") - calls(m0, "rl_topbusy")) / (t1 - t0)
            mean = sum(got) / len(got)
            check(abs(mean - want) <= 0.1 * want,
                  f"-n 2: busy helper {[f'{g:.0f}' for g in got]}/s in the "
                  f"two reports, mean {mean:.0f} vs /metrics {want:.0f}/s "
                  f"(within 10%)")

        r = top("-b", "-n", "1", "-d", "1", "--filter=rl_top", "--json",
                "--probes=syscalls")
        check(r.returncode == 0, f"standalone top ran: {r.stderr.strip()}")
        names = {row["name"] for row in json.loads(r.stdout)["rows"]}
        check(names == {"rl_topbusy", "rl_topslow"},
              f"standalone sees the helpers: {sorted(names)}")

        # Batch, and the interactive screen (on a terminal: `script`
        # gives top a pty, so it would take the screen if it got that far).
        for mode, r in (
                ("batch", top("--connect=http://127.0.0.1:1", "-b", "-n", "1")),
                ("interactive", subprocess.run(
                    ["script", "-qec", f"{redline_bin()} top "
                     "--connect=http://127.0.0.1:1", "/dev/null"],
                    capture_output=True, text=True, timeout=30,
                    env=dict(os.environ, TERM="xterm")))):
            err = r.stderr.strip() or r.stdout.strip()
            check(r.returncode == 2 and len(err.splitlines()) == 1 and
                  "cannot reach the agent" in err and "\x1b" not in err,
                  f"wrong URL ({mode}): exit {r.returncode}, one line: {err!r}")
    finally:
        for h in helpers:
            h.kill()
            h.wait()


if __name__ == "__main__":
    main()
