#!/usr/bin/env python3
"""Request RED of Go's own crypto/tls (uprobes at (*Conn).Read/Write's
entry and at each of their return instructions, bpf/tls.bpf.c), against
a Go HTTPS server and client built here with Debian's golang-go
(tests/helpers/go_tls), in a network namespace the test creates:
- the server and the client are two copies of one program (two files):
  both started after the agent, found through their exec and probed
  (redline_tls_library_files{library="go"} == 2) before either makes a
  request; a copy built with -s -w (no symbols) is reported, not probed
  (redline_tls_library_files_skipped_total{library="go",reason="no_symbols"});
- HTTP/1.1 over TLS (one keep-alive connection, 40 requests: 2xx, 404,
  500): server and client counts by status class equal the client's own
  tally and the server's;
- HTTP/2 over TLS (ALPN, Go's default): a second client process of the
  same file, counted from its first request: redline_http2_* by class
  equal its tally;
- the programs behave as without the agent: every request answered, the
  server's tally equals the clients';
- nothing lost or guessed: no tls_unmapped/tls_stale plaintext, no
  connection unclassified, no response without its request;
- a Write that starts over at its stack check (the goroutine's stack
  grown there, or the scheduler's preemption; the entry probe fires twice
  for one call) is counted once: N3 requests over TLS of one process to
  itself, each written i frames deep in a new goroutine
  (tests/helpers/go_tls/restart.go), counted exactly on both sides."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, by_class, check, enter_netns, label_deltas,  # noqa
                    go_tls_expected, go_tls_helper, redline_bin,
                    require_bpf, value)

PORT = 18446
N1, N2 = 40, 25
N3 = 400  # stack depths swept: stacks of 2, 4, 8 and 16 KB fill up
UNPARSED = "redline_http_unparsed_total"


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if r.returncode != 0:
        check(False, f"{' '.join(cmd)} exited {r.returncode}: "
              f"{r.stderr.strip()[-400:]}")
    return r.stdout


def build(tmp):
    """The helper into SRV, CLI (a copy) and a stripped STRIP."""
    t0 = time.time()
    srv = os.path.join(tmp, "rl_gotls_srv")
    go_tls_helper(srv)
    go_tls_helper(os.path.join(tmp, "rl_gotls_strip"), strip=True)
    shutil.copy(srv, os.path.join(tmp, "rl_gotls_cli"))
    print(f"info: built in {time.time() - t0:.1f} s with "
          f"{run(['go', 'version']).strip()}")


def tally(line, word):
    check(line.startswith(word), f"helper said {line!r}")
    out = {}
    for kv in line.split()[1:]:
        k, v = kv.split("=")
        if k.endswith("xx") and int(v):
            out[k] = int(v)
    return out


def wait_for(agent, name, want, **labels):
    deadline = time.time() + 15
    while True:
        m = agent.scrape()
        if value(m, name, **labels) >= want or time.time() > deadline:
            return m
        time.sleep(0.2)


def client(tmp, n, proto):
    p = subprocess.Popen([os.path.join(tmp, "rl_gotls_cli"), "get",
                          f"https://127.0.0.1:{PORT}", str(n), proto],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    check(p.stdout.readline().strip() == "ready", f"{proto} client started")
    return p


def finish(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    out = p.stdout.readline().strip()
    check(p.wait(timeout=60) == 0, f"client exited 0 ({out})")
    return out


def restart_phase(tmp, agent):
    """The restart helper, as rl_gotls_rst (a link: the server's file,
    probed while the server runs): its requests and responses counted
    once each."""
    rst = os.path.join(tmp, "rl_gotls_rst")
    os.symlink(os.path.join(tmp, "rl_gotls_srv"), rst)
    m0 = agent.scrape()
    # Goroutines start with 2 KiB of stack, not with the average the GC
    # saw (Go 1.19's adaptive start): where a new goroutine's stack fills
    # up depends on its depth alone.
    r = subprocess.run([rst, "restart", os.path.join(tmp, "cert.pem"),
                        os.path.join(tmp, "key.pem"), str(N3)], input="go\n",
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, GODEBUG="adaptivestackstart=0"))
    out = r.stdout.split("\n")[1:2]
    check(r.returncode == 0 and out == [f"restart requests={N3} "
                                        f"served={N3}"],
          f"restart helper: exit {r.returncode}, {out} {r.stderr[-300:]}")
    m1 = wait_for(agent, "redline_http_server_requests_total", N3,
                  comm="rl_gotls_rst")
    time.sleep(1.5)  # a refresh more: anything extra shows too
    m1 = agent.scrape()
    for side in ("server", "client"):
        fam = f"redline_http_{side}_requests_total"
        got = label_deltas(m1, m0, fam, "method", comm="rl_gotls_rst")
        check(got == {"GET": N3}, f"writes started over counted once: "
              f"{fam} {got} == {{'GET': {N3}}}")
    for kind in ("response_without_request", "request_without_response",
                 "pipeline_overflow"):
        d = value(m1, UNPARSED, kind=kind) - value(m0, UNPARSED, kind=kind)
        check(d == 0, f"restart: {kind} +{d:.0f}")


def main():
    require_bpf()
    enter_netns("RL_GOTLS_NETNS")
    check(shutil.which("go") is not None, "go installed (golang-go)")
    tmp = tempfile.mkdtemp(prefix="rl-gotls-")
    procs = []
    try:
        build(tmp)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", os.path.join(tmp, "key.pem"), "-out",
             os.path.join(tmp, "cert.pem"), "-days", "1", "-subj",
             "/CN=localhost"])
        with Agent("--probes=l7", "--tls", "--tls-late-attach",
                   "--refresh-interval=1") as agent:
            srv = subprocess.Popen(
                [os.path.join(tmp, "rl_gotls_srv"), "serve", str(PORT),
                 os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            procs.append(srv)
            check(srv.stdout.readline().strip() == "ready", "server started")
            c1 = client(tmp, N1, "h1")
            procs.append(c1)
            strip = subprocess.Popen(
                [os.path.join(tmp, "rl_gotls_strip"), "get",
                 f"https://127.0.0.1:{PORT}", "1", "h1"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            procs.append(strip)
            m = wait_for(agent, "redline_tls_library_files", 2, library="go")
            files = value(m, "redline_tls_library_files", library="go")
            check(files == 2, f"server and client files probed after their "
                  f"exec: {files:.0f} go files")
            m = wait_for(agent, "redline_tls_library_files_skipped_total", 1,
                         library="go", reason="no_symbols")
            skipped = value(m, "redline_tls_library_files_skipped_total",
                            library="go", reason="no_symbols")
            check(skipped == 1, f"the stripped copy reported, not probed: "
                  f"skipped no_symbols {skipped:.0f}")
            # `redline check` tells the Go programs apart the same way.
            out = subprocess.run([redline_bin(), "check"], text=True,
                                 capture_output=True, timeout=60).stdout
            tls = [l for l in out.splitlines() if "tls libraries" in l]
            check(len(tls) == 1 and "go: 2 files" in tls[0] and
                  "go, not probed (no_symbols): 1 file" in tls[0],
                  f"redline check lists the Go files: {tls}")
            strip.stdin.close()  # never asked to send: exits on EOF
            strip.kill()
            m0 = agent.scrape()
            want1 = tally(finish(c1), "got")
            check(want1 == go_tls_expected(N1), f"HTTP/1.1 client: {want1}")
            c2 = client(tmp, N2, "h2")  # the same file: probed already
            procs.append(c2)
            want2 = tally(finish(c2), "got")
            check(want2 == go_tls_expected(N2), f"HTTP/2 client: {want2}")
            restart_phase(tmp, agent)  # while the server's file is probed
            srv.stdin.close()
            served = srv.stdout.readline().strip()
            check(srv.wait(timeout=10) == 0, f"server exited 0 ({served})")
            check(f"h1={N1} h2={N2}" in served, f"server saw {N1} HTTP/1.1 "
                  f"and {N2} HTTP/2 requests ({served})")
            m1 = wait_for(agent, "redline_http2_client_requests_total",
                          value(m0, "redline_http2_client_requests_total",
                                comm="rl_gotls_cli") + N2, comm="rl_gotls_cli")
            for fam, comm, want in (
                    ("redline_http_server_requests_total", "rl_gotls_srv",
                     want1),
                    ("redline_http_client_requests_total", "rl_gotls_cli",
                     want1),
                    ("redline_http2_server_requests_total", "rl_gotls_srv",
                     want2),
                    ("redline_http2_client_requests_total", "rl_gotls_cli",
                     want2)):
                got = by_class(m1, m0, fam, comm=comm, tls="true")
                check(got == want, f"{fam} of {comm}: {got} == {want}")
            for kind in ("unclassified", "response_without_request",
                         "tls_unmapped", "tls_stale", "h2_desynced"):
                d = value(m1, UNPARSED, kind=kind) - value(m0, UNPARSED,
                                                           kind=kind)
                # (the family has no process label: on a mismatch, which
                # requests went without a method says where)
                where = {} if d == 0 else {
                    f: label_deltas(m1, m0, f, "method", method="unknown")
                    for f in ("redline_http_server_requests_total",
                              "redline_http_client_requests_total")}
                check(d == 0, f"nothing lost or guessed: {kind} +{d:.0f} "
                      f"{where or ''}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
