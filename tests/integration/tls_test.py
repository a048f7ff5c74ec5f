#!/usr/bin/env python3
"""TLS request RED through uprobes on OpenSSL (bpf/tls.bpf.c), against
programs nobody here wrote, in a network namespace the test creates:
- a Python process holding the system libssl (its `ssl` module) runs
  before the agent starts: that file is probed at start, and curl and wrk,
  new processes mapping it, are counted from their first request;
- nginx with `ssl` (a certificate made here by `openssl req`) starts after
  the agent on a copy of libssl (another inode, through LD_LIBRARY_PATH):
  found through its exec and probed (redline_tls_library_files >= 2; every
  nginx count below goes through that copy);
- curl over HTTPS (a new process, OpenSSL): nginx's server-side counts
  (tls="true") by status class equal its access log for the TLS port
  exactly, and curl's client-side counts equal what it was asked to do;
- wrk over HTTPS (keep-alive, OpenSSL): server side exact against the
  access log; wrk's client side equal to it but for the responses in
  flight on its 4 connections when it stops;
- plaintext HTTP to the same nginx alongside: exact, tls="false";
- Python's ssl server and client (SSL_read_ex/SSL_write_ex, the
  interpreter's own libssl, here the system one): server and client
  counts by status class exact; wrk over TLS to its /slow (3 ms): p50 and
  p99 of wrk's own report within one fine slot (p99: two, a factor of 2,
  as http_test says why) of redline's client-side histogram for wrk;
- a Python client in a mount namespace of its own (unshare -m), where a
  copy of libssl is bind-mounted over the system one's path, as a
  container image's own libssl: the same path, another inode, found
  through /proc/PID/root and probed (one more file), its requests exact;
- GnuTLS (gnutls_record_recv/_send, libgnutls found through the exec of
  a server started after the agent): gnutls-serv --http answers one
  HTTP/1.0 request per connection and logs each connection it accepts;
  N gnutls-cli clients, one GET each: server side == the connections in
  its log == N, client side (comm gnutls-cli) == N, all 2xx;
- no ciphertext classified: no connection given up as unclassified, no
  response without its request, no request with method "unknown" on the
  TLS port, no plaintext whose SSL* was never tied to its socket.
With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same holds on the sys_exit path (tls_test_fallback)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, by_class, check, check_l7_path, enter_netns,  # noqa
                    hist_quantile_slot, python_as, require_bpf, slot, value,
                    wrk_percentiles)

TLS_PORT, PLAIN_PORT, PY_PORT, GNUTLS_PORT = 18443, 18080, 18444, 18445
GNUTLS_CLIENTS = 12
PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                  "helpers", "tls_py.py")
SRV = "redline_http_server_requests_total"
CLI = "redline_http_client_requests_total"
UNPARSED = "redline_http_unparsed_total"
CDUR = "redline_http_client_request_duration_seconds_bucket"

NGINX_CONF = """
daemon off;
user root;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format rl '$server_port $status';
    access_log {tmp}/access.log rl;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{tls} ssl;
        listen 127.0.0.1:{plain};
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        root {tmp}/www;
        location = /err {{ return 500; }}
    }}
}}
"""


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        check(False, f"{' '.join(cmd)} exited {r.returncode}: "
              f"{r.stderr.strip()[-300:]}")
    return r.stdout


def delta(m1, m0, name, **labels):
    return value(m1, name, **labels) - value(m0, name, **labels)


def access_log(path, offset, port):
    """Responses nginx logged on port since offset, by status class."""
    out = {}
    with open(path) as f:
        f.seek(offset)
        for line in f.read().splitlines():
            p, code = line.split()
            if p == str(port) and code != "499":
                out[code[0] + "xx"] = out.get(code[0] + "xx", 0) + 1
    return out


def settled(agent, name, want, **labels):
    """Scrapes until the count of name reaches want (the agent reads the
    kernel maps once per refresh) or 10 s pass; returns the scrape."""
    deadline = time.time() + 10
    while True:
        m = agent.scrape()
        if value(m, name, **labels) >= want or time.time() > deadline:
            return m
        time.sleep(0.2)


def curl(urls):
    """One curl, one keep-alive connection per scheme, each URL once."""
    outs = [a for u in urls for a in ("-o", "/dev/null", u)]
    return run(["curl", "-s", "-k", "--http1.1", "-w", "%{http_code}\\n",
                *outs]).split()


def python_phase(agent, tmp):
    srv = subprocess.Popen([python_as(tmp, "rl_pytls_srv"), PY, "serve",
                            str(PY_PORT), os.path.join(tmp, "cert.pem"),
                            os.path.join(tmp, "key.pem"),
                            os.path.join(tmp, "www")],
                           stdout=subprocess.PIPE, text=True)
    try:
        check(srv.stdout.readline().strip() == "listening",
              "Python ssl server started")
        m0 = agent.scrape()
        got = run([python_as(tmp, "rl_pytls_cli"), PY, "get", str(PY_PORT),
                   "9", "4"]).split()
        check(got == ["200"] * 9 + ["404"] * 4, f"Python client got {got}")
        want = {"2xx": 9, "4xx": 4}
        m1 = settled(agent, CLI, value(m0, CLI, comm="rl_pytls_cli") + 13,
                     comm="rl_pytls_cli")
        m1 = settled(agent, SRV, value(m0, SRV, comm="rl_pytls_srv") + 13,
                     comm="rl_pytls_srv")
        got = by_class(m1, m0, SRV, comm="rl_pytls_srv", tls="true",
                       local_port=str(PY_PORT))
        check(got == want, f"Python ssl server side {got} == {want}")
        got = by_class(m1, m0, CLI, comm="rl_pytls_cli", tls="true",
                       remote=f"127.0.0.1:{PY_PORT}")
        check(got == want, f"Python ssl client side {got} == {want}")
        namespace_client(agent, tmp)
        latency(agent)
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def latency(agent):
    """wrk's percentiles over TLS against the client side redline measured
    for it: SSL_write's entry to the SSL_read that returned the response."""
    m0 = agent.scrape()
    out = run(["wrk", "-t1", "-c4", "-d3s", "--latency",
               f"https://127.0.0.1:{PY_PORT}/slow"])
    time.sleep(1.2)
    m1 = agent.scrape()
    wrk = wrk_percentiles(out)
    for q, p in ((0.5, "50"), (0.99, "99")):
        s, total = hist_quantile_slot(m1, m0, q, CDUR, comm="wrk", tls="true",
                                      remote=f"127.0.0.1:{PY_PORT}",
                                      status_class="2xx")
        tol = 1 if p == "50" else 2
        check(total > 100 and abs(s - slot(wrk[p])) <= tol,
              f"wrk over TLS p{p}: redline slot {s} (of {int(total)} "
              f"requests) within {tol} of wrk's {wrk[p] * 1e3:.3f} ms "
              f"(slot {slot(wrk[p])})")


def namespace_client(agent, tmp):
    """A client whose libssl, at the usual path in its mount namespace, is
    another file (a container image's own)."""
    import ssl  # noqa: F401  (the interpreter's libssl, mapped now)
    with open("/proc/self/maps") as f:
        system = [line.split()[-1] for line in f if "libssl.so" in line][0]
    copy = os.path.join(tmp, "nslib", os.path.basename(system))
    os.makedirs(os.path.dirname(copy))
    shutil.copy(system, copy)
    m0 = agent.scrape()
    files = value(m0, "redline_tls_library_files", library="openssl")
    cli = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f'mount --bind {copy} {system} && exec "$0" "$@"',
         python_as(tmp, "rl_pytls_ns"), PY, "get", str(PY_PORT), "5", "2",
         "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        check(cli.stdout.readline().strip() == "ready",
              "client started in its own mount namespace")
        with open(f"/proc/{cli.pid}/maps") as f:
            inodes = {int(line.split()[4]) for line in f
                      if line.split()[-1] == system}
        check(inodes == {os.stat(copy).st_ino}, f"it maps the copy at "
              f"{system} (inode {inodes}, host's {os.stat(system).st_ino})")
        m = settled(agent, "redline_tls_library_files", files + 1,
                    library="openssl")
        got = value(m, "redline_tls_library_files", library="openssl")
        check(got == files + 1, f"its libssl probed as one more file "
              f"({files:.0f} -> {got:.0f})")
        cli.stdin.write("go\n")
        cli.stdin.flush()
        out = cli.stdout.readline().split()
        check(cli.wait(timeout=30) == 0 and
              out == ["200"] * 5 + ["404"] * 2, f"namespace client got {out}")
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    want = {"2xx": 5, "4xx": 2}
    m1 = settled(agent, CLI, value(m0, CLI, comm="rl_pytls_ns") + 7,
                 comm="rl_pytls_ns")
    got = by_class(m1, m0, CLI, comm="rl_pytls_ns", tls="true",
                   remote=f"127.0.0.1:{PY_PORT}")
    check(got == want, f"namespace client side {got} == {want}")


def gnutls_phase(agent, tmp):
    """gnutls-serv (HTTP mode: HTTP/1.0, one response, then it closes) and
    one gnutls-cli per request: both sides through libgnutls."""
    log = os.path.join(tmp, "gnutls-serv.log")
    with open(log, "w") as out:
        srv = subprocess.Popen(
            ["gnutls-serv", "--http", "--port", str(GNUTLS_PORT),
             "--x509certfile", os.path.join(tmp, "cert.pem"),
             "--x509keyfile", os.path.join(tmp, "key.pem")],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            with open(log) as f:
                if "listening on IPv4" in f.read():
                    break
            time.sleep(0.05)
        m = settled(agent, "redline_tls_library_files", 1, library="gnutls")
        files = value(m, "redline_tls_library_files", library="gnutls")
        check(files >= 1, f"libgnutls found through gnutls-serv's exec: "
              f"{files:.0f} files")
        m0 = agent.scrape()
        for i in range(GNUTLS_CLIENTS):
            r = subprocess.run(
                ["gnutls-cli", "--insecure", "--port", str(GNUTLS_PORT),
                 "127.0.0.1"], input=f"GET /{i} HTTP/1.0\r\n\r\n",
                capture_output=True, text=True, timeout=30)
            check(r.returncode == 0 and "HTTP/1.0 200 OK" in r.stdout,
                  f"gnutls-cli request {i} answered 200 (exit "
                  f"{r.returncode}: {r.stderr.strip()[-200:]})")
        with open(log) as f:
            accepted = f.read().count("* Accepted connection from")
        check(accepted == GNUTLS_CLIENTS,
              f"gnutls-serv logged {accepted} connections")
        want = {"2xx": GNUTLS_CLIENTS}
        m1 = settled(agent, SRV, value(m0, SRV, comm="gnutls-serv") +
                     GNUTLS_CLIENTS, comm="gnutls-serv")
        m1 = settled(agent, CLI, value(m0, CLI, comm="gnutls-cli") +
                     GNUTLS_CLIENTS, comm="gnutls-cli")
        got = by_class(m1, m0, SRV, comm="gnutls-serv", tls="true",
                       local_port=str(GNUTLS_PORT))
        check(got == {"2xx": accepted}, f"gnutls-serv server side {got} == "
              f"its log's {accepted} connections, one request each")
        got = by_class(m1, m0, CLI, comm="gnutls-cli", tls="true",
                       remote=f"127.0.0.1:{GNUTLS_PORT}")
        check(got == want, f"gnutls-cli client side {got} == {want}")
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def main():
    require_bpf()
    enter_netns("RL_TLS_NETNS")
    for exe in ("nginx", "wrk", "curl", "openssl", "gnutls-serv",
                "gnutls-cli"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    tmp = tempfile.mkdtemp(prefix="rl-tls-")
    nginx = None
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("hello over tls\n")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", os.path.join(tmp, "key.pem"), "-out",
             os.path.join(tmp, "cert.pem"), "-days", "1", "-subj",
             "/CN=localhost"])
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, tls=TLS_PORT, plain=PLAIN_PORT))
        log = os.path.join(tmp, "access.log")
        # The system libssl, mapped by a process older than the agent.
        holder = subprocess.Popen(
            [sys.executable, "-c", "import ssl, sys; print('ready', "
             "flush=True); sys.stdin.read()"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        check(holder.stdout.readline().strip() == "ready",
              "a process maps the system libssl before the agent starts")
        libdir = os.path.join(tmp, "lib")
        os.makedirs(libdir)
        system_ssl = run(["sh", "-c", "ldd $(command -v nginx) | "
                          "awk '/libssl/ {print $3}'"]).strip()
        shutil.copy(system_ssl, libdir)
        with Agent("--probes=l7", "--tls", "--tls-late-attach") as agent:
            check_l7_path(agent.scrape())
            nginx = subprocess.Popen(["nginx", "-c", conf, "-p", tmp],
                                     env=dict(os.environ,
                                              LD_LIBRARY_PATH=libdir))
            for _ in range(100):
                if os.path.exists(os.path.join(tmp, "nginx.pid")):
                    break
                time.sleep(0.05)
            with open(f"/proc/{nginx.pid}/maps") as f:
                check(os.path.join(libdir, "libssl.so.3") in f.read(),
                      "nginx maps the copy of libssl")
            m = settled(agent, "redline_tls_library_files", 2,
                        library="openssl")
            files = value(m, "redline_tls_library_files", library="openssl")
            check(files >= 2, f"the system libssl and nginx's copy (started "
                  f"after the agent) probed: {files:.0f} files")
            time.sleep(0.5)
            m0 = agent.scrape()
            offset = os.path.getsize(log) if os.path.exists(log) else 0
            tls = f"https://127.0.0.1:{TLS_PORT}"
            plain = f"http://127.0.0.1:{PLAIN_PORT}"
            want_tls = {"2xx": 30, "4xx": 7, "5xx": 4}
            urls = ([f"{tls}/index.html"] * 30 + [f"{tls}/missing"] * 7 +
                    [f"{tls}/err"] * 4)
            codes = curl(urls)
            check(len(codes) == 41 and codes.count("200") == 30,
                  f"curl over TLS answered {len(codes)} requests")
            plain_codes = curl([f"{plain}/index.html"] * 12 +
                               [f"{plain}/missing"] * 3)
            check(len(plain_codes) == 15, "curl in plaintext answered 15")
            wrk = run(["wrk", "-t1", "-c4", "-d2s", f"{tls}/index.html"])
            check("requests in" in wrk, "wrk over TLS ran")
            time.sleep(0.5)
            want_srv = access_log(log, offset, TLS_PORT)
            m1 = settled(agent, SRV, value(m0, SRV, comm="nginx", tls="true")
                         + sum(want_srv.values()), comm="nginx", tls="true")
            got = by_class(m1, m0, SRV, comm="nginx", tls="true",
                           local_port=str(TLS_PORT))
            check(got == want_srv, f"nginx TLS server side by class {got} == "
                  f"access log {want_srv}")
            # When wrk stops, responses in flight on its 4 connections may
            # be written by nginx and never read.
            srv = sum(want_srv.values()) - 41
            cli = delta(m1, m0, CLI, comm="wrk", tls="true", status_class="2xx")
            check(srv - 4 <= cli <= srv, f"wrk TLS client side {cli:.0f} "
                  f"within 4 below nginx's {srv}")
            got = by_class(m1, m0, CLI, comm="curl", tls="true",
                           remote=f"127.0.0.1:{TLS_PORT}")
            check(got == want_tls, f"curl TLS client side {got} == {want_tls}")
            got = by_class(m1, m0, SRV, comm="nginx", tls="false",
                           local_port=str(PLAIN_PORT))
            want = access_log(log, offset, PLAIN_PORT)
            check(got == want == {"2xx": 12, "4xx": 3},
                  f"plaintext alongside: server side {got} == access log "
                  f"{want}")
            got = by_class(m1, m0, CLI, comm="curl", tls="false",
                           remote=f"127.0.0.1:{PLAIN_PORT}")
            check(got == {"2xx": 12, "4xx": 3},
                  f"plaintext alongside: curl client side {got}")
            got = by_class(m1, m0, SRV, tls="true", local_port=str(PLAIN_PORT))
            check(got == {}, f"no plaintext request labelled tls {got}")
            python_phase(agent, tmp)
            gnutls_phase(agent, tmp)
            m1 = agent.scrape()
            for kind in ("unclassified", "response_without_request",
                         "tls_unmapped", "tls_stale"):
                d = delta(m1, m0, UNPARSED, kind=kind)
                check(d == 0, f"no ciphertext parsed: unparsed {kind} "
                      f"+{d:.0f}")
            unknown = delta(m1, m0, SRV, comm="nginx", method="unknown")
            check(unknown == 0, f"every nginx response found its request: "
                  f"method unknown +{unknown:.0f}")
        holder.stdin.close()
        holder.wait(timeout=10)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
