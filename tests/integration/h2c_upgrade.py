#!/usr/bin/env python3
"""h2_test's h2c upgrade phase (a module of it; run on its own, it starts
its own netns and agent): HTTP/1.1 `Upgrade: h2c` answered by 101
Switching Protocols, then HTTP/2 on the same connection (RFC 7540 3.2),
whose stream 1 is the upgrade request.

nginx does not accept an h2c upgrade and neither does nghttpd (it speaks
HTTP/2 at once); nghttpx (Debian's nghttp2-proxy) does, on a cleartext
frontend. It forwards to nghttpd (nghttp2-server) over HTTP/2 with prior
knowledge, which serves a file (200) and a missing one (404). Clients:
curl --http2 on http:// URLs (it asks for the upgrade on each new
connection, then sends the next URLs of the same process as streams 3,
5...), one process per run of URLs, each run one connection.
Oracles: curl's own `-w %{http_code} %{http_version}`, nghttpx's access
log ($status $method $alpn: "h2c") and, for the backend hop, the same log.
Asserted, exactly: nghttpx's server side by status class and method, and
curl's client side by status class, equal the oracles, every request
timed (the upgraded ones from their HTTP/1.1 request); the backend hop
(nghttpx as client, nghttpd as server) equals them too; no HTTP/1 request
counted on either side of the upgraded connections (the 101 is not a
request); and nothing given up: h2_desynced, h2_events_lost and
h2_response_without_request do not grow."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from h2_names import (H1_CLI, H1_SRV, H2_CDUR, H2_CLI, H2_SDUR,  # noqa
                      H2_SRV, UNPARSED)
from rltest import (Agent, by_class, check, enter_netns, label_deltas,  # noqa
                    require_bpf, stop_all, value, wait_port)

UP, BACK = 18094, 18095
# One curl process per run, each run one connection: its first URL is the
# upgrade request (stream 1), the others streams 3, 5...
RUNS = [["/rl-ok.html", "/rl-nope", "/rl-ok.html"], ["/rl-nope"],
        ["/rl-ok.html"], ["/rl-ok.html", "/rl-nope"]]
WANT = {"2xx": 4, "4xx": 3}
WANT_UPGRADED = {"2xx": 3, "4xx": 1}  # stream 1 of each run

GIVEN_UP = ("h2_desynced", "h2_events_lost", "h2_response_without_request")


def start_servers(tmp):
    www = os.path.join(tmp, "h2c-www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "rl-ok.html"), "w") as f:
        f.write("hello over an upgraded connection\n")
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    back = subprocess.Popen(["nghttpd", "--no-tls", "-a", "127.0.0.1",
                             "-d", www, str(BACK)], **quiet)
    procs = [back]
    try:
        wait_port(BACK, "nghttpd", back)
        log = os.path.join(tmp, "nghttpx-access.log")
        # --conf=/dev/null: not the package's /etc/nghttpx/nghttpx.conf.
        front = subprocess.Popen([
            "nghttpx", "--conf=/dev/null", "--workers=1",
            f"--frontend=127.0.0.1,{UP};no-tls",
            f"--backend=127.0.0.1,{BACK};;proto=h2",
            f"--accesslog-file={log}",
            "--accesslog-format=$status $method $alpn",
            f"--errorlog-file={os.path.join(tmp, 'nghttpx-error.log')}"],
            **quiet)
        procs.append(front)
        wait_port(UP, "nghttpx", front)
    except BaseException:
        stop_all(procs)
        raise
    return procs, log


def access_log(path):
    """nghttpx's log: (status classes, methods, lines not over h2c)."""
    classes, methods, other = {}, {}, 0
    if os.path.exists(path):
        with open(path) as f:
            for line in f.read().splitlines():
                code, method, alpn = line.split()
                if alpn != "h2c":
                    other += 1
                    continue
                c = code[0] + "xx"
                classes[c] = classes.get(c, 0) + 1
                methods[method] = methods.get(method, 0) + 1
    return classes, methods, other


def curl_runs():
    """Each run: one curl process; returns per run its (code, version,
    connects) per URL."""
    answers = []
    for run in RUNS:
        cmd = ["curl", "-s", "--http2",
               "-w", "%{http_code} %{http_version} %{num_connects}\n"]
        for path in run:
            cmd += ["-o", "/dev/null", f"http://127.0.0.1:{UP}{path}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            check(False, f"curl --http2 exited {r.returncode}: "
                  f"{r.stderr.strip()[-300:]}")
        answers.append([line.split() for line in r.stdout.splitlines()])
    return answers


def classes_of(codes):
    out = {}
    for code in codes:
        out[code[0] + "xx"] = out.get(code[0] + "xx", 0) + 1
    return out


def settled(agent, m0, wants):
    """Scrapes until each (family, labels) grew by its n, or 10 s; then
    once more a refresh later, so that counts beyond show too."""
    deadline = time.time() + 10
    while True:
        m = agent.scrape()
        if all(value(m, n, **l) - value(m0, n, **l) >= want
               for n, l, want in wants) or time.time() > deadline:
            break
        time.sleep(0.2)
    time.sleep(1.2)
    return agent.scrape()


def phase(agent, tmp):
    """The servers start here, after the agent: every connection is seen
    from its start. agent None: the oracles only."""
    procs, log = start_servers(tmp)
    try:
        m0 = agent.scrape() if agent else None
        answers = curl_runs()
        time.sleep(0.3)  # nghttpx logs after the response
    finally:
        stop_all(procs)
    flat = [a for run in answers for a in run]
    codes = classes_of([c for c, _, _ in flat])
    upgraded = classes_of([run[0][0] for run in answers])
    classes, methods, other = access_log(log)
    print(f"oracle: curl --http2 (h2c upgrade) {codes}, of which stream 1 "
          f"{upgraded}; nghttpx access log {classes} by method {methods} "
          f"({other} not h2c)")
    check(len(flat) == sum(len(r) for r in RUNS) and
          all(v == "2" for _, v, _ in flat) and
          [int(run[0][2]) for run in answers] == [1] * len(RUNS) and
          sum(int(n) for _, _, n in flat) == len(RUNS),
          f"curl upgraded each run's one connection to HTTP/2 ({answers})")
    check(codes == classes == WANT and upgraded == WANT_UPGRADED and
          methods == {"GET": sum(WANT.values())} and other == 0,
          f"oracles agree: access log {classes} == curl's {codes} == {WANT}")
    if agent is None:
        return
    n = sum(WANT.values())
    srv = dict(comm="nghttpx", local_port=str(UP))
    cli = dict(comm="curl", remote=f"127.0.0.1:{UP}")
    back_srv = dict(comm="nghttpd", local_port=str(BACK))
    back_cli = dict(comm="nghttpx", remote=f"127.0.0.1:{BACK}")
    m1 = settled(agent, m0, [(H2_SRV, srv, n), (H2_CLI, cli, n),
                             (H2_SRV, back_srv, n), (H2_CLI, back_cli, n)])
    got = by_class(m1, m0, H2_SRV, **srv)
    check(got == classes, f"h2c upgrade: nghttpx server side by status "
          f"class {got} == access log {classes}")
    got = label_deltas(m1, m0, H2_SRV, "method", **srv)
    check(got == methods, f"h2c upgrade: nghttpx server side by method "
          f"{got} == access log {methods}")
    got = by_class(m1, m0, H2_CLI, **cli)
    check(got == codes, f"h2c upgrade: curl client side by status class "
          f"{got} == curl's {codes}")
    got = label_deltas(m1, m0, H2_CLI, "method", **cli)
    check(got == {"GET": n}, f"h2c upgrade: curl client side by method "
          f"{got}")
    for fam, labels in ((H2_SDUR, srv), (H2_CDUR, cli)):
        timed = value(m1, fam + "_count", **labels) - \
            value(m0, fam + "_count", **labels)
        check(timed == n, f"h2c upgrade: {fam}_count +{timed:.0f} == {n} "
              f"(the upgraded requests timed too)")
    got = by_class(m1, m0, H2_SRV, **back_srv)
    check(got == classes, f"backend hop: nghttpd server side {got} == "
          f"access log {classes}")
    got = by_class(m1, m0, H2_CLI, **back_cli)
    check(got == classes, f"backend hop: nghttpx client side {got} == "
          f"access log {classes}")
    h1 = by_class(m1, m0, H1_SRV, **srv), by_class(m1, m0, H1_CLI, **cli)
    check(h1 == ({}, {}), f"h2c upgrade: no HTTP/1 request counted "
          f"(server side, client side) {h1}: the 101 is not one")
    for kind in GIVEN_UP:
        d = value(m1, UNPARSED, kind=kind) - value(m0, UNPARSED, kind=kind)
        check(d == 0, f"h2c upgrade: {UNPARSED}{{kind={kind!r}}} +{d:.0f}"
              f" == 0")


def main():
    require_bpf()
    enter_netns("RL_H2C_NETNS")
    for exe in ("nghttpd", "nghttpx", "curl"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    tmp = tempfile.mkdtemp(prefix="rl-h2c-")
    try:
        with Agent("--probes=l7") as agent:
            phase(agent, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
