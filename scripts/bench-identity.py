#!/usr/bin/env python3
"""Benchmarks workload identity at scale (issue 3): 2000 live processes in
200 kubepods/containerd-shaped cgroups (100 pods x 2 containers, 10
processes each, 50 names), with a local fake kubelet serving their /pods.
Reports the agent's user+system CPU per scrape (minus the background
refresh cost measured over the same time without scrapes), scrape latency,
RSS and peak RSS, series count, and checks that every helper series
carries namespace/pod/container labels. Targets: peak RSS < 64 MiB,
scrape median < 100 ms. Needs root and a build.

usage: scripts/bench-identity.py [--build DIR] [--pods 100] [--per 10]
"""
import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import identity_test  # noqa: E402
import rltest  # noqa: E402


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--per", type=int, default=10, help="processes/container")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-identity: needs root (BPF, cgroups)")
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    helper = os.path.abspath(os.path.join(args.build, "tests", "rl_sysstorm"))
    root = identity_test.cgroup2_root()
    cg = identity_test.Cgroups(root)
    pods, items = [], []
    for p in range(args.pods):
        uid = str(uuid.uuid4())
        cids = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(2)]
        pods.append((uid, cids))
        items.append({
            "metadata": {"name": f"rlb-{p}", "namespace": "rl-bench",
                         "uid": uid},
            "status": {"containerStatuses": [
                {"name": f"c{i}", "containerID": f"containerd://{c}"}
                for i, c in enumerate(cids)]}})
    body = json.dumps({"kind": "PodList", "items": items}).encode()

    class Kubelet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kubelet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    r, w = os.pipe()  # every helper waits on it; closing it ends them all
    procs, ok = [], True
    try:
        with rltest.Agent("--refresh-interval=2",
                          f"--kubelet-url=http://127.0.0.1:{server.server_port}"
                          ) as agent:
            n = 0
            for uid, cids in pods:
                pod = ("kubepods.slice/kubepods-burstable.slice/"
                       f"kubepods-burstable-pod{uid.replace('-', '_')}.slice")
                for cid in cids:
                    d = cg.make(f"{pod}/cri-containerd-{cid}.scope")
                    for _ in range(args.per):
                        procs.append(subprocess.Popen(
                            ["sh", "-c", f'echo $$ > "{d}/cgroup.procs" && '
                             f'exec "{helper}" 100 0 --wait --comm rlb{n % 50:02d}'],
                            stdin=r, stdout=subprocess.DEVNULL))
                        n += 1
            time.sleep(5)  # all started; two refreshes resolved names
            agent.get()
            pid = agent.proc.pid
            c0, t0 = cpu_s(pid), time.time()
            time.sleep(10)
            idle = (cpu_s(pid) - c0) / (time.time() - t0)
            c0, t0, lat = cpu_s(pid), time.time(), []
            for _ in range(20):
                s = time.perf_counter()
                text = agent.get()
                lat.append((time.perf_counter() - s) * 1e3)
            per_scrape = (cpu_s(pid) - c0 - idle * (time.time() - t0)) / 20
            m = rltest.parse_metrics(text)
            # CPU series: one per workload, within the default budget (the
            # per-syscall families fold most of 2000 x 25 into [other]).
            mine = [dict(l) for l in rltest.series(
                m, "redline_cpu_seconds_total")
                if dict(l).get("comm", "").startswith("rlb")]
            labelled = [l for l in mine if l.get("namespace") == "rl-bench"
                        and l.get("pod") and l.get("container")
                        and l.get("pod_uid") and l.get("container_id")]
            hwm = status_kib(pid, "VmHWM") / 1024
            rss = status_kib(pid, "VmRSS") / 1024
            series = sum(1 for ln in text.splitlines() if ln and ln[0] != "#")
            print(f"{len(procs)} processes in {2 * args.pods} cgroups, "
                  f"{series} samples per scrape")
            print(f"  background refresh: {idle * 1e3:.1f} ms CPU per second")
            print(f"  CPU per scrape: {per_scrape * 1e3:.1f} ms")
            print(f"  scrape median {statistics.median(lat):.1f} ms, max "
                  f"{max(lat):.1f} ms (target median < 100)")
            print(f"  RSS {rss:.1f} MiB, peak {hwm:.1f} MiB (target < 64)")
            print(f"  CPU series of the helpers: {len(mine)}, with "
                  f"namespace/pod/container/pod_uid/container_id: "
                  f"{len(labelled)}")
            ok = (hwm < 64 and statistics.median(lat) < 100 and mine
                  and len(labelled) == len(mine))
    finally:
        os.close(w)
        for p in procs:
            p.wait()
        os.close(r)
        cg.cleanup()
        server.shutdown()
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
