#!/usr/bin/env python3
"""HTTP/2 and gRPC request RED against servers and clients nobody here
wrote, in a network namespace the test creates (loopback only), each
side's counts equal to what the programs themselves say they did:
- nginx (Debian's 1.22, `sendfile on` as Debian's nginx.conf has it) with
  an h2c listener (prior knowledge) and an `ssl http2` one (a certificate
  made here by `openssl req`), a static file (200), a missing one (404)
  and `return 503`; its access log ($server_port $status
  $server_protocol $request_method) is the oracle of the server side;
- h2load (nghttp2-client), 600 requests on 4 connections, 16 concurrent
  streams each, over h2c to a mix of the three: nginx's server-side
  counts (comm nginx, local_port) by status class and by method equal the
  access log exactly; h2load's client-side counts equal its own "status
  codes" line and the log; the duration histograms count every request;
  the server-side mean latency is at most the client side's, and the
  client side's mean within a factor of 3 of h2load's "time for request";
- curl --http2-prior-knowledge (h2c) and curl --http2 -k (TLS, ALPN h2),
  5 requests each (GET and POST, the three outcomes), and h2load over TLS,
  with an agent started with --tls after nginx (the system libssl nginx
  maps is probed at start; curl and h2load map the same file): exact on
  both sides, tls="false" and tls="true";
- slow readers over TLS (issue 22): 2 curl --http2 -k --limit-rate 1M at
  once, and one curl --http1.1 alike, against a listener with a 16 KiB
  send buffer, each on one connection two 1 MiB files, then 3 small
  requests: nginx's debug log shows SSL_write returning WANT_WRITE
  (retried later with the same bytes); both sides exact against the
  access log and curl's -w, HTTP/1.1 too, and no connection given up
  (h2_desynced);
- a gRPC server and client (Debian's python3-grpcio, generic handlers,
  no protoc; tests/helpers/grpc_echo.py), comm rl_grpc_srv and
  rl_grpc_cli: 30 unary calls of which 5 end NOT_FOUND and 3 UNAVAILABLE,
  and 2 server-streaming calls of 10 messages ending OK: the server side
  by (method, grpc_status) equals the tally the server prints at exit,
  the client side the tally of the codes the client received; no gRPC
  request in the http2 families;
- an h2c upgrade (h2c_upgrade.py): curl --http2 on http:// through
  nghttpx (which accepts the upgrade) to nghttpd, the upgraded request
  (stream 1) and those after it exact on both sides and on the backend
  hop, against curl's -w and nghttpx's access log; no HTTP/1 request
  counted, nothing given up;
- privacy: no label value holds a path (but the gRPC method name), a
  query string, a header value, a gRPC message or payload;
- SLOs (h2_slo_top.py): with an SLO file of http2 and grpc SLIs, the
  plaintext agent's redline_slo_events_total (good, bad) equal nginx's
  access log (bad: 5xx), the gRPC server's tally (bad: its server-side
  failure codes), the client's (outcomes: [NOT_FOUND]), and every request
  is good for 5 s latency SLIs when the client ran under 5 s;
- `redline top --connect -b --json`, running across those two phases:
  the rows nginx, h2load, rl_grpc_srv and rl_grpc_cli hold exactly the
  requests and errors of the same oracles;
- nothing lost: redline_http_unparsed_total{kind="h2_desynced"} and
  {kind="h2_events_lost"} stay 0, and so do h2_response_without_request,
  h2_request_without_response and h2_connections_evicted;
- a full ring buffer (h2_loss.py): an agent stopped through 3000 requests
  with a 64 KiB buffer counts the events lost, miscounts nothing, and
  counts new connections exactly once continued.
RL_H2_ORACLE_ONLY=1 runs every server, client and oracle (and prints what
each counted) without an agent: the oracles checked on their own.
With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same holds on the sys_exit path (h2_test_fallback)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import h2_loss  # noqa
import h2_slo_top  # noqa
import h2c_upgrade  # noqa
from h2_names import (FAMILIES, G_CDUR, G_CLI, G_SDUR, G_SRV, H1_CLI,  # noqa
                      H1_SRV, H2_CDUR, H2_CLI, H2_SDUR, H2_SRV, LOST,
                      UNPARSED)
from rltest import (Agent, check, check_l7_path, enter_netns,  # noqa
                    require_bpf, series, value, wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
GRPC_ECHO = os.path.join(HERE, "..", "helpers", "grpc_echo.py")
# python3-grpcio is Debian's: its interpreter, whatever runs this test.
DEBIAN_PY = "/usr/bin/python3"
ORACLE_ONLY = os.environ.get("RL_H2_ORACLE_ONLY") == "1"

H2C, H2S, GRPC, H2SLOW = 18090, 18091, 18092, 18093

# Strings the programs send that no label may hold.
SECRET_HEADER = "rl-header-secret-3f9a"  # grpc_echo.SECRET's value too
SECRET_QUERY = "rlq=query-secret-77c1"
PATHS = ("/rl-ok.html", "/rl-nope", "/rl-busy", "/rl-big.bin")
PRIVATE = (SECRET_HEADER, SECRET_QUERY, "rl-ok", "rl-nope", "rl-busy",
           "rl-big",
           "as asked", "hello", "message 1")
GRPC_METHODS = ("redline.test.Echo/Say", "redline.test.Echo/Stream")

# h2load cycles through its URIs on each connection: 600 requests on 4
# connections are 150 each, 25 rounds of these 6: 400 200s, 100 404s,
# 100 503s.
H2LOAD_URIS = [f"/rl-ok.html?{SECRET_QUERY}"] * 4 + ["/rl-nope", "/rl-busy"]
H2LOAD_WANT = {"2xx": 400, "4xx": 100, "5xx": 100}
# curl, one process per request: (method, path, status class).
CURLS = [("GET", "/rl-ok.html", "2xx")] * 3 + [("GET", "/rl-nope", "4xx"),
                                               ("POST", "/rl-busy", "5xx")]
# gRPC: unary calls, of them NOT_FOUND, UNAVAILABLE; streams, messages.
GRPC_N, GRPC_NOT_FOUND, GRPC_UNAVAILABLE = 30, 5, 3
GRPC_STREAMS, GRPC_MESSAGES = 2, 10
# Slow readers over TLS: SLOW_CLIENTS curl processes at once over HTTP/2
# and one over HTTP/1.1, each one connection reading at SLOW_RATE, each
# these requests in turn: two files of SLOW_BIG bytes, during which
# nginx's writes back up, then three more on the same connection.
SLOW_CLIENTS, SLOW_RATE, SLOW_BIG = 2, "1M", 1 << 20
SLOW_PATHS = ["/rl-big.bin"] * 2 + ["/rl-ok.html"] * 2 + ["/rl-nope"]
SLOW_WANT = {"2xx": 4 * SLOW_CLIENTS, "4xx": SLOW_CLIENTS}
SLOW_WANT_H1 = {"2xx": 4, "4xx": 1}

NGINX_CONF = """
daemon off;
user root;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format rl '$server_port $status $server_protocol $request_method';
    access_log {tmp}/access.log rl;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    server {{
        listen 127.0.0.1:{h2c} http2;
        listen 127.0.0.1:{h2s} ssl http2;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        root {tmp}/www;
        location = /rl-busy {{ return 503; }}
    }}
    # Back-pressure: a send buffer of 16 KiB (doubled by the kernel) makes
    # SSL_write hit WANT_WRITE as soon as a slow reader falls behind; its
    # debug log counts them ("SSL_get_error: 3").
    server {{
        listen 127.0.0.1:{h2slow} ssl http2 sndbuf=16k;
        error_log {tmp}/slow.log debug;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        root {tmp}/www;
    }}
}}
"""


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       **kw)
    if r.returncode != 0:
        check(False, f"{' '.join(cmd)} exited {r.returncode}: "
              f"{r.stderr.strip()[-300:]}")
    return r.stdout


def debian_python_as(tmp, name):
    """Debian's Python under another name in tmp, so its comm is `name`."""
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        os.symlink(os.path.realpath(DEBIAN_PY), path)
    return path


# --- oracles -------------------------------------------------------------

def access_log(path, offset, port, version="HTTP/2.0"):
    """Requests nginx logged as version on port since offset: by status
    class, by method, and the number logged otherwise."""
    by_class, by_method, other = {}, {}, 0
    with open(path) as f:
        f.seek(offset)
        for line in f.read().splitlines():
            p, code, proto, method = line.split()
            if p != str(port):
                continue
            if proto != version or code == "499":
                other += 1
                continue
            c = code[0] + "xx"
            by_class[c] = by_class.get(c, 0) + 1
            by_method[method] = by_method.get(method, 0) + 1
    return by_class, by_method, other


def log_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def h2load(args, urls):
    """Runs h2load; returns its protocol, status classes (its "status
    codes" line), requests done and the mean of its "time for request"."""
    out = run(["h2load", *args, "-H", f"x-rl-secret: {SECRET_HEADER}",
               *urls])
    proto = re.search(r"^Application protocol: (\S+)", out, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, "
                      r"(\d+) 5xx", out, re.M)
    done = re.search(r"^requests: \d+ total, \d+ started, (\d+) done", out,
                     re.M)
    mean = re.search(r"^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s",
                     out, re.M)
    ok = bool(proto and codes and done and mean)
    check(ok, "h2load output parsed" + ("" if ok else
                                        f": {out.strip()[-400:]!r}"))
    classes = {f"{i + 2}xx": int(n) for i, n in enumerate(codes.groups())
               if int(n)}
    return (proto.group(1), classes, int(done.group(1)),
            float(mean.group(1)) * UNIT[mean.group(2)])


def curl(base, flags, method, path):
    """One curl process, one request: (status code, HTTP version). A POST
    has no body: nginx answers `return 503` without reading one, resets
    the stream after its response, and curl 7.88 then fails with exit 92
    about half the time (the response HEADERS on the wire all the same)."""
    extra = ["-X", "POST"] if method == "POST" else []
    out = run(["curl", "-s", *flags, *extra, "-o", "/dev/null",
               "-H", f"x-rl-secret: {SECRET_HEADER}",
               "-w", "%{http_code} %{http_version}", f"{base}{path}"])
    code, version = out.split()
    return code, version


# --- the agent's side ----------------------------------------------------

def sum_by(m1, m0, name, key, **labels):
    """Deltas of family name from m0 to m1 over the series matching
    labels, summed by the value of label key (a tuple of keys: by the
    tuple of values); zero deltas left out."""
    keys = key if isinstance(key, tuple) else (key,)
    out = {}
    for l, v in series(m1, name, **labels).items():
        d = dict(l)
        k = tuple(d.get(x, "") for x in keys)
        k = k if isinstance(key, tuple) else k[0]
        out[k] = out.get(k, 0) + v - m0.get((name, l), 0)
    return {k: int(round(v)) for k, v in out.items() if round(v)}


def delta(m1, m0, name, **labels):
    return value(m1, name, **labels) - value(m0, name, **labels)


def settled(agent, m0, wants):
    """Scrapes until every (name, labels, n) in wants has grown by n since
    m0 (the agent publishes once per refresh) or 10 s pass; then once
    more a refresh later, so that counts beyond n show too."""
    deadline = time.time() + 10
    while True:
        m = agent.scrape()
        if all(delta(m, m0, n, **l) >= want for n, l, want in wants) \
                or time.time() > deadline:
            break
        time.sleep(0.2)
    time.sleep(1.2)
    return agent.scrape()


def hist(m1, m0, name, **labels):
    """(count, mean) of a histogram family's deltas over matching series."""
    n = delta(m1, m0, name + "_count", **labels)
    s = delta(m1, m0, name + "_sum", **labels)
    return int(round(n)), (s / n if n else float("nan"))


def check_nothing_lost(m, what):
    for name, labels in ((UNPARSED, {"kind": "h2_desynced"}),
                         (UNPARSED, {"kind": LOST}),
                         (UNPARSED, {"kind": "h2_response_without_request"}),
                         (UNPARSED, {"kind": "h2_request_without_response"}),
                         (UNPARSED, {"kind": "h2_connections_evicted"})):
        s = series(m, name, **labels)
        check(s, f"{what}: {name}{labels or ''} exported")
        check(sum(s.values()) == 0, f"{what}: {name}{labels or ''} == "
              f"{sum(s.values()):.0f} (nothing lost on an idle loopback)")


def check_private(m, what):
    """No label value of any family holds a path, query, header value or
    payload; in the http2 and grpc families a '/' only in a gRPC method."""
    bad = sorted({v for (n, l) in m for k, v in l
                  if any(p in v for p in PRIVATE)})
    check(not bad, f"{what}: no label holds a path, query string, header "
          f"value or payload {bad}")
    slashed = sorted({f"{n}{{{k}={v!r}}}" for (n, l) in m
                      if n.startswith(FAMILIES) for k, v in l
                      if "/" in v and not (n.startswith("redline_grpc_")
                                           and k == "method"
                                           and v in GRPC_METHODS)})
    check(not slashed, f"{what}: no '/' in any http2 or grpc label but the "
          f"gRPC method name {slashed}")


def check_histograms(m1, m0, what, fam, want_n, **labels):
    n, mean = hist(m1, m0, fam, **labels)
    check(n == want_n, f"{what}: {fam}_count +{n} == {want_n} requests "
          f"(mean {mean * 1e3:.3f} ms)")
    return mean


# --- phases --------------------------------------------------------------

def h2load_phase(agent, log):
    """Returns the scrapes around it, the access log's status classes and
    h2load's wall time (None without an agent)."""
    m0 = agent.scrape() if agent else None
    off = log_size(log)
    base = f"http://127.0.0.1:{H2C}"
    t0 = time.monotonic()
    proto, codes, done, h2mean = h2load(
        ["-n", "600", "-c", "4", "-m", "16"],
        [base + u for u in H2LOAD_URIS])
    wall = time.monotonic() - t0
    time.sleep(0.3)  # nginx writes its log line after the response
    classes, methods, other = access_log(log, off, H2C)
    print(f"oracle: h2load h2c protocol {proto}, {done} done, status "
          f"classes {codes}, time for request mean {h2mean * 1e3:.3f} ms; "
          f"nginx access log {classes} by method {methods}")
    check(proto == "h2c" and done == 600, f"h2load spoke {proto}, {done} of "
          f"600 requests done")
    check(classes == codes == H2LOAD_WANT and methods == {"GET": 600}
          and other == 0, f"oracles agree: access log {classes} == h2load's "
          f"{codes} == {H2LOAD_WANT}, all GET over HTTP/2.0 ({other} other)")
    if agent is None:
        return
    srv = dict(comm="nginx", local_port=str(H2C))
    cli = dict(comm="h2load", remote=f"127.0.0.1:{H2C}")
    m1 = settled(agent, m0, [(H2_SRV, srv, 600), (H2_CLI, cli, 600)])
    got = sum_by(m1, m0, H2_SRV, "status_class", **srv)
    check(got == classes, f"h2load: nginx server side by status class {got} "
          f"== access log {classes}")
    got = sum_by(m1, m0, H2_SRV, "method", **srv)
    check(got == methods, f"h2load: nginx server side by method {got} == "
          f"access log {methods}")
    got = sum_by(m1, m0, H2_SRV, "tls", **srv)
    check(got == {"false": 600}, f"h2load: server side tls label {got}")
    got = sum_by(m1, m0, H2_CLI, "status_class", **cli)
    check(got == codes, f"h2load: client side by status class {got} == "
          f"h2load's own {codes}")
    got = sum_by(m1, m0, H2_CLI, "method", **cli)
    check(got == methods, f"h2load: client side by method {got} == "
          f"{methods}")
    got = sum_by(m1, m0, H2_CLI, "tls", **cli)
    check(got == {"false": 600}, f"h2load: client side tls label {got}")
    smean = check_histograms(m1, m0, "h2load server", H2_SDUR, 600, **srv)
    cmean = check_histograms(m1, m0, "h2load client", H2_CDUR, 600, **cli)
    check(smean <= cmean, f"h2load: server-side mean {smean * 1e3:.3f} ms "
          f"<= client-side mean {cmean * 1e3:.3f} ms")
    check(h2mean / 3 <= cmean <= h2mean * 3, f"h2load: client-side mean "
          f"{cmean * 1e3:.3f} ms within a factor of 3 of h2load's time for "
          f"request mean {h2mean * 1e3:.3f} ms")
    got = sum_by(m1, m0, G_SRV, "comm") | sum_by(m1, m0, G_CLI, "comm")
    check(not {"nginx", "h2load"} & set(got),
          f"h2load: no HTTP/2 request counted as gRPC {got}")
    # Each request's HEADERS and its response's, at both ends, at least;
    # one record per read or write, of several frames whenever nginx
    # writes a response's HEADERS and DATA together or reads several
    # streams' requests at once (16 at a time here).
    frames = delta(m1, m0, "redline_h2_frames_total")
    records = delta(m1, m0, "redline_h2_ring_records_total")
    check(frames >= 4 * 600 and 0 < records < frames,
          f"h2load: {frames:.0f} frames forwarded (>= 2400) in "
          f"{records:.0f} ring buffer records (fewer)")
    return m0, m1, classes, wall


def grpc_phase(agent, tmp):
    srv = subprocess.Popen([debian_python_as(tmp, "rl_grpc_srv"), GRPC_ECHO,
                            "serve", str(GRPC)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    try:
        check(srv.stdout.readline().strip() == "listening",
              "gRPC server (rl_grpc_srv) started")
        m0 = agent.scrape() if agent else None
        t0 = time.monotonic()
        out = run([debian_python_as(tmp, "rl_grpc_cli"), GRPC_ECHO, "call",
                   str(GRPC), str(GRPC_N), str(GRPC_NOT_FOUND),
                   str(GRPC_UNAVAILABLE), str(GRPC_STREAMS),
                   str(GRPC_MESSAGES)])
        wall = time.monotonic() - t0
        srv.stdin.close()
        server_tally = json.loads(srv.stdout.readline())
        check(srv.wait(timeout=20) == 0, "gRPC server stopped")
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait(timeout=10)
    client_tally = json.loads(out)
    messages = client_tally.pop("messages")

    def split(tally):
        out = {}
        for k, n in tally.items():
            method, code = k.split()
            out[(method, code)] = n
        return out
    server_tally, client_tally = split(server_tally), split(client_tally)
    plan = {("redline.test.Echo/Say", "OK"):
            GRPC_N - GRPC_NOT_FOUND - GRPC_UNAVAILABLE,
            ("redline.test.Echo/Say", "NOT_FOUND"): GRPC_NOT_FOUND,
            ("redline.test.Echo/Say", "UNAVAILABLE"): GRPC_UNAVAILABLE,
            ("redline.test.Echo/Stream", "OK"): GRPC_STREAMS}
    print(f"oracle: gRPC server's tally {server_tally}; client's tally "
          f"{client_tally}, {messages} streamed messages read")
    check(server_tally == client_tally == plan and
          messages == GRPC_STREAMS * GRPC_MESSAGES,
          f"oracles agree: server's tally == client's == the plan, "
          f"{messages} messages streamed")
    if agent is None:
        return
    total = sum(plan.values())
    srv_l = dict(comm="rl_grpc_srv", local_port=str(GRPC))
    cli_l = dict(comm="rl_grpc_cli", remote=f"127.0.0.1:{GRPC}")
    m1 = settled(agent, m0, [(G_SRV, srv_l, total), (G_CLI, cli_l, total)])
    got = sum_by(m1, m0, G_SRV, ("method", "grpc_status"), **srv_l)
    check(got == server_tally, f"gRPC server side by (method, grpc_status) "
          f"{got} == the server's tally")
    got = sum_by(m1, m0, G_CLI, ("method", "grpc_status"), **cli_l)
    check(got == client_tally, f"gRPC client side by (method, grpc_status) "
          f"{got} == the client's tally")
    for fam, l in ((G_SRV, srv_l), (G_CLI, cli_l)):
        got = sum_by(m1, m0, fam, "tls", **l)
        check(got == {"false": total}, f"gRPC {fam} tls label {got}")
    check_histograms(m1, m0, "gRPC server", G_SDUR, total, **srv_l)
    check_histograms(m1, m0, "gRPC client", G_CDUR, total, **cli_l)
    leaked = {dict(l)["comm"]: v
              for fam in (H2_SRV, H2_CLI, H2_SDUR + "_count",
                          H2_CDUR + "_count")
              for l, v in series(m1, fam).items()
              if dict(l).get("comm", "").startswith("rl_grpc_")}
    check(not leaked, f"gRPC requests absent from the http2 families "
          f"{leaked}")
    return m0, m1, server_tally, client_tally, wall


def curl_phase(agent, log):
    m0 = agent.scrape() if agent else None
    off = log_size(log)
    got = {}
    for port, scheme, flags in ((H2C, "http", ["--http2-prior-knowledge"]),
                                (H2S, "https", ["--http2", "-k"])):
        answers = [curl(f"{scheme}://127.0.0.1:{port}", flags, method, path)
                   for method, path, _ in CURLS]
        check(all(v == "2" for _, v in answers),
              f"curl {' '.join(flags)} spoke HTTP/2 ({answers})")
        codes = {}
        for code, _ in answers:
            codes[code[0] + "xx"] = codes.get(code[0] + "xx", 0) + 1
        got[port] = codes
    # h2load over TLS (ALPN h2, OpenSSL): 100 requests, 2 connections.
    proto, tls_codes, done, _ = h2load(
        ["-n", "100", "-c", "2", "-m", "8"],
        [f"https://127.0.0.1:{H2S}/rl-ok.html",
         f"https://127.0.0.1:{H2S}/rl-nope"])
    check(proto == "h2" and done == 100, f"h2load over TLS spoke {proto}, "
          f"{done} of 100 requests done")
    time.sleep(0.3)
    want = {}
    for c in (cls for _, _, cls in CURLS):
        want[c] = want.get(c, 0) + 1
    want_methods = {}
    for method, _, _ in CURLS:
        want_methods[method] = want_methods.get(method, 0) + 1
    logs = {p: access_log(log, off, p) for p in (H2C, H2S)}
    print(f"oracle: curl h2c {got[H2C]}, curl TLS {got[H2S]}, h2load TLS "
          f"{tls_codes}; nginx access log h2c {logs[H2C][:2]}, TLS "
          f"{logs[H2S][:2]}")
    check(got[H2C] == got[H2S] == want, f"curl got {want} on each listener")
    check(logs[H2C] == (want, want_methods, 0),
          f"oracles agree: access log h2c {logs[H2C][:2]} == curl's")
    both = dict(want)
    for c, n in tls_codes.items():
        both[c] = both.get(c, 0) + n
    check(logs[H2S][0] == both and logs[H2S][2] == 0 and
          tls_codes == {"2xx": 50, "4xx": 50},
          f"oracles agree: access log TLS {logs[H2S][0]} == curl's {want} + "
          f"h2load's {tls_codes}")
    if agent is None:
        return
    srv = {H2C: dict(comm="nginx", local_port=str(H2C), tls="false"),
           H2S: dict(comm="nginx", local_port=str(H2S), tls="true")}
    cli = {H2C: dict(comm="curl", remote=f"127.0.0.1:{H2C}", tls="false"),
           H2S: dict(comm="curl", remote=f"127.0.0.1:{H2S}", tls="true")}
    h2l = dict(comm="h2load", remote=f"127.0.0.1:{H2S}", tls="true")
    m1 = settled(agent, m0, [(H2_SRV, srv[H2C], 5), (H2_CLI, cli[H2C], 5),
                             (H2_SRV, srv[H2S], 105), (H2_CLI, cli[H2S], 5),
                             (H2_CLI, h2l, 100)])
    for port, what in ((H2C, "h2c"), (H2S, "TLS")):
        got = sum_by(m1, m0, H2_SRV, "status_class", **srv[port])
        check(got == logs[port][0], f"curl {what}: nginx server side "
              f"({srv[port]}) by status class {got} == access log "
              f"{logs[port][0]}")
        got = sum_by(m1, m0, H2_SRV, "method", **srv[port])
        check(got == logs[port][1], f"curl {what}: nginx server side by "
              f"method {got} == access log {logs[port][1]}")
        got = sum_by(m1, m0, H2_CLI, "status_class", **cli[port])
        check(got == want, f"curl {what}: client side ({cli[port]}) by "
              f"status class {got} == curl's {want}")
        got = sum_by(m1, m0, H2_CLI, "method", **cli[port])
        check(got == want_methods, f"curl {what}: client side by method "
              f"{got} == {want_methods}")
        n = sum(logs[port][0].values())
        check_histograms(m1, m0, f"curl {what} server", H2_SDUR, n,
                         **srv[port])
        check_histograms(m1, m0, f"curl {what} client", H2_CDUR,
                         len(CURLS), **cli[port])
    got = sum_by(m1, m0, H2_CLI, "status_class", **h2l)
    check(got == tls_codes, f"h2load TLS: client side by status class {got} "
          f"== h2load's own {tls_codes}")
    for port in (H2C, H2S):
        other = "true" if port == H2C else "false"
        got = sum_by(m1, m0, H2_SRV, "status_class", comm="nginx",
                     local_port=str(port), tls=other)
        check(not got, f"no request on {port} labelled tls={other} {got}")


def want_writes(path, offset):
    """SSL_write calls nginx's debug log says returned WANT_WRITE (3)."""
    with open(path, errors="replace") as f:
        f.seek(offset)
        return f.read().count("SSL_get_error: 3\n")


def slow_phase(agent, tmp, log):
    """Slow readers over TLS: nginx's SSL_write returns WANT_WRITE and is
    retried later with the same bytes, which must be walked once (issue
    22): every request of each connection, those after the retries too,
    counted exactly, and no connection given up."""
    m0 = agent.scrape() if agent else None
    slow_log = os.path.join(tmp, "slow.log")
    off, slow_off = log_size(log), log_size(slow_log)
    t0 = time.time()
    procs = []
    for version in ["--http2"] * SLOW_CLIENTS + ["--http1.1"]:
        cmd = ["curl", "-s", version, "-k", "--limit-rate", SLOW_RATE,
               "-H", f"x-rl-secret: {SECRET_HEADER}",
               "-w", "%{http_code} %{http_version} %{num_connects}\n"]
        for path in SLOW_PATHS:
            cmd += ["-o", "/dev/null", f"https://127.0.0.1:{H2SLOW}{path}"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    answers = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, f"slow curl exited {p.returncode}: "
              f"{err.strip()[-300:]}")
        answers.append([line.split() for line in out.splitlines()])
    took = time.time() - t0
    time.sleep(0.3)
    h1 = answers.pop()
    answers = [a for each in answers for a in each]

    def by_class(answers):
        codes = {}
        for code, _, _ in answers:
            codes[code[0] + "xx"] = codes.get(code[0] + "xx", 0) + 1
        return codes
    codes, codes_h1 = by_class(answers), by_class(h1)
    connects = sum(int(n) for _, _, n in answers)
    classes, methods, other = access_log(log, off, H2SLOW)
    classes_h1, methods_h1, _ = access_log(log, off, H2SLOW, "HTTP/1.1")
    retries = want_writes(slow_log, slow_off)
    print(f"oracle: slow curl over TLS ({took:.1f} s): HTTP/2 "
          f"x{SLOW_CLIENTS} {codes} on {connects} connections, HTTP/1.1 "
          f"{codes_h1}; nginx access log HTTP/2 {classes} by method "
          f"{methods}, HTTP/1.1 {classes_h1}; nginx's SSL_write returned "
          f"WANT_WRITE {retries} times")
    check(len(answers) == len(SLOW_PATHS) * SLOW_CLIENTS and
          all(v == "2" for _, v, _ in answers) and
          connects == SLOW_CLIENTS, f"slow curl spoke HTTP/2, one "
          f"connection each ({answers})")
    check(len(h1) == len(SLOW_PATHS) and all(v == "1.1" for _, v, _ in h1)
          and sum(int(n) for _, _, n in h1) == 1, f"slow curl --http1.1 "
          f"spoke HTTP/1.1 on one connection ({h1})")
    check(codes == classes == SLOW_WANT and
          other == sum(SLOW_WANT_H1.values()),
          f"oracles agree: access log {classes} == curl's {codes} == "
          f"{SLOW_WANT} ({other} HTTP/1.1 and no other)")
    check(codes_h1 == classes_h1 == SLOW_WANT_H1,
          f"oracles agree: access log HTTP/1.1 {classes_h1} == curl's "
          f"{codes_h1} == {SLOW_WANT_H1}")
    check(retries > 0, f"nginx's SSL_write returned WANT_WRITE ({retries} "
          f"times): the slow readers pushed back")
    if agent is None:
        return
    n = sum(SLOW_WANT.values())
    srv = dict(comm="nginx", local_port=str(H2SLOW), tls="true")
    cli = dict(comm="curl", remote=f"127.0.0.1:{H2SLOW}", tls="true")
    n1 = sum(SLOW_WANT_H1.values())
    m1 = settled(agent, m0, [(H2_SRV, srv, n), (H2_CLI, cli, n),
                             (H1_SRV, srv, n1), (H1_CLI, cli, n1)])
    lost = delta(m1, m0, UNPARSED, kind="h2_desynced")
    print(f"agent: slow TLS HTTP/2 server side "
          f"{sum_by(m1, m0, H2_SRV, 'status_class', **srv)}, client side "
          f"{sum_by(m1, m0, H2_CLI, 'status_class', **cli)}, h2_desynced "
          f"+{lost:.0f}; HTTP/1.1 server side "
          f"{sum_by(m1, m0, H1_SRV, 'status_class', **srv)}, client side "
          f"{sum_by(m1, m0, H1_CLI, 'status_class', **cli)}")
    got = sum_by(m1, m0, H2_SRV, "status_class", **srv)
    check(got == classes, f"slow TLS: nginx server side by status class "
          f"{got} == access log {classes}")
    got = sum_by(m1, m0, H2_SRV, "method", **srv)
    check(got == methods, f"slow TLS: nginx server side by method {got} == "
          f"access log {methods}")
    got = sum_by(m1, m0, H2_CLI, "status_class", **cli)
    check(got == codes, f"slow TLS: client side by status class {got} == "
          f"curl's {codes}")
    check_histograms(m1, m0, "slow TLS server", H2_SDUR, n, **srv)
    check_histograms(m1, m0, "slow TLS client", H2_CDUR, n, **cli)
    check(lost == 0, f"slow TLS: h2_desynced +{lost:.0f} == 0 (no "
          f"connection given up after WANT_WRITE)")
    got = sum_by(m1, m0, H1_SRV, "status_class", **srv)
    check(got == classes_h1, f"slow TLS HTTP/1.1: nginx server side by "
          f"status class {got} == access log {classes_h1}")
    got = sum_by(m1, m0, H1_CLI, "status_class", **cli)
    check(got == codes_h1, f"slow TLS HTTP/1.1: client side by status "
          f"class {got} == curl's {codes_h1}")


def start_nginx(tmp, conf):
    nginx = subprocess.Popen(["nginx", "-c", conf, "-p", tmp],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    wait_port(H2C, "nginx (h2c)", nginx)
    wait_port(H2S, "nginx (TLS)", nginx)
    wait_port(H2SLOW, "nginx (TLS, small send buffer)", nginx)
    return nginx


def main():
    require_bpf()
    enter_netns("RL_H2_NETNS")
    t0 = time.time()
    for exe in ("nginx", "h2load", "curl", "openssl", "nghttpd", "nghttpx",
                DEBIAN_PY):
        check(shutil.which(exe) is not None, f"{exe} installed")
    r = subprocess.run([DEBIAN_PY, "-c", "import grpc"], capture_output=True)
    check(r.returncode == 0, f"{DEBIAN_PY} has grpc (python3-grpcio)")
    if ORACLE_ONLY:
        print("RL_H2_ORACLE_ONLY=1: servers, clients and oracles only, "
              "no agent")
    tmp = tempfile.mkdtemp(prefix="rl-h2-")
    nginx = None
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "rl-ok.html"), "w") as f:
            f.write("hello over h2\n")
        with open(os.path.join(tmp, "www", "rl-big.bin"), "wb") as f:
            f.write(os.urandom(SLOW_BIG))
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", os.path.join(tmp, "key.pem"), "-out",
             os.path.join(tmp, "cert.pem"), "-days", "1", "-subj",
             "/CN=localhost"])
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, h2c=H2C, h2s=H2S,
                                      h2slow=H2SLOW))
        log = os.path.join(tmp, "access.log")
        # Before any agent: the system libssl nginx maps is mapped when
        # the --tls agent starts, and curl and h2load map that same file.
        nginx = start_nginx(tmp, conf)
        if ORACLE_ONLY:
            h2load_phase(None, log)
            grpc_phase(None, tmp)
            h2c_upgrade.phase(None, tmp)
            curl_phase(None, log)
            slow_phase(None, tmp, log)
        else:
            slo = h2_slo_top.write_config(tmp)
            with Agent("--probes=l7", f"--slo-config={slo}") as agent:
                m = agent.scrape()
                check_l7_path(m)
                top = h2_slo_top.TopWatch(agent)
                top.start()
                m0, m1, classes, wall = h2load_phase(agent, log)
                h2_slo_top.check_h2load(m1, m0, classes, wall)
                m0, m1, srv_tally, cli_tally, wall = grpc_phase(agent, tmp)
                h2_slo_top.check_grpc(m1, m0, srv_tally, cli_tally, wall)
                rows = top.stop()
                h2_slo_top.check_top(rows, {
                    "nginx": (sum(classes.values()), classes["5xx"]),
                    "h2load": (sum(classes.values()), classes["5xx"]),
                    "rl_grpc_srv": h2_slo_top.grpc_errors(srv_tally),
                    "rl_grpc_cli": h2_slo_top.grpc_errors(cli_tally)})
                h2c_upgrade.phase(agent, tmp)
                m = agent.scrape()
                check_nothing_lost(m, "plaintext agent")
                check_private(m, "plaintext agent")
            with Agent("--probes=l7", "--tls") as agent:
                m = agent.scrape()
                check_l7_path(m)
                files = value(m, "redline_tls_library_files",
                              library="openssl")
                check(files >= 1, f"the system libssl (mapped by nginx) "
                      f"probed at start: {files:.0f} files")
                curl_phase(agent, log)
                slow_phase(agent, tmp, log)
                m = agent.scrape()
                check_nothing_lost(m, "--tls agent")
                check_private(m, "--tls agent")
            h2_loss.phase(H2C)
        print(f"h2_test took {time.time() - t0:.1f} s")
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
