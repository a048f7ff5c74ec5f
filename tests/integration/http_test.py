#!/usr/bin/env python3
"""HTTP/1.x request RED against servers and clients nobody here wrote, in a
network namespace the test creates (loopback only):
- nginx (static file, a 404 path, `return 500`) under wrk and curl: the
  requests nginx served, by status class, equal its access log exactly;
  curl's client-side counts, by status class and remote (IPv4 and IPv6),
  equal what curl was asked to do;
- junk bytes and a request line split across two writes to nginx after
  its first 4 bytes ("GET "): still counted (nginx answers and logs them), with
  method "unknown", and each reported in redline_http_unparsed_total; one
  split after its first 2 bytes (read alone, as Go's net/http server
  reads a keep-alive request's first byte) is counted with its method;
- nginx proxying to a Python backend that sleeps 3 ms, under wrk: p50/p99
  of redline's client-side histogram for wrk are within one bucket of
  wrk's own percentiles, and of its server-side histogram for nginx within
  one bucket of nginx's $request_time (each side against the program that
  measured the same interval: on a loaded 2-core machine the time a
  request waits before nginx reads it is seen by wrk only); nginx's
  client-side count to the backend equals the backend's server-side count;
- Python's http.server with pipelined keep-alive requests: exact counts by
  method; beyond the 128-byte peek window, still counted, method unknown;
- a TCP echo protocol carrying bytes that look like HTTP mid-message: no
  request counted, the connection given up as unclassified after its
  first messages, and pipelined HTTP on other connections stays exact;
- a server that peeks (recv MSG_PEEK) at each connection's first bytes
  before reading them: its requests counted once, exactly, both sides;
- TCP Fast Open (net.ipv4.tcp_fastopen=3 in the test's namespace, nginx
  `listen ... fastopen`, `curl --tcp-fastopen`): the request rides in the
  SYN (the kernel's TcpExt TCPFastOpenActive/Passive counters grow), and
  both sides are counted exactly;
- sendmmsg/recvmmsg on TCP (tests/helpers/mmsg_http.c, both sides): each
  message one request or response, 3 per call, read 24 bytes a message
  across messages and calls, most calls ending on EAGAIN
  (MSG_WAITFORONE): both sides exact, methods known, nothing unparsed.
With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, every assertion holds on the sys_exit path too (ctest
integration.http_test_fallback)."""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, by_class, check, check_l7_path, enter_netns,  # noqa
                    hist_quantile_slot, python_as, require_bpf, series,
                    slot, value, wrk_percentiles)

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "helpers", "http_load.py")
PORT, BACKEND, PYPORT, ECHO, PEEK = 18080, 18081, 18082, 18083, 18084
TFO, MMSG = 18085, 18086
SRV = "redline_http_server_requests_total"
CLI = "redline_http_client_requests_total"
DUR = "redline_http_server_request_duration_seconds_bucket"
CDUR = "redline_http_client_request_duration_seconds_bucket"
UNPARSED = "redline_http_unparsed_total"

NGINX_CONF = """
daemon off;
user root;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format rl '$status $request_time';
    access_log {tmp}/access.log rl;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream backend {{
        server 127.0.0.1:{backend};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        listen [::1]:{port};
        root {tmp}/www;
        location = /err {{ return 500; }}
        location = /slow {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen 127.0.0.1:{tfo} fastopen=16;
        root {tmp}/www;
    }}
}}
"""


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    check(p.stdout.readline().strip() == "listening", f"{cmd[2]} started")
    return p


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        check(False, f"{' '.join(cmd)} exited {r.returncode}: "
              f"{r.stderr.strip()[-200:]}")
    return r.stdout


def delta(m1, m0, name, **labels):
    return value(m1, name, **labels) - value(m0, name, **labels)


def access_log_classes(path, offset):
    with open(path) as f:
        f.seek(offset)
        lines = f.read().splitlines()
    out, n499, times = {}, 0, []
    for line in lines:
        code, secs = line.split()
        if code == "499":  # client closed first: no response was written
            n499 += 1
            continue
        out[code[0] + "xx"] = out.get(code[0] + "xx", 0) + 1
        times.append(float(secs))
    return out, n499, sorted(times)


def nginx_phase(agent, tmp, log):
    m0 = agent.scrape()
    url = f"http://127.0.0.1:{PORT}"
    run(["wrk", "-t2", "-c32", "-d3s", f"{url}/"])
    run(["wrk", "-t1", "-c4", "-d1s", f"{url}/missing"])
    run(["wrk", "-t1", "-c4", "-d1s", f"{url}/err"])
    for path, n in (("/", 20), ("/missing", 10), ("/err", 10)):
        for _ in range(n):
            run(["curl", "-s", "-o", "/dev/null", f"{url}{path}"])
    for _ in range(5):
        run(["curl", "-s", "-o", "/dev/null", "-g", f"http://[::1]:{PORT}/"])
    cli = python_as(tmp, "rl_junk")
    run([cli, LOAD, "junk", str(PORT)])
    run([cli, LOAD, "split", str(PORT), "2"])
    run([cli, LOAD, "split", str(PORT), "4"])
    time.sleep(1.2)
    m1 = agent.scrape()
    want, n499, _ = access_log_classes(log, 0)
    got = by_class(m1, m0, SRV, comm="nginx", local_port=str(PORT))
    check(got == want, f"nginx requests by status class {got} == access log "
          f"{want} (plus {n499} logged 499: closed before any response)")
    check(want.get("2xx", 0) > 1000 and want.get("4xx", 0) > 10
          and want.get("5xx", 0) > 10, "every status class was exercised")
    unknown = delta(m1, m0, SRV, comm="nginx", method="unknown")
    check(unknown == 2, f"junk and a request line split after 4 bytes "
          f"counted with method unknown, the one split after 2 with its "
          f"method ({unknown} == 2)")
    curl4 = by_class(m1, m0, CLI, comm="curl", remote=f"127.0.0.1:{PORT}")
    check(curl4 == {"2xx": 20, "4xx": 10, "5xx": 10},
          f"curl client requests by class {curl4}")
    curl6 = by_class(m1, m0, CLI, comm="curl", remote=f"[::1]:{PORT}")
    check(curl6 == {"2xx": 5}, f"curl IPv6 client requests {curl6}")
    wrk = by_class(m1, m0, CLI, comm="wrk", remote=f"127.0.0.1:{PORT}")
    check(0 < sum(wrk.values()) <= sum(want.values()),
          f"wrk's client-side requests seen ({wrk})")
    return os.path.getsize(log)


def latency_phase(agent, log, log_offset):
    m0 = agent.scrape()
    out = run(["wrk", "-t1", "-c8", "-d4s", "--latency",
               f"http://127.0.0.1:{PORT}/slow"])
    time.sleep(1.2)
    m1 = agent.scrape()
    wrk = wrk_percentiles(out)
    logged, n499, times = access_log_classes(log, log_offset)
    # nginx logs $request_time in whole milliseconds.
    nginx = {p: times[max(0, math.ceil(q * len(times)) - 1)] + 0.0005
             for q, p in ((0.5, "50"), (0.99, "99"))}
    for q, p in ((0.5, "50"), (0.99, "99")):
        s, total = hist_quantile_slot(m1, m0, q, CDUR, comm="wrk",
                                      method="GET", status_class="2xx")
        # wrk stamps a response after its event loop has read and parsed
        # it: on a loaded 2-core machine a preemption between its read(2)
        # and that stamp is in wrk's tail but not in the syscall-level
        # measure (CI, with the log2-ns slots of then: wrk p99 22.6 ms,
        # two slots above redline's). The median holds to one fine slot,
        # the tail to two (a factor of 2).
        tol = 1 if p == "50" else 2
        check(abs(s - slot(wrk[p])) <= tol,
              f"client p{p}: redline slot {s} (of {int(total)} requests) "
              f"within {tol} of wrk's {wrk[p] * 1e3:.3f} ms "
              f"(slot {slot(wrk[p])})")
        s, total = hist_quantile_slot(m1, m0, q, DUR, comm="nginx",
                                      method="GET", status_class="2xx")
        check(abs(s - slot(nginx[p])) <= 1,
              f"server p{p}: redline slot {s} (of {int(total)} requests) "
              f"within one of nginx's $request_time {nginx[p] * 1e3:.1f} ms "
              f"(slot {slot(nginx[p])}, {len(times)} logged)")
    proxied = delta(m1, m0, CLI, comm="nginx",
                    remote=f"127.0.0.1:{BACKEND}")
    served = delta(m1, m0, SRV, comm="rl_backend", local_port=str(BACKEND))
    # When wrk stops, nginx drops the requests in flight (logged 499) and
    # closes their upstream connections; nginx may already have read the
    # backend's answer to some (CI: 2 of them), and the backend may have
    # answered some more.
    ok2xx = logged.get("2xx", 0)
    check(ok2xx <= proxied <= ok2xx + n499,
          f"nginx -> backend: client side {proxied} == access log 2xx "
          f"{ok2xx} plus at most the {n499} requests wrk abandoned")
    check(proxied <= served <= proxied + n499,
          f"backend server side {served} == nginx client side {proxied} "
          f"plus at most the {n499} requests wrk abandoned")


def client_conserved(m1, m0, sent, queued, what):
    """Client side: a pipelining client may get several responses in one
    read, where only the first is seen; the others' requests are reported
    pending at close. Of the requests whose line was queued (those inside
    the peek window), counted plus pending equals queued, exactly."""
    cli = dict(comm="rl_pipeline", remote=f"127.0.0.1:{PYPORT}")
    known = sum(delta(m1, m0, CLI, method=m, **cli) for m in ("GET", "HEAD"))
    counted = delta(m1, m0, CLI, **cli)
    pending = delta(m1, m0, UNPARSED, kind="request_without_response")
    check(known + pending == queued and 0 < counted <= sent,
          f"{what}: client side counted {known} by method + pending at "
          f"close {pending} == {queued} queued ({counted} of {sent} sent "
          f"counted in all)")


def pipeline_phase(agent, tmp):
    cli = python_as(tmp, "rl_pipeline")
    srv = dict(comm="rl_pysrv", local_port=str(PYPORT))
    m0 = agent.scrape()
    out = run([cli, LOAD, "pipeline", str(PYPORT), "20", "3"])
    check(out.split() == ["GET=40", "HEAD=20"], f"client got {out.strip()}")
    time.sleep(1.2)
    m1 = agent.scrape()
    got = {m: delta(m1, m0, SRV, method=m, **srv)
           for m in ("GET", "HEAD", "unknown")}
    check(got == {"GET": 40, "HEAD": 20, "unknown": 0},
          f"server: 3-deep pipelines counted by method {got}")
    client_conserved(m1, m0, 60, 60, "3-deep")
    # 8 requests of 28 bytes per write: the 128-byte window holds 4.
    run([cli, LOAD, "pipeline", str(PYPORT), "5", "8"])
    time.sleep(1.2)
    m2 = agent.scrape()
    got = {m: delta(m2, m1, SRV, method=m, **srv)
           for m in ("GET", "HEAD", "unknown")}
    check(got == {"GET": 10, "HEAD": 10, "unknown": 20},
          f"server: 8-deep pipelines all counted, methods beyond the peek "
          f"window unknown {got}")
    u = delta(m2, m1, UNPARSED, kind="response_without_request")
    check(u >= 20, f"responses without a seen request line counted ({u})")
    client_conserved(m2, m1, 40, 20, "8-deep")


def non_http_phase(agent, tmp):
    cli = python_as(tmp, "rl_echo_cli")
    m0 = agent.scrape()
    echo = subprocess.Popen([cli, LOAD, "echo-client", str(ECHO), "2000"])
    out = run([python_as(tmp, "rl_pipeline2"), LOAD, "pipeline", str(PYPORT),
               "50", "2"])
    check(echo.wait(timeout=60) == 0, "echo client finished")
    time.sleep(1.2)
    m1 = agent.scrape()
    check(out.split() == ["GET=50", "HEAD=50"], f"client got {out.strip()}")
    noise = sum(v for n in (SRV, CLI) for l, v in series(m1, n).items()
                if ("local_port", str(ECHO)) in l
                or ("remote", f"127.0.0.1:{ECHO}") in l)
    check(noise == 0, "no requests counted on the echo protocol's "
          "connections (HTTP-looking bytes mid-message)")
    gave_up = delta(m1, m0, UNPARSED, kind="unclassified")
    check(gave_up >= 1, f"the echo connection given up as unclassified "
          f"after its first messages ({gave_up:.0f} on the host)")
    got = {m: delta(m1, m0, SRV, comm="rl_pysrv", method=m)
           for m in ("GET", "HEAD", "unknown")}
    check(got == {"GET": 50, "HEAD": 50, "unknown": 0},
          f"HTTP on other connections meanwhile exact {got}")


def peek_phase(agent, tmp):
    """A server that peeks (MSG_PEEK) at each connection's first bytes
    before reading them: the same bytes twice from the socket, one
    request each (one per connection: no pipelining, whose responses a
    client may read several at once, pipeline_phase)."""
    m0 = agent.scrape()
    out = run([python_as(tmp, "rl_peekcli"), LOAD, "pipeline", str(PEEK),
               "30", "1"])
    time.sleep(1.2)
    m1 = agent.scrape()
    check(out.split() == ["GET=30", "HEAD=0"], f"client got {out.strip()}")
    for name, labels in ((SRV, dict(comm="rl_peeksrv")),
                         (CLI, dict(comm="rl_peekcli"))):
        got = {m: delta(m1, m0, name, method=m, **labels)
               for m in ("GET", "HEAD", "unknown")}
        check(got == {"GET": 30, "HEAD": 0, "unknown": 0},
              f"peeked requests counted once: {name} {got}")
    for kind in ("response_without_request", "request_without_response"):
        d = delta(m1, m0, UNPARSED, kind=kind)
        check(d == 0, f"peeked bytes not taken for a second request: "
              f"{kind} +{d:.0f}")


def tcp_ext(*names):
    """This namespace's TcpExt counters (/proc/net/netstat: nstat's)."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    row = dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))
    return [row[n] for n in names]


def tfo_phase(agent, log, log_offset):
    """curl --tcp-fastopen, one request per connection: after the first
    (which gets the server's cookie) each request is sent in the SYN, data
    before the handshake ends; every one counted, both sides."""
    n = 12
    m0 = agent.scrape()
    a0, p0 = tcp_ext("TCPFastOpenActive", "TCPFastOpenPassive")
    for _ in range(n):
        run(["curl", "-s", "-o", "/dev/null", "--tcp-fastopen",
             f"http://127.0.0.1:{TFO}/"])
    a1, p1 = tcp_ext("TCPFastOpenActive", "TCPFastOpenPassive")
    time.sleep(1.2)
    m1 = agent.scrape()
    check(a1 - a0 >= n - 2 and p1 - p0 >= n - 2,
          f"TCP Fast Open used: TcpExt TCPFastOpenActive +{a1 - a0}, "
          f"TCPFastOpenPassive +{p1 - p0} of {n} connections")
    want, _, _ = access_log_classes(log, log_offset)
    got = by_class(m1, m0, SRV, comm="nginx", local_port=str(TFO))
    check(want == {"2xx": n} and got == want,
          f"TFO: nginx requests {got} == access log {want}")
    got = by_class(m1, m0, CLI, comm="curl", remote=f"127.0.0.1:{TFO}")
    check(got == {"2xx": n}, f"TFO: curl client requests {got}")


def mmsg_phase(agent):
    n = 60
    m0 = agent.scrape()
    out = run([os.environ["RL_MMSG"], str(MMSG), str(n), "3"])
    check(sorted(out.splitlines()) == [f"client 200={n}", f"server {n}"],
          f"rl_mmsg: {out.strip()!r}")
    time.sleep(1.2)
    m1 = agent.scrape()
    cli = by_class(m1, m0, CLI, comm="rl_mmsg_cli",
                   remote=f"127.0.0.1:{MMSG}")
    srv = by_class(m1, m0, SRV, comm="rl_mmsg_srv", local_port=str(MMSG))
    get = delta(m1, m0, SRV, comm="rl_mmsg_srv", method="GET")
    check(cli == {"2xx": n} and srv == {"2xx": n} and get == n,
          f"sendmmsg/recvmmsg on TCP: client {cli}, server {srv}, "
          f"{get:.0f} GET (want {n} 2xx each, all GET)")
    u = {dict(l)["kind"]: v - dict((dict(k)["kind"], w) for k, w in
                                   series(m0, UNPARSED).items()).get(
                                       dict(l)["kind"], 0)
         for l, v in series(m1, UNPARSED).items()}
    u = {k: v for k, v in u.items() if v}
    check(not u, f"nothing unparsed meanwhile {u}")


def main():
    require_bpf()
    enter_netns("RL_HTTP_NETNS")
    with open("/proc/sys/net/ipv4/tcp_fastopen", "w") as f:
        f.write("3")  # this namespace's own: client and server
    for exe in ("nginx", "wrk", "curl"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    tmp = tempfile.mkdtemp(prefix="rl-http-")
    procs = []
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("hello from nginx\n")
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=PORT, backend=BACKEND,
                                      tfo=TFO))
        log = os.path.join(tmp, "access.log")
        with Agent("--probes=l7") as agent:
            check_l7_path(agent.scrape())
            procs.append(start([python_as(tmp, "rl_backend"), LOAD, "serve",
                                str(BACKEND), "3"]))
            procs.append(start([python_as(tmp, "rl_pysrv"), LOAD, "serve",
                                str(PYPORT)]))
            procs.append(start([python_as(tmp, "rl_echo"), LOAD, "echo",
                                str(ECHO)]))
            procs.append(start([python_as(tmp, "rl_peeksrv"), LOAD,
                                "serve-peek", str(PEEK)]))
            procs.append(subprocess.Popen(["nginx", "-c", conf, "-p", tmp]))
            for _ in range(100):
                if os.path.exists(os.path.join(tmp, "nginx.pid")):
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            offset = nginx_phase(agent, tmp, log)
            latency_phase(agent, log, offset)
            pipeline_phase(agent, tmp)
            non_http_phase(agent, tmp)
            peek_phase(agent, tmp)
            tfo_phase(agent, log, os.path.getsize(log))
            mmsg_phase(agent)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
