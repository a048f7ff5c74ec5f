#!/usr/bin/env python3
"""Connection churn through the request engine, in a network namespace
the test creates (loopback only): ApacheBench (`ab`, no keep-alive: one
TCP connection per request) against nginx, in batches until RL_CHURN_N
connections (default 100000) or RL_CHURN_SECONDS (default 60) of load.

- nginx's server-side count equals its access log, and ab's client-side
  count equals the requests ab completed, exactly;
- the connection table holds what it held before
  (redline_bpf_map_entries{map="l7_connections"} back to its baseline:
  every socket's state is freed when it closes; the table is the host's,
  so other processes' connections may differ by a few) and never neared
  its capacity; no update of l7_connections or l7_stats failed.

Then the table full (--max-connections=CAP, a fresh agent): a workload
(comm rl_fulltab) holds HOLD connections open at once, both ends its
own (2 * HOLD sockets), and makes one request on each.

- the table never holds more than CAP; the sockets it had no room for
  are counted as E2BIG update errors of l7_connections, at least
  2 * HOLD - CAP of them;
- the requests exported for rl_fulltab are those of the sockets it did
  follow: counted + refused sockets = 2 * HOLD (within the test's own
  scrape, refused too while the table is full);
- once the workload closes them the table empties, and a second holder
  is followed on as many sockets as the table has room for (every slot
  came back);
- sockets of no protocol, held open, are forgotten (the table back to
  what it held before them);
- the state is where the path puts it (bpftool: the conns hash shrunk to
  one entry on the socket tracepoint path, socket storage holding it; the
  full table on the fallback).

Prints the connections per second reached."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (HTTP_EXCHANGE, Agent, check, check_l7_path,  # noqa: E402
                    enter_netns, l7_fallback, python_as, require_bpf, series,
                    value)

PORT = 18380
BATCH = 10000
SLACK = 16
SRV = "redline_http_server_requests_total"
CLI = "redline_http_client_requests_total"
ENTRIES = "redline_bpf_map_entries"

CAP, HOLD = 32, 40
FULL_COMM = "rl_fulltab"
UPD = "redline_bpf_map_update_errors_total"

HOLDER = HTTP_EXCHANGE + r"""
import socket, sys
n, junk = int(sys.argv[1]), sys.argv[2] == "junk"
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(n)
pairs = []
for _ in range(n):  # one at a time: the table fills in a known order
    c = socket.create_connection(l.getsockname())
    pairs.append((c, l.accept()[0]))
for c, s in pairs:
    # No protocol: both ends give up on it after a few messages each way.
    for _ in range(10 if junk else 0):
        c.sendall(b"~~ no protocol ~~\n")
        s.recv(4096)
        s.sendall(b"~~\n")
        c.recv(4096)
    if not junk:
        exchange(c, s)
print("done", flush=True)
sys.stdin.read()  # hold them until the test has looked
for c, s in pairs:
    c.close()
    s.close()
"""

NGINX_CONF = """
daemon off;
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format rl '$status';
    access_log {tmp}/access.log rl;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_timeout 0;
    server {{ listen 127.0.0.1:{port}; root {tmp}/www; }}
}}
"""


def ab(n, agent):
    """ab -n n; returns (complete, failed, the table's largest entry count
    scraped while it ran)."""
    p = subprocess.Popen(["ab", "-q", "-n", str(n), "-c", "8",
                          f"http://127.0.0.1:{PORT}/"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    peak = 0
    while p.poll() is None:
        peak = max(peak, value(agent.scrape(), ENTRIES, map="l7_connections"))
        time.sleep(0.05)
    out, err = p.communicate(timeout=300)
    check(p.returncode == 0, f"ab -n {n} ({err.strip()[-200:]})")
    done = failed = None
    for line in out.splitlines():
        if line.startswith("Complete requests:"):
            done = int(line.split()[-1])
        elif line.startswith("Failed requests:"):
            failed = int(line.split()[-1])
    return done, failed, peak


def hold(tmp, n, junk=False):
    """The holder workload with n connections, once it made its requests
    (junk: exchanged messages of no protocol instead)."""
    wl = subprocess.Popen([python_as(tmp, FULL_COMM), "-c", HOLDER, str(n),
                           "junk" if junk else "http"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
    check(wl.stdout.readline().strip() == "done",
          f"{FULL_COMM}: {n} connections held, a request on each")
    return wl


def release(wl):
    wl.stdin.close()
    wl.wait(timeout=10)


def followed(m1, m0):
    """Requests exported for the holder between m0 and m1, both sides."""
    return sum(v - m0.get((f, l), 0)
               for f in (SRV, CLI)
               for l, v in series(m1, f, comm=FULL_COMM).items())


def settle(agent, base):
    """Scrapes until the table is back to base (or 10 s); the last one."""
    deadline = time.time() + 10
    while True:
        m = agent.scrape()
        if value(m, ENTRIES, map="l7_connections") <= base or \
                time.time() > deadline:
            return m
        time.sleep(0.2)


def fill(agent, tmp, m0):
    """The holder's HOLD connections against the table as m0 saw it:
    (entries, sockets refused, requests counted, the scrape after)."""
    time.sleep(0.3)  # m0's own sockets gone
    wl = hold(tmp, HOLD)
    try:
        m1 = agent.scrape()
    finally:
        release(wl)
    full = value(m1, ENTRIES, map="l7_connections")
    refused = (value(m1, UPD, map="l7_connections", errno="E2BIG")
               - value(m0, UPD, map="l7_connections", errno="E2BIG"))
    seen = followed(m1, m0)
    print(f"info: table of {CAP}: {2 * HOLD} sockets held, {full:.0f} "
          f"entries, {seen:.0f} requests counted, {refused:.0f} refused")
    check(full <= CAP, f"the table holds {full:.0f} <= {CAP}")
    check(refused >= 2 * HOLD - CAP, f"sockets it had no room for "
          f"counted: {refused:.0f} E2BIG >= {2 * HOLD - CAP}")
    # The scrape's own two sockets may be refused too; other host
    # traffic may take a slot.
    check(2 * HOLD <= seen + refused <= 2 * HOLD + 2 + SLACK,
          f"counted {seen:.0f} + refused {refused:.0f} = "
          f"{seen + refused:.0f}, the {2 * HOLD} sockets held (+ <= 2 "
          f"the scrape's)")
    return full, refused, seen, m1


def store():
    """max_entries of the maps named conns (bpftool): 1 where connection
    state is in socket storage, the table's size where it is the hash."""
    out = subprocess.run(["bpftool", "map", "show", "-j"], check=True,
                         capture_output=True, text=True).stdout
    return {m["max_entries"] for m in json.loads(out)
            if m.get("name") == "conns"}


def full_table(tmp):
    with Agent("--probes=l7", f"--max-connections={CAP}") as agent:
        # The fallback has the socket only as a number: the hash.
        want = CAP if l7_fallback() else 1
        path = "hash" if l7_fallback() else "socket storage"
        got = store()
        check(got == {want}, f"connection state in the {path}: conns of "
              f"{want} entries (bpftool: {sorted(got)})")
        m0 = settle(agent, 2)  # the scrape's own two sockets at most
        check(value(m0, "redline_bpf_map_capacity",
                    map="l7_connections") == CAP, f"capacity {CAP}")
        _, _, seen, _ = fill(agent, tmp, m0)
        check(seen >= CAP - SLACK, f"the sockets followed were counted: "
              f"{seen:.0f} of about {CAP}")
        m2 = settle(agent, 2)
        left = value(m2, ENTRIES, map="l7_connections")
        check(left <= 2 + SLACK, f"the table emptied: {left:.0f} entries "
              f"(the scrape's 2, other host traffic <= {SLACK})")
        # Every slot back: as many followed as the table has room for now
        # (a leak of more than 2 would show).
        _, _, again, _ = fill(agent, tmp, m2)
        room = CAP - max(left - 2, 0)
        check(again >= room - 2, f"filled again after they closed: "
              f"{again:.0f} followed, room for {room:.0f}")
        # Connections of no protocol are forgotten while still open, and
        # give their slots back then.
        m3 = settle(agent, 2)
        wl = hold(tmp, HOLD // 4, junk=True)
        try:
            m4 = settle(agent, value(m3, ENTRIES, map="l7_connections"))
        finally:
            release(wl)
        held = value(m4, ENTRIES, map="l7_connections")
        check(held <= value(m3, ENTRIES, map="l7_connections"),
              f"{HOLD // 2} sockets of no protocol held open, forgotten: "
              f"{held:.0f} entries, as before them")


def main():
    require_bpf()
    enter_netns("RL_L7_CHURN_NETNS")
    for exe in ("nginx", "ab"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    target = int(os.environ.get("RL_CHURN_N", "100000"))
    budget = float(os.environ.get("RL_CHURN_SECONDS", "60"))
    tmp = tempfile.mkdtemp(prefix="rl-churn-")
    nginx = None
    try:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("x" * 612)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=PORT))
        log = os.path.join(tmp, "access.log")
        with Agent("--probes=l7") as agent:
            nginx = subprocess.Popen(["nginx", "-c", conf, "-p", tmp])
            for _ in range(100):
                if os.path.exists(os.path.join(tmp, "nginx.pid")):
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            m0 = agent.scrape()
            check_l7_path(m0)
            base = value(m0, ENTRIES, map="l7_connections")
            cap = value(m0, "redline_bpf_map_capacity", map="l7_connections")
            done, peak, t0 = 0, base, time.time()
            while done < target and time.time() - t0 < budget:
                n, failed, p = ab(min(BATCH, target - done), agent)
                check(failed == 0, f"ab: {n} complete, {failed} failed")
                done += n
                peak = max(peak, p)
            secs = time.time() - t0
            print(f"info: {done} connections in {secs:.1f} s "
                  f"({done / secs:.0f}/s), table peak {peak:.0f} of "
                  f"{cap:.0f} (baseline {base:.0f})")
            deadline = time.time() + 10
            while time.time() < deadline:
                m1 = agent.scrape()
                if value(m1, ENTRIES, map="l7_connections") <= base:
                    break
                time.sleep(0.5)
            with open(log) as f:
                logged = sum(1 for line in f if line.startswith("200"))
            srv = sum(v - m0.get((SRV, l), 0) for l, v in
                      series(m1, SRV, comm="nginx",
                             local_port=str(PORT)).items())
            cli = sum(v - m0.get((CLI, l), 0) for l, v in
                      series(m1, CLI, comm="ab").items())
            check(logged == done, f"nginx logged {logged} 200s == ab's "
                  f"{done} complete requests")
            check(srv == logged, f"server side {srv:.0f} == access log "
                  f"{logged}")
            check(cli == done, f"ab's client side {cli:.0f} == {done}")
            # The table is the host's: other processes' connections come
            # and go meanwhile (a leak here would be thousands).
            left = value(m1, ENTRIES, map="l7_connections")
            check(left - base <= SLACK, f"l7_connections back to its "
                  f"baseline: {left:.0f} vs {base:.0f} (other host traffic: "
                  f"<= {SLACK}) after {done} connections")
            check(base < peak < cap / 2, f"connections seen in the table "
                  f"while ab ran, far from its capacity (peak {peak:.0f} of "
                  f"{cap:.0f})")
            for mp in ("l7_connections", "l7_stats"):
                d = value(m1, "redline_bpf_map_drops_total", map=mp)
                check(d == 0, f"{mp}: no failed updates ({d:.0f})")
        full_table(tmp)
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
