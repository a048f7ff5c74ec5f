#!/usr/bin/env python3
"""Request RED follows the socket, not the process that accepted it, in a
network namespace the test creates (loopback only). Servers that answer
from another process than the one that called accept:

- busybox httpd (`busybox httpd -f`): forks a child after accept, which
  reads the request and writes the response;
- Python's socketserver.ForkingMixIn HTTP server, whose child renames
  itself (/proc/self/comm) before it reads: its requests are labelled with
  the child's name, none with the parent's;
- an fd passed over a unix socket (SCM_RIGHTS): rl_passer accepts and
  hands each connection to rl_answerer, which answers; rl_passer closes
  its copy at once and never reads.

Oracle: the clients' own counts by status (one connection per request).
Server-side counts, by status class and labelled with the process that did
the I/O, equal them exactly; so do the client-side counts.

With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same assertions hold on the sys_exit path (ctest
integration.l7_owner_fallback_test)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, by_class, check, check_l7_path,  # noqa: E402
                    enter_netns, python_as, require_bpf)

BB, FORK, SCM = 18280, 18281, 18282
N_OK, N_404 = 40, 10
SRV = "redline_http_server_requests_total"
CLI = "redline_http_client_requests_total"

FORK_SERVER = r"""
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def setup(self):
        # The child, after fork, before it reads a byte.
        with open("/proc/self/comm", "w") as f:
            f.write("rl_forkchild")
        super().setup()
    def log_message(self, *a):
        pass
    def do_GET(self):
        code = 404 if self.path == "/missing" else 200
        self.send_response(code)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
class S(socketserver.ForkingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
s = S(("127.0.0.1", int(sys.argv[1])), H)
print("listening", flush=True)
s.serve_forever()
"""

PASSER = r"""
import socket, subprocess, sys
port, answerer = int(sys.argv[1]), sys.argv[2]
mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
ans = subprocess.Popen([answerer, "-c", sys.argv[3], str(theirs.fileno())],
                       pass_fds=[theirs.fileno()])
theirs.close()
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(64)
print("listening", flush=True)
while True:
    c, _ = l.accept()
    socket.send_fds(mine, [b"x"], [c.fileno()])
    c.close()  # rl_answerer holds the only copy now
"""

ANSWERER = r"""
import os, socket, sys
u = socket.socket(fileno=int(sys.argv[1]))
while True:
    _, fds, _, _ = socket.recv_fds(u, 1, 1)
    if not fds:
        break
    c = socket.socket(fileno=fds[0])
    req = b""
    while b"\r\n\r\n" not in req:
        got = c.recv(4096)
        if not got:
            break
        req += got
    code = b"404 Not Found" if req.startswith(b"GET /missing ") else b"200 OK"
    c.sendall(b"HTTP/1.1 " + code + b"\r\nContent-Length: 3\r\n"
              b"Connection: close\r\n\r\nok\n")
    c.close()
"""

CLIENT = r"""
import http.client, sys
port, n_ok, n_404 = (int(a) for a in sys.argv[1:4])
got = {}
for path in ["/"] * n_ok + ["/missing"] * n_404:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    c.close()
    k = f"{r.status // 100}xx"
    got[k] = got.get(k, 0) + 1
print(" ".join(f"{k}={v}" for k, v in sorted(got.items())), flush=True)
"""


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    check(p.stdout.readline().strip() == "listening",
          f"{os.path.basename(cmd[0])} {cmd[1]} listening")
    return p


def client(tmp, comm, port):
    r = subprocess.run([python_as(tmp, comm), "-c", CLIENT, str(port),
                        str(N_OK), str(N_404)], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, f"{comm} finished ({r.stderr.strip()[-200:]})")
    got = dict(kv.split("=") for kv in r.stdout.split())
    return {k: int(v) for k, v in got.items()}


def phase(agent, tmp, what, port, cli_comm, srv_comm, not_comm=None):
    m0 = agent.scrape()
    want = client(tmp, cli_comm, port)
    check(want == {"2xx": N_OK, "4xx": N_404},
          f"{what}: the client got {want}")
    time.sleep(1.2)
    m1 = agent.scrape()
    got = by_class(m1, m0, SRV, comm=srv_comm, local_port=str(port))
    check(got == want, f"{what}: server side, labelled {srv_comm}, {got} "
          f"== the client's {want}")
    if not_comm:
        other = by_class(m1, m0, SRV, comm=not_comm, local_port=str(port))
        check(not other, f"{what}: nothing labelled {not_comm}, the process "
              f"that accepted but did no I/O ({other})")
    cli = by_class(m1, m0, CLI, comm=cli_comm, remote=f"127.0.0.1:{port}")
    check(cli == want, f"{what}: client side {cli} == {want}")


def main():
    require_bpf()
    enter_netns("RL_L7_OWNER_NETNS")
    busybox = shutil.which("busybox")
    check(busybox is not None, "busybox installed (scripts/install-deps.sh)")
    tmp = tempfile.mkdtemp(prefix="rl-owner-")
    procs = []
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("hello from busybox\n")
        with Agent("--probes=l7") as agent:
            check_l7_path(agent.scrape())
            procs.append(subprocess.Popen(
                [busybox, "httpd", "-f", "-p", f"127.0.0.1:{BB}", "-h",
                 os.path.join(tmp, "www")]))
            procs.append(start([python_as(tmp, "rl_forksrv"), "-c",
                                FORK_SERVER, str(FORK)]))
            procs.append(start([python_as(tmp, "rl_passer"), "-c", PASSER,
                                str(SCM), python_as(tmp, "rl_answerer"),
                                ANSWERER]))
            time.sleep(0.3)  # busybox prints nothing when it listens
            phase(agent, tmp, "busybox httpd (fork after accept)", BB,
                  "rl_bbcli", "busybox")
            phase(agent, tmp, "ForkingMixIn (fork after accept)", FORK,
                  "rl_forkcli", "rl_forkchild", not_comm="rl_forksrv")
            phase(agent, tmp, "fd over SCM_RIGHTS", SCM, "rl_scmcli",
                  "rl_answerer", not_comm="rl_passer")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
