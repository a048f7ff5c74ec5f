#!/usr/bin/env python3
"""A real Prometheus server scrapes the agent; PromQL returns the helper's
exact counter."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, free_port, require_bpf  # noqa


def query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def main():
    require_bpf()
    if not shutil.which("prometheus"):
        check(False, "prometheus is installed (scripts/install-deps.sh)")
    tmp = tempfile.mkdtemp(prefix="rl-prom-")
    with Agent() as agent:
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "scrape_configs:\n  - job_name: redline\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{agent.port}']\n")
        pport = free_port()
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}",
             f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{pport}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            subprocess.run([os.environ["RL_SYSSTORM"], "54321", "0"], check=True,
                           stdout=subprocess.DEVNULL)
            q = 'sum(redline_syscalls_total{comm="rl_sysstorm",syscall="getppid"})'
            got = None
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    res = query(pport, q)["data"]["result"]
                    if res:
                        got = float(res[0]["value"][1])
                        if got == 54321:
                            break
                except OSError:
                    pass
                time.sleep(1)
            check(got == 54321, f"PromQL {q} == 54321 (got {got})")
            up = query(pport, 'up{job="redline"}')["data"]["result"]
            check(up and up[0]["value"][1] == "1", "Prometheus target is up")
        finally:
            prom.terminate()
            prom.wait(timeout=20)
            shutil.rmtree(tmp, ignore_errors=True)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
