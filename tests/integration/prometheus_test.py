#!/usr/bin/env python3
"""A real Prometheus server scrapes the agent; PromQL returns the helper's
exact counter."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, Prometheus, check, require_bpf  # noqa


def main():
    require_bpf()
    with Agent() as agent, \
            Prometheus({"redline": f"127.0.0.1:{agent.port}"}) as prom:
        subprocess.run([os.environ["RL_SYSSTORM"], "54321", "0"], check=True,
                       stdout=subprocess.DEVNULL)
        q = 'sum(redline_syscalls_total{comm="rl_sysstorm",syscall="getppid"})'
        got = None
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                got = prom.scalar(q)
                if got == 54321:
                    break
            except OSError:
                pass
            time.sleep(1)
        check(got == 54321, f"PromQL {q} == 54321 (got {got})")
        up = prom.query('up{job="redline"}')
        check(up and up[0]["value"][1] == "1", "Prometheus target is up")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
