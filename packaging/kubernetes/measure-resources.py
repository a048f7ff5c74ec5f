#!/usr/bin/env python3
"""Measures `redline run` CPU and memory the way the DaemonSet runs it, to
size its resource requests and limits (README.md "Resources").

The agent runs as uid 0 with no_new_privs and a bounding set of exactly
CAP_BPF + CAP_PERFMON (what `capabilities: {drop: [ALL], add: [BPF,
PERFMON]}` gives a container), in a memory cgroup of its own: BPF map
memory is charged to the memory cgroup of the process that creates the
maps, so the container's memory use is that cgroup's usage, not the RSS.

IDLE seconds without load, then LOAD seconds with: a syscall storm
(rl_sysstorm), process churn with 500 distinct names (rl_spawn), HTTP/1.1
keep-alive at 300 requests/s (tests/helpers/http_load.py), TCP connect
churn (rl_tcp), 300 idle processes; a /metrics scrape every SCRAPE
seconds. Every 2 s: VmRSS/VmHWM, CPU (utime+stime delta), memcg usage.
Loopback only; every load process is stopped at the end.

usage (root): packaging/kubernetes/measure-resources.py
  env: REDLINE_BIN (build/agent/redline), RL_SYSSTORM, RL_SPAWN, RL_TCP
       (build/tests/rl_*), IDLE (20), LOAD (60), SCRAPE (15), PORT (19998),
       REDLINE_FLAGS (more `redline run` flags, e.g. --max-processes=65536)
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("REDLINE_BIN", f"{ROOT}/build/agent/redline")
SYSSTORM = os.environ.get("RL_SYSSTORM", f"{ROOT}/build/tests/rl_sysstorm")
SPAWN = os.environ.get("RL_SPAWN", f"{ROOT}/build/tests/rl_spawn")
TCP = os.environ.get("RL_TCP", f"{ROOT}/build/tests/rl_tcp")
HTTP = f"{ROOT}/tests/helpers/http_load.py"
IDLE = int(os.environ.get("IDLE", 20))
LOAD = int(os.environ.get("LOAD", 60))
SCRAPE = int(os.environ.get("SCRAPE", 15))
PORT = int(os.environ.get("PORT", 19998))
FLAGS = os.environ.get("REDLINE_FLAGS", "")
STEP = 2
HZ = os.sysconf("SC_CLK_TCK")


def memcg_dir():
    """A fresh memory cgroup: v2 (memory.current/peak) or v1."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        d = f"/sys/fs/cgroup/redline-measure-{os.getpid()}"
        os.makedirs(d, exist_ok=True)
        return d, "memory.current", "memory.peak"
    own = [l.split(":", 2)[2] for l in open("/proc/self/cgroup")
           if l.split(":")[1] == "memory"][0].strip()
    d = f"/sys/fs/cgroup/memory{own}/redline-measure-{os.getpid()}"
    os.makedirs(d, exist_ok=True)
    return d, "memory.usage_in_bytes", "memory.max_usage_in_bytes"


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def get(path):
    t = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}",
                                timeout=10) as r:
        body = r.read()
    return body, time.monotonic() - t


def main():
    if os.geteuid() != 0:
        sys.exit("measure-resources: run as root (cgroups, BPF)")
    cg, usage, peak = memcg_dir()
    mib = lambda name: read_int(f"{cg}/{name}") / 2**20  # noqa: E731
    agent = subprocess.Popen(
        ["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec setpriv '
         '--no-new-privs --bounding-set=-all,+bpf,+perfmon --inh-caps=-all '
         f'-- "$0" run --listen=127.0.0.1:{PORT} {FLAGS}', BIN])
    loads = []
    try:
        for _ in range(150):
            try:
                if get("/healthz")[0].strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("measure-resources: the agent did not come up")
        pid = agent.pid
        st = status(pid)
        print(f"agent uid {st['Uid'].split()[0]} CapBnd {st['CapBnd']} "
              f"CapEff {st['CapEff']} (after attach) NoNewPrivs "
              f"{st['NoNewPrivs']}; memcg {cg}")

        def sh(cmd):
            loads.append(subprocess.Popen(
                ["bash", "-c", cmd], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True))

        rows, scrapes = [], []
        t0 = time.monotonic()
        last_t, last_c = t0, cpu_seconds(pid)
        phase, next_scrape, load_t0, load_c0 = "idle", t0, None, None
        while True:
            now = time.monotonic()
            if phase == "idle" and now - t0 >= IDLE:
                phase = "load"
                load_t0, load_c0 = now, cpu_seconds(pid)
                sh(f"while :; do {SYSSTORM} 20000000 200000; done")
                sh(f"while :; do {SPAWN} names 500 2 200 rlw; done")
                sh(f"exec python3 {HTTP} serve 18080")
                sh(f"exec {TCP} sink 127.0.0.1 18081")
                time.sleep(0.5)
                sh(f"exec python3 {HTTP} loop 18080 300")
                sh(f"while :; do {TCP} churn 127.0.0.1 18081 500; "
                   "sleep 0.5; done")
                sh("for i in $(seq 300); do sleep 3600 & done; wait")
            if now - t0 >= IDLE + LOAD:
                break
            if now >= next_scrape:
                body, dt = get("/metrics")
                samples = sum(1 for l in body.split(b"\n")
                              if l and not l.startswith(b"#"))
                scrapes.append((phase, len(body), dt, samples))
                next_scrape += SCRAPE
            st, c = status(pid), cpu_seconds(pid)
            rows.append((phase, now - t0, int(st["VmRSS"].split()[0]) / 1024,
                         int(st["VmHWM"].split()[0]) / 1024,
                         (c - last_c) / (now - last_t) if now > last_t else 0,
                         mib(usage)))
            last_t, last_c = now, c
            time.sleep(STEP)
        load_cpu = (cpu_seconds(pid) - load_c0) / (time.monotonic() - load_t0)
        print("phase     t  rss_MiB  hwm_MiB  cpu_cores  memcg_MiB")
        for r in rows:
            print(f"{r[0]:5} {r[1]:5.0f} {r[2]:8.1f} {r[3]:8.1f} "
                  f"{r[4]:10.3f} {r[5]:10.1f}")
        idle = [r for r in rows if r[0] == "idle"][1:]
        load = [r for r in rows if r[0] == "load"]
        mean = lambda xs: sum(xs) / max(len(xs), 1)  # noqa: E731
        print(f"idle: cpu {mean([r[4] for r in idle]):.4f} cores, memcg "
              f"{mean([r[5] for r in idle]):.1f} MiB")
        print(f"load: cpu {load_cpu:.4f} cores (max 2 s sample "
              f"{max(r[4] for r in load):.3f}), memcg mean "
              f"{mean([r[5] for r in load]):.1f} MiB")
        print(f"peak: VmHWM {rows[-1][3]:.1f} MiB, memcg {mib(peak):.1f} MiB")
        for s in scrapes:
            print(f"scrape ({s[0]}): {s[3]} samples, {s[1]} bytes, "
                  f"{s[2]:.3f} s")
    finally:
        for p in loads:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        agent.send_signal(signal.SIGTERM)
        agent.wait(15)
        try:
            os.rmdir(cg)
        except OSError:
            pass


if __name__ == "__main__":
    main()
