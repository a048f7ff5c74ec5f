#!/usr/bin/env python3
"""PostgreSQL request RED, client and server side, against PostgreSQL's
own statistics. In a network namespace the test creates (loopback only),
a PostgreSQL 15 server from Debian with a temporary cluster:

- pgbench (its TPC-B-like script, a fixed transaction count), with the
  simple protocol and with -M prepared (Parse once per statement and
  connection, then Bind/Execute/Sync naming it);
- a raw-protocol client (rl_pg_cli) that makes unique violations (class
  23) with simple and extended queries, a division by zero (22), a syntax
  error (42), pipelined queries, an empty query and a named prepared
  statement run several times;
- junk and a truncated message sent to the port: never requests.

Oracles: pg_stat_statements (calls per statement, by database; its
first keyword is the command; for prepared BEGIN/END, which it counts per
Parse, pgbench's count of transactions) and the server log's ERROR lines
(with the SQLSTATE in their prefix). PostgreSQL forks a backend per connection
after accept: the server side is counted in those backends (labelled
postgres, local_port).

Over TLS (the server with ssl=on and a certificate made here, clients
with sslmode=require, an agent with --tls): pgbench again, the same
oracle, both sides labelled tls="true"; every other phase runs with
sslmode=disable and is tls="false".

With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same holds on the sys_exit path (pg_test_fallback)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (PG_BIN, Agent, check, check_l7_path,  # noqa: E402
                    enter_netns, label_deltas, python_as, require_bpf,
                    send_junk, series, start_postgres, stop_postgres, value)

PORT = 15432
SRV = "redline_postgresql_server_requests_total"
CLI = "redline_postgresql_client_requests_total"
CLI_DUR = "redline_postgresql_client_request_duration_seconds"
UNPARSED = "redline_http_unparsed_total"
EVENTS = "redline_slo_events_total"
CLIENTS, TXNS = 4, 150
SLOS = """slos:
  - name: pg-integrity
    selector: {comm: postgres}
    sli: {kind: request_availability, protocol: postgresql,
          outcomes: ["23"]}
    objective: 99
"""
# The first keyword of a statement, and the synonyms redline folds.
SYNONYMS = {"end": "commit", "start": "begin", "abort": "rollback",
            "table": "select", "values": "select"}
COMMANDS = {"alter", "analyze", "begin", "call", "close", "commit", "copy",
            "create", "deallocate", "declare", "delete", "discard", "do",
            "drop", "execute", "explain", "fetch", "grant", "insert",
            "listen", "lock", "merge", "notify", "prepare", "release",
            "reset", "revoke", "rollback", "savepoint", "select", "set",
            "show", "truncate", "update", "vacuum", "with"}

RAW_CLIENT = r"""
import socket, struct, sys
def msg(t, body): return t + struct.pack("!I", len(body) + 4) + body
def z(s): return s.encode() + b"\0"
def q(sql): return msg(b"Q", z(sql))
def parse(name, sql): return msg(b"P", z(name) + z(sql) + b"\0\0")
def bind(name, *params):
    body = z("") + z(name) + b"\0\0" + struct.pack("!H", len(params))
    for p in params:
        body += struct.pack("!I", len(p)) + p.encode()
    return msg(b"B", body + b"\0\0")
EXECUTE = msg(b"E", z("") + b"\0\0\0\0")
SYNC = msg(b"S", b"")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
buf = b""
def until_ready(n=1):
    global buf
    errors = []
    while n:
        while len(buf) < 5 or len(buf) < 1 + struct.unpack("!I", buf[1:5])[0]:
            data = s.recv(65536)
            if not data:
                raise SystemExit("server closed")
            buf += data
        t, l = buf[:1], struct.unpack("!I", buf[1:5])[0]
        body, buf = buf[5:1 + l], buf[1 + l:]
        if t == b"E":
            code = [f[1:] for f in body.split(b"\0") if f[:1] == b"C"][0]
            errors.append(code.decode())
        if t == b"Z":
            n -= 1
    return errors
params = z("user") + z("postgres") + z("database") + z("postgres") + b"\0"
s.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
until_ready()
n = int(sys.argv[2])
errs = []
s.sendall(q("CREATE TABLE rl_t (id int PRIMARY KEY)")); errs += until_ready()
s.sendall(q("INSERT INTO rl_t VALUES (1)")); errs += until_ready()
for i in range(n):
    s.sendall(q("insert into rl_t values (1)")); errs += until_ready()
    s.sendall(parse("", "INSERT INTO rl_t VALUES ($1)") + bind("", "1")
              + EXECUTE + SYNC)
    errs += until_ready()
s.sendall(q("SELECT 1/0")); errs += until_ready()
s.sendall(q("SELEC 1")); errs += until_ready()
s.sendall(q("")); errs += until_ready()
s.sendall(q("/* pipelined */ SELECT 1") * 4); errs += until_ready(4)
s.sendall(parse("rl_s1", "SELECT $1::int") + SYNC); errs += until_ready()
for i in range(5):
    s.sendall(bind("rl_s1", str(i)) + EXECUTE + SYNC); errs += until_ready()
s.sendall(msg(b"X", b""))
print(" ".join(errs), flush=True)
"""


def psql(sql, db="postgres"):
    r = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-A", "-t", "-h",
                        "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-d",
                        db, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0, f"psql {sql[:40]}: {r.stderr[-200:]}")
    return r.stdout


def first_keyword(query):
    """Reference for the classifier's command: the statement's first word
    past blanks, '(' and comments, lowercase, synonyms folded."""
    q = query
    while True:
        q = q.lstrip(" \t\r\n(")
        if q.startswith("/*"):
            q = q[q.find("*/") + 2:] if "*/" in q else ""
        elif q.startswith("--"):
            q = q[q.find("\n") + 1:] if "\n" in q else ""
        else:
            break
    m = re.match(r"[A-Za-z]+", q)
    word = m.group(0).lower() if m else ""
    word = SYNONYMS.get(word, word)
    return word if word in COMMANDS else "other"


def statements(db=None):
    """pg_stat_statements' calls by command, in database db (all if None).
    The query that reads them is not among them."""
    where = (f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = "
             f"'{db}')" if db else "")
    out = {}
    for line in psql(f"SELECT calls, query FROM pg_stat_statements {where}"
                     ).split("\n"):
        if "|" not in line:
            continue
        calls, query = line.split("|", 1)
        cmd = first_keyword(query)
        out[cmd] = out.get(cmd, 0) + int(calls)
    return out


def server(**labels):
    return dict(comm="postgres", local_port=str(PORT), **labels)


def client(comm):
    return dict(comm=comm, remote=f"127.0.0.1:{PORT}")


def add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


def bench_phase(agent, mode, tls="false"):
    """pgbench's statements per command, on both sides, equal
    pg_stat_statements' calls; with -M prepared, one Parse round trip per
    statement of its script and connection ("parse")."""
    m0 = agent.scrape()
    how = f"-M {mode}" + (" over TLS" if tls == "true" else "")
    psql("SELECT pg_stat_statements_reset()")
    out = subprocess.run(["pgbench", "-n", "-r", "-h", "127.0.0.1", "-p",
                          str(PORT), "-U", "postgres", "-c", str(CLIENTS),
                          "-t", str(TXNS), "-M", mode, "bench"],
                         capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, f"pgbench -M {mode} ran "
          f"({out.stderr[-300:]})")
    bench = statements("bench")
    every = statements()
    time.sleep(1.2)
    m1 = agent.scrape()
    check(bench.get("update", 0) == 3 * CLIENTS * TXNS,
          f"{how}: pg_stat_statements counted pgbench's UPDATEs {bench}")
    parses = {"parse": 7 * CLIENTS} if mode == "prepared" else {}
    if mode == "prepared":
        # pg_stat_statements 15 counts a prepared utility statement (BEGIN,
        # END) once per Parse, not per Execute (seen: once per connection);
        # pgbench's own count of transactions is the oracle for those.
        txns = int(re.search(r"transactions actually processed: (\d+)",
                             out.stdout).group(1))
        check(txns == CLIENTS * TXNS, f"pgbench ran {txns} transactions")
        missed = {k: txns - bench[k] for k in ("begin", "commit")}
        bench, every = add(bench, missed), add(every, missed)
    want = add(bench, parses)
    got = label_deltas(m1, m0, CLI, "command", **client("pgbench"), tls=tls)
    check(got == want, f"{how}: pgbench's client side by command {got} "
          f"== pg_stat_statements {want}")
    # The server answered the reset (counted by pg_stat_statements after
    # it ran), pgbench, and the two reads: a statement is counted when it
    # ends, so the second read sees the first but not itself.
    want = add(add(every, parses), {"select": 1})
    got = label_deltas(m1, m0, SRV, "command", **server(), tls=tls)
    check(got == want, f"{how}: server side by command {got} == "
          f"pg_stat_statements (+ the last read) {want}")
    outcomes = label_deltas(m1, m0, SRV, "outcome", **server(), tls=tls)
    check(set(outcomes) == {"ok"}, f"{how}: no errors {outcomes}")
    latency(m1, m0, how, out.stdout)


def latency(m1, m0, how, report):
    """pgbench -r's mean latency per statement, by command, within a
    bucket's width (sqrt(2): the histograms' schema 1) of redline's
    client-side mean (_sum / _count) for pgbench: both time a statement
    from its send to its result."""
    tool = {}  # PostgreSQL 15: latency, failures, statement
    for ms, stmt in re.findall(r"^\s+([0-9.]+)\s+\d+\s+(\S.*)$",
                               report, re.M):
        tool.setdefault(first_keyword(stmt), []).append(float(ms) / 1e3)
    check(set(tool) >= {"update", "select", "insert"},
          f"{how}: pgbench reported statement latencies {sorted(tool)}")
    for cmd in ("update", "select", "insert"):
        want = sum(tool[cmd]) / len(tool[cmd])
        n, total = (sum(series(m1, f"{CLI_DUR}_{k}", command=cmd,
                               **client("pgbench")).values())
                    - sum(series(m0, f"{CLI_DUR}_{k}", command=cmd,
                                 **client("pgbench")).values())
                    for k in ("count", "sum"))
        got = total / n
        check(want / 2 ** 0.5 <= got <= want * 2 ** 0.5,
              f"{how}: {cmd} mean {got * 1e6:.0f} us within sqrt(2) of "
              f"pgbench's {want * 1e6:.0f} us")


def log_errors(tmp):
    """The server log's ERROR lines by SQLSTATE class (log_line_prefix
    '%e ': the code first)."""
    out = {}
    with open(os.path.join(tmp, "postgres.log")) as f:
        for line in f:
            m = re.match(r"([0-9A-Z]{5}) ERROR:", line)
            if m:
                out[m.group(1)[:2]] = out.get(m.group(1)[:2], 0) + 1
    return out


def errors_phase(agent, tmp):
    m0 = agent.scrape()
    e0 = log_errors(tmp)
    n = 20
    out = subprocess.run([python_as(tmp, "rl_pg_cli"), "-c", RAW_CLIENT,
                          str(PORT), str(n)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, f"raw client ran ({out.stderr[-300:]})")
    time.sleep(1.2)
    m1 = agent.scrape()
    e1 = log_errors(tmp)
    errs = {k: e1.get(k, 0) - e0.get(k, 0) for k in e1
            if e1.get(k, 0) != e0.get(k, 0)}
    check(errs == {"23": 2 * n, "22": 1, "42": 1},
          f"server log: ERROR lines by class {errs} (client saw "
          f"{len(out.stdout.split())} errors)")
    for labels, who in ((server(), "server"), (client("rl_pg_cli"),
                                                "client")):
        name = SRV if who == "server" else CLI
        got = label_deltas(m1, m0, name, "outcome", **labels)
        got.pop("ok", None)
        check(got == errs, f"{who} side by SQLSTATE class {got} == the "
              f"server log's {errs}")
    want = {"create": 1, "insert": 1 + 2 * n, "select": 1 + 4 + 5,
            "other": 2, "parse": 1}
    got = label_deltas(m1, m0, CLI, "command", **client("rl_pg_cli"))
    check(got == want, f"client side by command {got} == {want}")
    bad = value(m1, EVENTS, slo="pg-integrity", outcome="bad") - \
        value(m0, EVENTS, slo="pg-integrity", outcome="bad")
    check(bad == 2 * n, f"request_availability on class 23: {bad} bad "
          f"events == {2 * n} unique violations")


def junk_phase(agent):
    m0 = agent.scrape()
    send_junk(PORT, (b"HELLO THERE\r\n", b"Q\0\0\0\x40SELECT",
                     b"\x00\x01\x02\x03" * 10))
    time.sleep(1.2)
    m1 = agent.scrape()
    got = label_deltas(m1, m0, SRV, "command", **server())
    check(got == {}, f"junk and a truncated message are no requests: {got}")


def tls_phase():
    """pgbench over TLS, the clients' libpq and the backends' libssl
    probed by an agent with --tls; psql too, so that every statement the
    server counts is a TLS one."""
    os.environ["PGSSLMODE"] = "require"
    try:
        with Agent("--probes=l7", "--tls", "--refresh-interval=1") as agent:
            m0 = agent.scrape()
            check(value(m0, "redline_tls_library_files", library="openssl")
                  >= 1, "the server's libssl probed")
            bench_phase(agent, "simple", tls="true")
            m1 = agent.scrape()
            for kind in ("tls_unmapped", "tls_stale"):
                d = value(m1, UNPARSED, kind=kind) - value(m0, UNPARSED,
                                                           kind=kind)
                check(d == 0, f"over TLS nothing unmapped: {kind} +{d:.0f}")
            plain = label_deltas(m1, m0, SRV, "command", **server(),
                                 tls="false")
            check(plain == {}, f"no plaintext request seen: {plain}")
    finally:
        os.environ["PGSSLMODE"] = "disable"


def main():
    require_bpf()
    enter_netns("RL_PG_NETNS")
    check(os.path.exists(f"{PG_BIN}/postgres") and shutil.which("pgbench"),
          "postgresql-15 and pgbench installed")
    tmp = tempfile.mkdtemp(prefix="rl-pg-")
    srv = None
    os.environ["PGSSLMODE"] = "disable"  # the server offers TLS
    try:
        cert, key = (os.path.join(tmp, f) for f in ("cert.pem", "key.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        subprocess.run(["chown", "postgres:", cert, key], check=True)
        os.chmod(key, 0o600)
        srv = start_postgres(PORT, tmp, conf=(
            "ssl=on", f"ssl_cert_file={cert}", f"ssl_key_file={key}"))
        psql("CREATE EXTENSION pg_stat_statements")
        psql("CREATE DATABASE bench")
        r = subprocess.run(["pgbench", "-i", "-q", "-s", "1", "-h",
                            "127.0.0.1", "-p", str(PORT), "-U", "postgres",
                            "bench"], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, f"pgbench -i ({r.stderr[-200:]})")
        slo_file = os.path.join(tmp, "slo.yaml")
        with open(slo_file, "w") as f:
            f.write(SLOS)
        with Agent("--probes=l7", f"--slo-config={slo_file}",
                   "--refresh-interval=1") as agent:
            check_l7_path(agent.scrape())
            bench_phase(agent, "simple")
            bench_phase(agent, "prepared")
            errors_phase(agent, tmp)
            junk_phase(agent)
        tls_phase()
    finally:
        if srv:
            stop_postgres(srv, tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
