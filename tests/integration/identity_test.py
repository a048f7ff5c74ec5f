#!/usr/bin/env python3
"""Workload identity on real cgroups: the test builds a kubepods/containerd
shaped hierarchy and a systemd-service shaped cgroup in the cgroup v2 mount,
runs workloads inside them, and checks their series' labels, with and
without a (local, fake) kubelet serving a recorded-format /pods."""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, require_bpf, series  # noqa

UID = "6b1f0e9a-3c2d-4b5a-8e7f-0a1b2c3d4e5f"
CID = "4f1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd99"


def cgroup2_root():
    best = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            dash = parts.index("-")
            if parts[dash + 1] == "cgroup2":
                if best is None or parts[4] == "/sys/fs/cgroup":
                    best = parts[4]
    return best


class Cgroups:
    """Creates cgroup directories and removes exactly those afterwards."""

    def __init__(self, root):
        self.root, self.made = root, []

    def make(self, rel):
        path = self.root
        for comp in rel.strip("/").split("/"):
            path = os.path.join(path, comp)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.made.append(path)
        return path

    def cleanup(self):
        for path in reversed(self.made):
            try:
                os.rmdir(path)
            except OSError as e:
                print(f"warning: rmdir {path}: {e}")


def run_in(cgroup, helper, n, comm):
    """Joins `cgroup`, then execs the helper: exec starts the incarnation the
    agent attributes, already inside the cgroup."""
    subprocess.run(["sh", "-c", f'echo $$ > "{cgroup}/cgroup.procs" && '
                    f'exec "{helper}" {n} 0 --comm {comm}'],
                   check=True, capture_output=True)


def pods_json():
    return json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [{
        "metadata": {"name": "rl-web-abc12-xyz9q", "namespace": "rl-ns",
                     "uid": UID, "labels": {"pod-template-hash": "abc12"},
                     "ownerReferences": [{"kind": "ReplicaSet",
                                          "name": "rl-web-abc12",
                                          "controller": True}]},
        "status": {"containerStatuses": [
            {"name": "app", "containerID": f"containerd://{CID}"}]}}]})


class FakeKubelet(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        body = pods_json().encode() if self.path == "/pods" else b"{}"
        FakeKubelet.hits += self.path == "/pods"
        self.send_response(200 if self.path == "/pods" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def labels_of(metrics, comm):
    found = series(metrics, "redline_syscalls_total", comm=comm,
                   syscall="getppid")
    check(len(found) == 1, f"one getppid series for {comm}: {found}")
    (labels, v), = found.items()
    return dict(labels), v


def main():
    require_bpf()
    root = cgroup2_root()
    check(root is not None, "cgroup v2 is mounted")
    helper = os.environ["RL_SYSSTORM"]
    cg = Cgroups(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeKubelet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pod_slice = ("kubepods.slice/kubepods-burstable.slice/"
                     f"kubepods-burstable-pod{UID.replace('-', '_')}.slice")
        kube = cg.make(f"{pod_slice}/cri-containerd-{CID}.scope")
        svc = cg.make("system.slice/rl-identity-test.service")

        kubelet = f"--kubelet-url=http://127.0.0.1:{server.server_port}"
        with Agent(kubelet) as agent:
            # The agent reads the kubelet in the background; start the
            # workload once it has (names are looked up at every read).
            deadline = time.time() + 10
            while FakeKubelet.hits == 0 and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            run_in(kube, helper, 1234, "rl_kube")
            run_in(svc, helper, 567, "rl_svc")
            subprocess.run([helper, "89", "0", "--comm", "rl_plain"],
                           check=True, capture_output=True)
            m = agent.scrape()
            text = agent.get()

        labels, v = labels_of(m, "rl_kube")
        check(v == 1234, f"container workload counted exactly ({v})")
        want = {"comm": "rl_kube", "syscall": "getppid", "pod_uid": UID,
                "container_id": CID, "namespace": "rl-ns",
                "pod": "rl-web-abc12-xyz9q", "container": "app",
                "workload": "rl-web"}
        check(labels == want, f"container labels from cgroup + kubelet: {labels}")
        check(FakeKubelet.hits >= 1, f"kubelet /pods was read ({FakeKubelet.hits})")
        labels, v = labels_of(m, "rl_svc")
        check(v == 567 and labels == {"comm": "rl_svc", "syscall": "getppid",
                                      "systemd_unit": "rl-identity-test.service"},
              f"service labels: unit only ({labels}, {v})")
        labels, v = labels_of(m, "rl_plain")
        check(v == 89 and labels == {"comm": "rl_plain", "syscall": "getppid"},
              f"a process in no container/unit has no identity labels ({labels})")
        check('=""' not in text, "no empty label values anywhere")
        pt = subprocess.run(["promtool", "check", "metrics"], input=text,
                            capture_output=True, text=True)
        check(pt.returncode == 0, f"promtool check metrics: {pt.stdout}{pt.stderr}")

        # Without Kubernetes: ids from the cgroup, no names, no empty labels.
        with Agent() as agent:
            run_in(kube, helper, 321, "rl_kube2")
            m = agent.scrape()
        labels, v = labels_of(m, "rl_kube2")
        check(v == 321 and labels == {"comm": "rl_kube2", "syscall": "getppid",
                                      "pod_uid": UID, "container_id": CID},
              f"without a kubelet: pod_uid and container_id only ({labels})")

        # Labels can be turned off.
        with Agent("--identity-labels=none") as agent:
            run_in(kube, helper, 11, "rl_kube3")
            m = agent.scrape()
        labels, _ = labels_of(m, "rl_kube3")
        check(labels == {"comm": "rl_kube3", "syscall": "getppid"},
              f"--identity-labels=none: comm only ({labels})")
    finally:
        server.shutdown()
        cg.cleanup()


if __name__ == "__main__":
    main()
