#!/usr/bin/env python3
"""SLO events counted exactly in the kernel, in `redline run
--slo-config`, against workloads whose outcome the test decides:
- http_latency (threshold 100 ms): a server helper answering /sleep/5 and
  /sleep/250: good and bad equal the requests of each kind, exactly;
- http_availability: /status/500 against 200s: bad == the 500s;
- syscall_latency (50 ms): clock_nanosleep of 1 ms and 100 ms, exactly
  (far from the threshold: a sleep's duration includes waiting for a CPU
  after the timer fires, tens of ms on a loaded 2-core CI machine);
- syscall_errors (connect, ECONNREFUSED): blocking connects to a listening
  and to a closed port;
- exact at the threshold, not interpolated: with 500 ms, requests of
  300 ms and 520 ms (one log2 bucket) split 4 good / 3 bad, and so do
  sleeps of the same lengths;
- SIGHUP with a changed threshold (100 ms -> 500 ms): unchanged SLOs keep
  their counts, the changed one restarts and counts the new way; a broken
  file on SIGHUP is refused with one log line and counting goes on;
- the exposition passes `promtool check metrics`.
Runs in its own network namespace (loopback only)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, enter_netns, python_as, require_bpf, value  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "helpers", "http_load.py")
PORT, CLOSED = 18280, 18281
EVENTS = "redline_slo_events_total"

CONFIG = """slos:
  - name: api-latency
    selector: {{comm: rl_slosrv}}
    sli: {{kind: http_latency, threshold: {threshold}}}
    objective: 99
  - name: api-availability
    selector: {{comm: {{regex: "rl_slo.*"}}}}
    sli: {{kind: http_availability}}
    objective: 99.9
  - name: sleeper
    selector: {{comm: rl_sleeper}}
    sli: {{kind: syscall_latency, syscalls: [clock_nanosleep, nanosleep],
           threshold: 50ms}}
    objective: 99
  - name: sleeper-exact
    selector: {{comm: rl_sleeper2}}
    sli: {{kind: syscall_latency, syscalls: [clock_nanosleep, nanosleep],
           threshold: 500ms}}
    objective: 99
  - name: dial
    selector: {{comm: rl_dialer}}
    sli: {{kind: syscall_errors, syscalls: [connect],
           errnos: [ECONNREFUSED]}}
    objective: 99
"""

SLEEPER = """import time
for _ in range({good}):
    time.sleep(0.001)
for _ in range({bad}):
    time.sleep(0.100)
"""

DIALER = """import socket
for port, n in (({port}, {good}), ({closed}, {bad})):
    for _ in range(n):
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            pass
        s.close()
"""


def events(m, slo):
    return (value(m, EVENTS, slo=slo, outcome="good"),
            value(m, EVENTS, slo=slo, outcome="bad"))


def curl(path, n):
    for _ in range(n):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null",
                            f"http://127.0.0.1:{PORT}{path}"], timeout=30)
        if r.returncode != 0:
            check(False, f"curl {path} exited {r.returncode}")


def workload(tmp, fast, slow, errors):
    curl("/sleep/5", fast)
    curl("/sleep/250", slow)
    curl("/status/500", errors)
    subprocess.run([python_as(tmp, "rl_sleeper"), "-c",
                    SLEEPER.format(good=fast, bad=slow)], check=True)
    subprocess.run([python_as(tmp, "rl_dialer"), "-c",
                    DIALER.format(port=PORT, closed=CLOSED, good=fast,
                                  bad=errors)], check=True)
    time.sleep(1.2)


def main():
    require_bpf()
    enter_netns("RL_SLO_NETNS")
    tmp = tempfile.mkdtemp(prefix="rl-slo-")
    cfg = os.path.join(tmp, "slo.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(threshold="100ms"))
    srv = subprocess.Popen([python_as(tmp, "rl_slosrv"), LOAD, "serve", str(PORT)],
                           stdout=subprocess.PIPE, text=True)
    try:
        check(srv.stdout.readline().strip() == "listening", "server started")
        with Agent("--probes=syscalls,l7", f"--slo-config={cfg}") as agent:
            workload(tmp, fast=7, slow=5, errors=4)
            m1 = agent.scrape()
            check(events(m1, "api-latency") == (7 + 4, 5),
                  f"http_latency 100ms: (good, bad) {events(m1, 'api-latency')}"
                  f" == (7 fast + 4 quick 500s, 5 slow)")
            check(events(m1, "api-availability") == (12, 4),
                  f"http_availability: {events(m1, 'api-availability')} == "
                  f"(12 answered, 4 500s)")
            check(events(m1, "sleeper") == (7, 5),
                  f"syscall_latency 50ms: {events(m1, 'sleeper')} == (7, 5)")
            check(events(m1, "dial") == (7, 4),
                  f"syscall_errors connect ECONNREFUSED: "
                  f"{events(m1, 'dial')} == (7, 4)")
            text = agent.get()
            r = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
            check(r.returncode == 0, f"promtool check metrics: {r.stdout}"
                  f"{r.stderr}")

            # Reload: api-latency's threshold changes, the rest does not.
            with open(cfg, "w") as f:
                f.write(CONFIG.format(threshold="500ms"))
            agent.proc.send_signal(signal.SIGHUP)
            time.sleep(1.5)
            m2 = agent.scrape()
            check(events(m2, "api-latency") == (0, 0),
                  f"changed SLO restarts: {events(m2, 'api-latency')}")
            for slo in ("api-availability", "sleeper", "dial"):
                check(events(m2, slo) == events(m1, slo),
                      f"unchanged SLO {slo} keeps its counts "
                      f"{events(m2, slo)}")
            workload(tmp, fast=3, slow=2, errors=1)
            m3 = agent.scrape()
            check(events(m3, "api-latency") == (3 + 2 + 1, 0),
                  f"500ms threshold: 250 ms requests are good now "
                  f"{events(m3, 'api-latency')}")
            check(events(m3, "api-availability") == (12 + 5, 4 + 1),
                  f"availability went on counting {events(m3, 'api-availability')}")
            check(events(m3, "sleeper") == (10, 7),
                  f"sleeper went on counting {events(m3, 'sleeper')}")

            # Exact, not read off a histogram: 300 ms and 520 ms are both in
            # the log2 bucket [268 ms, 537 ms) that holds the 500 ms
            # threshold; interpolating in it would call 86% of them good.
            # (Waiting for a CPU only makes a good one slower: 200 ms of
            # margin; a bad one cannot get faster.)
            curl("/sleep/300", 4)
            curl("/sleep/520", 3)
            subprocess.run([python_as(tmp, "rl_sleeper2"), "-c",
                            "import time\n"
                            "for d in [0.3] * 4 + [0.52] * 3:\n"
                            "    time.sleep(d)\n"], check=True)
            time.sleep(1.2)
            m3b = agent.scrape()
            lat = tuple(a - b for a, b in zip(events(m3b, "api-latency"),
                                              events(m3, "api-latency")))
            check(lat == (4, 3), f"http_latency 500ms: 300 ms good, 520 ms "
                  f"bad, within one log2 bucket: {lat} == (4, 3)")
            check(events(m3b, "sleeper-exact") == (4, 3),
                  f"syscall_latency 500ms: 300 ms sleeps good, 520 ms bad, "
                  f"within one log2 bucket: {events(m3b, 'sleeper-exact')} "
                  f"== (4, 3)")

            # A broken file on SIGHUP: refused, the loaded SLOs go on.
            with open(cfg, "w") as f:
                f.write("slos:\n  - name: x\n    objective: 99\n")
            agent.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            workload(tmp, fast=1, slow=0, errors=0)
            m4 = agent.scrape()
            check(events(m4, "api-latency") == (11, 3),
                  f"a broken reload keeps the SLOs {events(m4, 'api-latency')}")
            check(agent.proc.poll() is None, "agent still running")
            rc, _ = agent.stop()
            err = agent.proc.stderr.read()
            check("slo.yaml:2:5: slos[0].selector: required" in err and
                  "keeping the SLOs loaded before" in err,
                  f"the broken reload was logged: {err.strip()[-300:]}")
    finally:
        srv.terminate()
        srv.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
