#!/usr/bin/env python3
"""Time to detect, end to end, with real components on loopback in a
network namespace: nginx serving a load loop (20 requests/s), redline with
an http_availability SLO (99.9%, page on 1h and 5m at 14.4x), Prometheus
(scrape and evaluation every 5 s) with the rules `redline rules` wrote,
Alertmanager routing to a webhook receiver this test runs.

1 minute healthy: no notification may arrive (the page has no `for`, so
any of the evaluations over live data would have fired). Then nginx is
reloaded with a config answering 500: the page must reach the webhook in
under 120 s (the measured time is printed). Then the healthy config comes
back: redline must stop counting bad events and count good ones again.
When the alert then resolves is Prometheus arithmetic on those series (the
5m window forgetting the outage, about 5 minutes): promtool proves it on
the same generated rules (rules.slo_rules_test, burn_rate_test.yaml), so
this test does not wait for it."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, enter_netns, redline_bin, require_bpf  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "helpers", "http_load.py")
NGINX, PROM, AM, HOOK = 18380, 18390, 18393, 18395
HEALTHY_S = int(os.environ.get("RL_TTD_HEALTHY_S", "60"))

SLO = """slos:
  - name: web
    selector: {comm: nginx}
    sli: {kind: http_availability}
    objective: 99.9
    window: 28d
    alerting:
      page: [{long: 1h, short: 5m, factor: 14.4}]
      ticket: []
"""

NGINX_CONF = """daemon off;
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ {body} }}
    }}
}}
"""

PROM_CONF = """global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: [{rules}]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ["127.0.0.1:{am}"]}}]
scrape_configs:
  - job_name: redline
    static_configs: [{{targets: ["127.0.0.1:{agent}"]}}]
"""

AM_CONF = """route:
  receiver: hook
  group_by: [alertname, slo]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook}/
        send_resolved: true
"""


class Hook(http.server.BaseHTTPRequestHandler):
    events = []  # (monotonic time, status, alertname, severity)
    lock = threading.Lock()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with Hook.lock:
            for a in body.get("alerts", []):
                Hook.events.append((time.monotonic(), a["status"],
                                    a["labels"].get("alertname"),
                                    a["labels"].get("severity")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_port(port, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    check(False, f"{what} listening on {port}")


def write_nginx(tmp, body):
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=NGINX, body=body))


def wait_event(status, since, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Hook.lock:
            for t, st, name, sev in Hook.events:
                if t >= since and st == status and name == "RedlineSLOFastBurn":
                    return t, sev
        time.sleep(0.2)
    return None, None


def prom_alerts():
    with urllib.request.urlopen(f"http://127.0.0.1:{PROM}/api/v1/alerts",
                                timeout=5) as r:
        return json.load(r)["data"]["alerts"]


def slo_events(agent):
    m = agent.scrape()
    out = {"good": 0.0, "bad": 0.0}
    for (n, labels), v in m.items():
        d = dict(labels)
        if n == "redline_slo_events_total" and d.get("slo") == "web":
            out[d["outcome"]] = out.get(d["outcome"], 0.0) + v
    return out


def main():
    require_bpf()
    enter_netns("RL_TTD_NETNS")
    for exe in ("nginx", "prometheus", "prometheus-alertmanager"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    tmp = tempfile.mkdtemp(prefix="rl-ttd-")
    procs = []
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", HOOK), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        slo = os.path.join(tmp, "slo.yaml")
        with open(slo, "w") as f:
            f.write(SLO)
        rules = os.path.join(tmp, "rules.yaml")
        subprocess.run([redline_bin(), "rules", f"--slo-config={slo}",
                        f"--output={rules}"], check=True)
        write_nginx(tmp, "return 200 'ok\\n';")
        conf = os.path.join(tmp, "nginx.conf")
        with Agent("--probes=l7", f"--slo-config={slo}") as agent:
            with open(os.path.join(tmp, "am.yml"), "w") as f:
                f.write(AM_CONF.format(hook=HOOK))
            with open(os.path.join(tmp, "prom.yml"), "w") as f:
                f.write(PROM_CONF.format(rules=rules, am=AM, agent=agent.port))
            procs.append(subprocess.Popen(
                ["prometheus-alertmanager", f"--config.file={tmp}/am.yml",
                 f"--storage.path={tmp}/am",
                 f"--web.listen-address=127.0.0.1:{AM}",
                 "--cluster.listen-address="],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                ["prometheus", f"--config.file={tmp}/prom.yml",
                 f"--storage.tsdb.path={tmp}/prom",
                 f"--web.listen-address=127.0.0.1:{PROM}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(["nginx", "-c", conf, "-p", tmp]))
            for port, what in ((AM, "alertmanager"), (PROM, "prometheus"),
                               (NGINX, "nginx")):
                wait_port(port, what)
            procs.append(subprocess.Popen([sys.executable, LOAD, "loop",
                                           str(NGINX), "20"]))

            time.sleep(HEALTHY_S)
            with Hook.lock:
                early = list(Hook.events)
            check(not early, f"{HEALTHY_S} s healthy: no notification "
                  f"({early})")
            check(not prom_alerts(), "healthy: Prometheus has no alert")

            write_nginx(tmp, "return 500;")
            subprocess.run(["nginx", "-c", conf, "-p", tmp, "-s", "reload"],
                           check=True)
            switched = time.monotonic()
            fired, sev = wait_event("firing", switched, 180)
            check(fired is not None, "the page reached the webhook")
            ttd = fired - switched
            print(f"time to detect: {ttd:.1f} s (switch to 500s -> webhook "
                  f"received the page)")
            check(ttd < 120, f"time to detect {ttd:.1f} s < 120 s")
            check(sev == "page", f"severity {sev} == page")

            write_nginx(tmp, "return 200 'ok\\n';")
            subprocess.run(["nginx", "-c", conf, "-p", tmp, "-s", "reload"],
                           check=True)
            # Old workers finish their last 500s while the reload settles.
            time.sleep(3)
            before = slo_events(agent)
            time.sleep(10)
            after = slo_events(agent)
            check(before["bad"] > 0, "redline counted the outage "
                  f"({before['bad']:.0f} bad)")
            check(after["bad"] == before["bad"],
                  f"after recovery no bad event ({before} -> {after})")
            good = after["good"] - before["good"]
            check(good >= 100, f"after recovery good events flow again "
                  f"({good:.0f} in 10 s at 20/s)")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        hook.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
