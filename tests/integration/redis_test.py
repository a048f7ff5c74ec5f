#!/usr/bin/env python3
"""Redis request RED, client and server side, against Redis's own
statistics. In a network namespace the test creates (loopback only), a
redis-server from Debian with a temporary data dir and no persistence:

- redis-benchmark, a fixed request count over several commands, without
  and with pipelining (-P 16: 16 commands per write, 16 replies per read);
- a raw-socket client (rl_redis_cli) that makes WRONGTYPE and ERR errors,
  one by one and pipelined in one write, and commands outside redline's
  list ("other");
- junk sent to the port (a line that is not RESP): never a request;
- over TLS (the server's TLS port, a certificate made here; OpenSSL in
  redis-server and redis-benchmark), an agent with --tls: per command,
  both sides equal INFO commandstats' delta with tls="true", none
  plaintext.

Oracle: INFO commandstats (calls per command) and INFO errorstats
(errors per prefix), read with redis-cli before and after each phase.
Server-side counts (labelled redis-server, local_port) equal Redis's
deltas exactly, per command; client-side counts (labelled with each
client, remote 127.0.0.1:port) equal them per client.

With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same holds on the sys_exit path (redis_test_fallback)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, check_l7_path, enter_netns,  # noqa: E402
                    label_deltas, python_as, require_bpf, send_junk, series,
                    start_redis, value)

PORT = 16379
TLS_PORT = 16380
SRV = "redline_redis_server_requests_total"
CLI = "redline_redis_client_requests_total"
UNPARSED = "redline_http_unparsed_total"
BENCH = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(PORT)]
EVENTS = "redline_slo_events_total"
# Request SLOs on Redis: any error served, and the client's LPUSHes that
# hit a key of the wrong type.
SLOS = """slos:
  - name: redis-errors
    selector: {comm: redis-server}
    sli: {kind: request_availability, protocol: redis}
    objective: 99
  - name: lpush-wrongtype
    selector: {comm: rl_redis_cli}
    sli: {kind: request_availability, protocol: redis, role: client,
          operations: [lpush], outcomes: [WRONGTYPE]}
    objective: 99
"""

RAW_CLIENT = r"""
import socket, sys
def cmd(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        x = x.encode()
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
def replies(f, n):
    got = []
    for _ in range(n):
        line = f.readline()
        got.append(line[:1])
        if line[:1] == b"$" and int(line[1:]) >= 0:
            f.read(int(line[1:]) + 2)
    return got
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
n = int(sys.argv[2])
s.sendall(cmd("SET", "str", "v")); replies(f, 1)
errs = 0
for i in range(n):                      # one by one: WRONGTYPE, ERR, other
    s.sendall(cmd("LPUSH", "str", "x")); errs += replies(f, 1) == [b"-"]
    s.sendall(cmd("INCR", "str")); errs += replies(f, 1) == [b"-"]
    s.sendall(cmd("STRLEN", "str")); replies(f, 1)
    s.sendall(cmd("GETRANGE", "str", "0", "0")); replies(f, 1)
    s.sendall(cmd("ECHO", "hi")); replies(f, 1)
    s.sendall(cmd("OBJECT", "ENCODING", "str")); replies(f, 1)
    s.sendall(cmd("LASTSAVE")); replies(f, 1)
# Pipelined in one write: 8 WRONGTYPE, then 8 GETs (a run of each).
s.sendall(cmd("LPUSH", "str", "y") * 8 + cmd("GET", "str") * 8)
got = replies(f, 16)
errs += got.count(b"-")
print(errs, flush=True)
"""


def cli(*args):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(PORT),
                        *args], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"redis-cli {' '.join(args)}: {r.stderr}")
    return r.stdout


def info(section, prefix):
    """INFO commandstats/errorstats: {name: calls or count}."""
    out = {}
    for line in cli("INFO", section).splitlines():
        if not line.startswith(prefix):
            continue
        name, fields = line[len(prefix):].split(":", 1)
        kv = dict(f.split("=") for f in fields.split(","))
        # Redis 7 counts subcommands apart ("config|get"); redline by the
        # command's first word.
        name = name.split("|")[0]
        out[name] = out.get(name, 0) + int(kv.get("calls", kv.get("count", 0)))
    return out


def diff(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)
            if b.get(k, 0) != a.get(k, 0)}


def server(**labels):
    return dict(comm="redis-server", local_port=str(PORT), **labels)


def client(comm):
    return dict(comm=comm, remote=f"127.0.0.1:{PORT}")


def phase(agent, what, cmd, comm):
    """Runs cmd (a client named comm); redline's per-command counts on both
    sides equal INFO commandstats' delta. The INFO that reads the second
    snapshot is counted by redline, not in that snapshot."""
    m0 = agent.scrape()
    s0 = info("commandstats", "cmdstat_")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, f"{what}: {cmd[0]} ran ({out.stderr[-200:]})")
    s1 = info("commandstats", "cmdstat_")
    time.sleep(1.2)
    m1 = agent.scrape()
    want = diff(s0, s1)
    got_srv = label_deltas(m1, m0, SRV, "command", **server())
    exp_srv = dict(want)
    exp_srv["info"] = exp_srv.get("info", 0) + 1
    check(got_srv == exp_srv, f"{what}: server side by command {got_srv} "
          f"== INFO commandstats delta (+1 info) {exp_srv}")
    exp_cli = {k: v for k, v in want.items() if k != "info"}
    got_cli = label_deltas(m1, m0, CLI, "command", **client(comm))
    check(got_cli == exp_cli, f"{what}: {comm} client side by command "
          f"{got_cli} == {exp_cli}")
    return m0, m1, out.stdout


DUR = "redline_redis_client_request_duration_seconds_bucket"


def tls_options(tmp):
    """redis-server options for a TLS port with a certificate made here."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    return ["--tls-port", str(TLS_PORT), "--tls-cert-file", cert,
            "--tls-key-file", key, "--tls-ca-cert-file", cert,
            "--tls-auth-clients", "no"]


def tls_phase(tmp):
    """redis-benchmark over TLS (OpenSSL in both programs) under an agent
    with --tls: per command, both sides equal INFO commandstats' delta,
    tls="true"; nothing plaintext counted on the TLS port."""
    with Agent("--probes=l7", "--tls", "--refresh-interval=1") as agent:
        m0 = agent.scrape()
        s0 = info("commandstats", "cmdstat_")
        out = subprocess.run(
            ["redis-benchmark", "-h", "127.0.0.1", "-p", str(TLS_PORT),
             "--tls", "--cacert", os.path.join(tmp, "cert.pem"), "-n",
             "1000", "-c", "5", "-t", "set,get,incr,lpush,lpop", "-q"],
            capture_output=True, text=True, timeout=300)
        check(out.returncode == 0,
              f"TLS: redis-benchmark ran ({out.stderr[-200:]})")
        s1 = info("commandstats", "cmdstat_")
        time.sleep(1.2)
        m1 = agent.scrape()
    want = {k: v for k, v in diff(s0, s1).items() if k != "info"}
    check(sum(want.values()) >= 5000, f"TLS: Redis counted {want}")
    for name, labels, who in (
            (SRV, dict(comm="redis-server", local_port=str(TLS_PORT)),
             "server"),
            (CLI, dict(comm="redis-benchmark",
                       remote=f"127.0.0.1:{TLS_PORT}"), "client")):
        got = label_deltas(m1, m0, name, "command", tls="true", **labels)
        check(got == want, f"TLS: {who} side by command {got} == INFO "
              f"commandstats delta {want}")
        plain = label_deltas(m1, m0, name, "command", tls="false", **labels)
        check(not plain, f"TLS: nothing plaintext on the TLS port ({plain})")


def bucket_of(edges, seconds):
    """Index of the histogram bucket (sorted le edges) holding seconds."""
    for i, le in enumerate(edges):
        if seconds <= le:
            return i
    return len(edges) - 1


def latency_phase(agent):
    """redis-benchmark's own p50/p99 (HdrHistogram, send to reply parsed)
    fall in the bucket of redline's client-side quantile, or the next."""
    m0 = agent.scrape()
    out = subprocess.run(BENCH + ["-t", "get", "-n", "5000", "-c", "4",
                                  "--csv", "--precision", "3"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"latency run ({out.stderr[-200:]})")
    time.sleep(1.2)
    m1 = agent.scrape()
    head, row = [l.replace('"', "").split(",")
                 for l in out.stdout.strip().splitlines()[-2:]]
    tool = dict(zip(head, row))
    buckets = {}
    for l, v in series(m1, DUR, command="get", **client("redis-benchmark")
                       ).items():
        le = float(dict(l)["le"])
        buckets[le] = buckets.get(le, 0) + v - m0.get((DUR, l), 0)
    edges = sorted(buckets)
    total = buckets[edges[-1]]
    check(total == 5000, f"5000 GETs timed ({total})")
    for q in ("50", "99"):
        got = next(i for i, le in enumerate(edges)
                   if buckets[le] >= int(q) / 100 * total)
        want = bucket_of(edges, float(tool[f"p{q}_latency_ms"]) / 1e3)
        check(abs(got - want) <= 1,
              f"client p{q}: redline bucket {got} (le {edges[got]}) within "
              f"one of redis-benchmark's {tool[f'p{q}_latency_ms']} ms "
              f"(bucket {want})")


def errors_phase(agent, tmp):
    m0 = agent.scrape()
    e0 = info("errorstats", "errorstat_")
    c0 = info("commandstats", "cmdstat_")
    n = 25
    out = subprocess.run([python_as(tmp, "rl_redis_cli"), "-c", RAW_CLIENT,
                          str(PORT), str(n)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, f"raw client ran ({out.stderr[-300:]})")
    e1 = info("errorstats", "errorstat_")
    c1 = info("commandstats", "cmdstat_")
    time.sleep(1.2)
    m1 = agent.scrape()
    errs = diff(e0, e1)
    check(errs == {"WRONGTYPE": n + 8, "ERR": n},
          f"Redis counted {errs} errors (client saw {out.stdout.strip()})")
    for labels, who in ((server(), "server"), (client("rl_redis_cli"),
                                                "client")):
        name = SRV if who == "server" else CLI
        got = label_deltas(m1, m0, name, "outcome", **labels)
        got.pop("ok", None)
        check(got == errs, f"{who} side by error prefix {got} == INFO "
              f"errorstats delta {errs}")
    slo = {name: tuple(value(m1, EVENTS, slo=name, outcome=o)
                       - value(m0, EVENTS, slo=name, outcome=o)
                       for o in ("good", "bad"))
           for name in ("redis-errors", "lpush-wrongtype")}
    served = sum(label_deltas(m1, m0, SRV, "outcome", **server()).values())
    check(slo["redis-errors"] == (served - 2 * n - 8, 2 * n + 8),
          f"request_availability on the server: (good, bad) "
          f"{slo['redis-errors']} == ({served - 2 * n - 8}, {2 * n + 8})")
    check(slo["lpush-wrongtype"] == (0, n + 8),
          f"client LPUSHes by WRONGTYPE: (good, bad) "
          f"{slo['lpush-wrongtype']} == (0, {n + 8})")
    calls = diff(c0, c1)
    listed = {"lpush", "incr", "strlen", "getrange", "echo", "object", "set",
              "get"}
    exp = {k: v for k, v in calls.items() if k in listed}
    exp["other"] = sum(v for k, v in calls.items() if k not in listed
                       and k != "info")
    got = label_deltas(m1, m0, CLI, "command", **client("rl_redis_cli"))
    check(got == exp, f"client side by command, lastsave as other: {got} "
          f"== {exp}")
    check(calls.get("lastsave") == n, "LASTSAVE (not in the list) was run")


def top_phase(agent):
    """redline top (batch, JSON, from the agent) shows redis-server's
    requests: rate, no errors, a p99, while redis-benchmark runs."""
    bench = subprocess.Popen(BENCH + ["-t", "get", "-n", "400000", "-c", "4",
                                      "-q"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        out = subprocess.run(
            [os.environ["REDLINE_BIN"], "top", "-b", "-n", "1", "-d", "1",
             "--json", f"--connect={agent.url('')}",
             "--filter=redis-server"],
            capture_output=True, text=True, timeout=60)
    finally:
        bench.terminate()
        bench.wait(timeout=10)
    check(out.returncode == 0, f"redline top ran ({out.stderr[-200:]})")
    rows = [r for r in json.loads(out.stdout.splitlines()[-1])["rows"]
            if r["name"] == "redis-server"]
    check(len(rows) == 1 and rows[0]["requests_per_second"] > 100
          and rows[0]["request_error_pct"] == 0
          and rows[0]["request_p99_seconds"] > 0,
          f"top: redis-server's requests/s, error %, p99: {rows}")


def junk_phase(agent):
    m0 = agent.scrape()
    send_junk(PORT, (b"HELLO THERE\r\n", b"*x\r\n", b"*1\r\n$999\r\nGE",
                     b"\x00\x01\x02\x03" * 10))
    time.sleep(1.2)
    m1 = agent.scrape()
    got = label_deltas(m1, m0, SRV, "command", **server())
    check(got == {}, f"junk and a truncated request are no requests: {got}")


def main():
    require_bpf()
    enter_netns("RL_REDIS_NETNS")
    for exe in ("redis-server", "redis-benchmark", "redis-cli"):
        check(shutil.which(exe) is not None, f"{exe} installed")
    tmp = tempfile.mkdtemp(prefix="rl-redis-")
    srv = None
    try:
        srv = start_redis(PORT, tmp, extra=tls_options(tmp))
        slo_file = os.path.join(tmp, "slo.yaml")
        with open(slo_file, "w") as f:
            f.write(SLOS)
        with Agent("--probes=l7", f"--slo-config={slo_file}",
                   "--refresh-interval=1") as agent:
            check_l7_path(agent.scrape())
            tests = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,mset"
            phase(agent, "one at a time",
                  BENCH + ["-n", "2000", "-c", "10", "-t", tests, "-q"],
                  "redis-benchmark")
            # MSET of 10 keys is ~250 bytes: 16 of them overflow the 1 KiB
            # window (README: what request metrics cannot see).
            phase(agent, "pipelined -P 16",
                  BENCH + ["-n", "4000", "-c", "10", "-P", "16", "-t",
                           tests.replace(",mset", ""), "-q"],
                  "redis-benchmark")
            latency_phase(agent)
            errors_phase(agent, tmp)
            top_phase(agent)
            junk_phase(agent)
        tls_phase(tmp)
    finally:
        if srv:
            srv.terminate()
            srv.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
