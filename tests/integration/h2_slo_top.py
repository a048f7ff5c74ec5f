"""h2_test's SLOs and `redline top` (a module of it, not a test): an SLO
file of `protocol: http2` and `protocol: grpc` SLIs whose events must equal
the servers' and clients' own counts, and a `redline top --connect -b
--json` running alongside the workloads whose rows must hold exactly the
requests (and errors) those made."""
import json
import os
import subprocess
import threading
import time

from rltest import check, redline_bin, value  # noqa

EVENTS = "redline_slo_events_total"
# A latency SLI's threshold: the oracle is the wall time of the client
# process, which bounds each of its requests; under it, every request is
# good.
THRESHOLD_S = 5
# gRPC's server-side failures, the default bad outcomes of a grpc
# availability SLI (README "SLOs": the protocol's errors).
GRPC_ERRORS = {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL",
               "UNAVAILABLE", "DATA_LOSS"}

# One method of grpc_echo.py's service: an SLI may name a gRPC method
# (labels learned at run time), and counts that method's calls only.
SAY = "redline.test.Echo/Say"

CONFIG = """slos:
  - name: h2-availability
    selector: {{comm: nginx}}
    sli: {{kind: request_availability, protocol: http2}}
    objective: 99
  - name: h2-client-latency
    selector: {{comm: h2load}}
    sli: {{kind: request_latency, protocol: http2, role: client,
           threshold: {t}s}}
    objective: 99
  - name: grpc-availability
    selector: {{comm: rl_grpc_srv}}
    sli: {{kind: request_availability, protocol: grpc}}
    objective: 99
  - name: grpc-latency
    selector: {{comm: rl_grpc_srv}}
    sli: {{kind: request_latency, protocol: grpc, threshold: {t}s}}
    objective: 99
  - name: grpc-say
    selector: {{comm: rl_grpc_srv}}
    sli: {{kind: request_availability, protocol: grpc,
           operations: [{say}]}}
    objective: 99
  - name: grpc-client-not-found
    selector: {{comm: rl_grpc_cli}}
    sli: {{kind: request_availability, protocol: grpc, role: client,
           outcomes: [NOT_FOUND]}}
    objective: 99
"""


def grpc_errors(tally):
    """(calls, failures) of a tally {(method, code): n}."""
    return (sum(tally.values()),
            sum(v for (_, code), v in tally.items() if code in GRPC_ERRORS))


def write_config(tmp):
    path = os.path.join(tmp, "slo.yaml")
    with open(path, "w") as f:
        f.write(CONFIG.format(t=THRESHOLD_S, say=SAY))
    return path


def check_events(m1, m0, slo, good, bad, what):
    got = tuple(int(round(value(m1, EVENTS, slo=slo, outcome=o) -
                          value(m0, EVENTS, slo=slo, outcome=o)))
                for o in ("good", "bad"))
    check(got == (good, bad), f"SLO {slo}: {EVENTS} (good, bad) +{got} == "
          f"{(good, bad)} ({what})")


def check_h2load(m1, m0, classes, wall_s):
    """classes: the access log's status classes of the h2load run."""
    n = sum(classes.values())
    bad = classes.get("5xx", 0)
    check_events(m1, m0, "h2-availability", n - bad, bad,
                 f"nginx's access log {classes}: bad = 5xx")
    check(wall_s < THRESHOLD_S, f"h2load ran {wall_s:.2f} s < the latency "
          f"threshold {THRESHOLD_S} s")
    check_events(m1, m0, "h2-client-latency", n, 0,
                 f"every request of h2load's {wall_s:.2f} s run under "
                 f"{THRESHOLD_S} s")


def check_grpc(m1, m0, server_tally, client_tally, wall_s):
    """Tallies: {(method, code): n}, each program's own."""
    n, bad = grpc_errors(server_tally)
    check_events(m1, m0, "grpc-availability", n - bad, bad,
                 "the server's tally: bad = its failure codes")
    check(wall_s < THRESHOLD_S, f"the gRPC client ran {wall_s:.2f} s < "
          f"the latency threshold {THRESHOLD_S} s")
    check_events(m1, m0, "grpc-latency", n, 0,
                 f"every call of the client's {wall_s:.2f} s run under "
                 f"{THRESHOLD_S} s")
    say = {k: v for k, v in server_tally.items() if k[0] == SAY}
    n, bad = grpc_errors(say)
    check(0 < n < sum(server_tally.values()), f"the server served {SAY} "
          f"and another method ({server_tally})")
    check_events(m1, m0, "grpc-say", n - bad, bad,
                 f"the server's tally of {SAY} alone")
    n = sum(client_tally.values())
    bad = sum(v for (_, code), v in client_tally.items()
              if code == "NOT_FOUND")
    check_events(m1, m0, "grpc-client-not-found", n - bad, bad,
                 "the client's tally: bad = NOT_FOUND")


class TopWatch:
    """`redline top --connect=AGENT -b --json -d 0.5` in the background,
    its reports read as they come. start() returns once the first report
    is out: every later report's interval begins at or after that, so the
    requests made from then on are all in the sum of the later reports
    once one taken after they were counted is in. Costs about a second."""

    def __init__(self, agent):
        self.proc = subprocess.Popen(
            [redline_bin(), "top", f"--connect={agent.url('')}", "-b",
             "--json", "-d", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reports = []  # (time received, report)
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.reports.append((time.monotonic(), json.loads(line)))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def _wait(self, pred, what):
        with self.cv:
            ok = self.cv.wait_for(
                lambda: pred() or self.proc.poll() is not None, timeout=15)
            ok = ok and pred()
        if not ok:
            self.proc.kill()
            check(False, f"redline top: {what} "
                  f"({self.proc.stderr.read().strip()[-300:]!r})")

    def start(self):
        self._wait(lambda: self.reports, "a first report")

    def stop(self):
        """Call once the agent has counted every request: waits for a
        second report after now (the first may have been taken just
        before), stops top, and returns {row name: (requests, errors)}
        over the reports after the first."""
        t = time.monotonic()
        self._wait(lambda: sum(r >= t for r, _ in self.reports) >= 2,
                   "two reports after the workloads")
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.thread.join(timeout=10)
        out = {}
        for _, rep in self.reports[1:]:
            dt = rep["interval_seconds"]
            for row in rep["rows"]:
                n = int(round(row["requests_per_second"] * dt))
                e = int(round((row["request_error_pct"] or 0) / 100 * n))
                a, b = out.get(row["name"], (0, 0))
                out[row["name"]] = (a + n, b + e)
        return {k: v for k, v in out.items() if v != (0, 0)}


def check_top(rows, want):
    """want: {row name: (requests, errors)} from the programs' own counts."""
    got = {k: rows.get(k, (0, 0)) for k in want}
    check(got == want, f"redline top --json: (requests, errors) of the rows "
          f"{got} == {want}, the programs' own counts")
