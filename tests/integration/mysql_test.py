#!/usr/bin/env python3
"""MySQL/MariaDB request RED, client and server side, against MariaDB's
own statistics. In a network namespace the test creates (loopback only),
a MariaDB 10.11 server from Debian with a temporary data directory:

- sysbench oltp_read_write (a fixed event count, 4 threads), with
  server-side prepared statements (COM_STMT_PREPARE, then
  COM_STMT_EXECUTE by id) and with plain COM_QUERY;
- a raw-protocol client (rl_my_cli), once with CLIENT_DEPRECATE_EOF and
  once without (result sets end in an OK or in a second EOF packet):
  duplicate keys (SQLSTATE 23000), a missing table (42S02), a syntax
  error (42000), a SIGNAL of class 45 (not in the list: "error"), a
  multi-statement query and a CALL (more results in one response), a
  20,000-row result set (past the walk's reach, headers split across
  reads), a prepared statement run by id, COM_PING, and DO SLEEP(0.05)
  five times (a known duration);
- sysbench oltp_point_select (one prepared SELECT per event, one thread,
  --histogram): its own latency distribution's p50 and p99 against the
  client-side histogram redline kept for it (within one fine slot; two
  for p99), and the count against Com_select;
- junk sent to the port: never a request.

Oracles: SHOW GLOBAL STATUS's Com_* counters (statements by command, on
the server) and the SQL error log plugin's lines (each failed statement
and its error code). MariaDB reads a packet's header, then its body, in
two reads: the server side is counted from those.

With REDLINE_FAULT_TRACEPOINT making sock:sock_{send,recv}_length look
missing, the same holds on the sys_exit path (mysql_test_fallback)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, check_l7_path, enter_netns,  # noqa: E402
                    hist_quantile_slot, label_deltas, python_as, require_bpf,
                    send_junk, series, slot, start_mariadb, stop_mariadb,
                    value)

PORT = 13306
SRV = "redline_mysql_server_requests_total"
CLI = "redline_mysql_client_requests_total"
DUR = "redline_mysql_{}_request_duration_seconds"
EVENTS = "redline_slo_events_total"
THREADS, EVENTS_N = 4, 100
SLOS = """slos:
  - name: mysql-integrity
    selector: {comm: mariadbd}
    sli: {kind: request_availability, protocol: mysql, outcomes: ["23"]}
    objective: 99
"""
# Com_* counters and the command redline names each statement by.
COM = {"Com_select": "select", "Com_insert": "insert",
       "Com_update": "update", "Com_delete": "delete",
       "Com_begin": "begin", "Com_commit": "commit",
       "Com_stmt_prepare": "prepare", "Com_show_status": "show",
       "Com_create_table": "create", "Com_create_procedure": "create",
       "Com_drop_table": "drop", "Com_call_procedure": "call",
       "Com_signal": "other", "Com_admin_commands": "ping"}
# The error codes the raw client makes (and sysbench may: a deadlock, a
# lock wait timeout, a changed record), and their SQLSTATE classes.
CODE_CLASS = {"1062": "23", "1146": "42", "1064": "42", "1644": "error",
              "1213": "40", "1205": "HY", "1020": "HY"}

RAW_CLIENT = r"""
import hashlib, socket, struct, sys, time
DEPRECATE_EOF = sys.argv[2] == "1"
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
buf = b""
def packet():
    global buf
    while len(buf) < 4 or len(buf) < 4 + int.from_bytes(buf[:3], "little"):
        data = s.recv(65536)
        if not data:
            raise SystemExit("server closed")
        buf += data
    n = int.from_bytes(buf[:3], "little")
    p, buf = buf[4:4 + n], buf[4 + n:]
    return p
def send(seq, body):
    s.sendall(len(body).to_bytes(3, "little") + bytes([seq]) + body)
def lenenc(p, i):
    c = p[i]
    if c < 0xfb: return c, i + 1
    k = {0xfc: 2, 0xfd: 3, 0xfe: 8}[c]
    return int.from_bytes(p[i + 1:i + 1 + k], "little"), i + 1 + k
def ok_more(p):
    _, i = lenenc(p, 1); _, i = lenenc(p, i)
    return struct.unpack("<H", p[i:i + 2])[0] & 8
def is_end(p):
    return p[:1] == b"\xfe" and len(p) < 0xffffff and (
        len(p) < 9 or DEPRECATE_EOF)
errors = []
def response():
    # Packets to the response's end; the SQLSTATE of an ERR, if any.
    while True:
        p = packet()
        if p[0] == 0xff:
            errors.append(p[4:9].decode()); return
        if p[0] == 0x00:
            if ok_more(p): continue
            return
        if p[0] == 0xfe and len(p) < 9:
            if struct.unpack("<H", p[3:5])[0] & 8: continue
            return
        ncol, _ = lenenc(p, 0)
        for _ in range(ncol): packet()
        if not DEPRECATE_EOF: packet()
        rows = 0
        while True:
            p = packet()
            if p[0] == 0xff:
                errors.append(p[4:9].decode()); return
            if is_end(p): break
            rows += 1
        more = (ok_more(p) if len(p) >= 7 and DEPRECATE_EOF
                else struct.unpack("<H", p[3:5])[0] & 8)
        if not more:
            return
def query(sql):
    send(0, b"\x03" + sql.encode()); response()
greeting = packet()
i = greeting.index(b"\0", 1) + 1 + 4
scramble = greeting[i:i + 8]
i += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
scramble += greeting[i:i + 12]
caps = (1 | 8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000
        | 0x80000 | (0x1000000 if DEPRECATE_EOF else 0))
h1 = hashlib.sha1(b"rl").digest()
auth = bytes(a ^ b for a, b in zip(
    h1, hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()))
send(1, struct.pack("<IIB", caps, 1 << 24, 33) + b"\0" * 23 + b"rl\0"
     + bytes([len(auth)]) + auth + b"rltest\0mysql_native_password\0")
p = packet()
if p[0] != 0:
    raise SystemExit(f"login failed: {p!r}")
n = int(sys.argv[3])
for i in range(n):
    query("insert into t values (1)")
query("SELECT * FROM no_such_table")
query("SELEC 1")
query("SIGNAL SQLSTATE '45000'")
query("select 1; select 2; insert into t values (1)")
query("CALL p()")
query("SELECT seq, 'some padding to make rows longer' FROM seq_1_to_20000")
send(0, b"\x16" + b"SELECT ? + 1")
p = packet()
stmt, ncol, npar = struct.unpack("<IHH", p[1:9])
for _ in range(npar + ncol): packet()
if not DEPRECATE_EOF:
    for _ in range((npar > 0) + (ncol > 0)): packet()
for i in range(5):
    send(0, b"\x17" + struct.pack("<IBI", stmt, 0, 1) + b"\x00\x01"
         + b"\x08\x00" + struct.pack("<q", i))
    response()
send(0, b"\x19" + struct.pack("<I", stmt))  # COM_STMT_CLOSE: no answer
send(0, b"\x0e"); response()  # COM_PING
t0 = time.monotonic()
for i in range(5):
    query("DO SLEEP(0.05)")
print(" ".join(errors), round((time.monotonic() - t0) / 5, 4), flush=True)
send(0, b"\x01")  # COM_QUIT
"""


def sql(q):
    r = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1",
                        f"-P{PORT}", "-url", "-prl", "-N", "-B", "-e", q],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"mariadb -e {q[:40]}: {r.stderr[-200:]}")
    return r.stdout


def com_status():
    """SHOW GLOBAL STATUS's Com_* counters, by redline's command name.
    The SHOW that reads them counts itself."""
    out = {}
    for line in sql("SHOW GLOBAL STATUS LIKE 'Com\\_%'").splitlines():
        k, v = line.split("\t")
        if k in COM and int(v):
            out[COM[k]] = out.get(COM[k], 0) + int(v)
    return out


def diff(a, b):
    return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)
            if a.get(k, 0) != b.get(k, 0)}


def server(**labels):
    return dict(comm="mariadbd", local_port=str(PORT), **labels)


def client(comm):
    return dict(comm=comm, remote=f"127.0.0.1:{PORT}")


SYSBENCH = ["sysbench", "--db-driver=mysql", "--mysql-host=127.0.0.1",
            f"--mysql-port={PORT}", "--mysql-user=rl", "--mysql-password=rl",
            "--mysql-db=sbtest", "--tables=1", "--table-size=1000"]


def bench_phase(agent, tmp, mode):
    """sysbench's statements by command, on both sides, equal the
    server's Com_* counters (a prepared statement's executions count as
    their statement's command there, as in redline)."""
    c0 = com_status()
    e0 = log_errors(tmp)
    m0 = agent.scrape()
    out = subprocess.run([*SYSBENCH, "oltp_read_write", f"--threads={THREADS}",
                          f"--events={EVENTS_N}", "--time=0",
                          f"--db-ps-mode={mode}", "run"],
                         capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, f"sysbench --db-ps-mode={mode} ran "
          f"({out.stderr[-300:]})")
    time.sleep(1.2)
    m1 = agent.scrape()
    c1 = com_status()
    errs = diff(log_errors(tmp), e0)
    want = diff(c1, c0)
    want["show"] -= 1  # the second SHOW counts itself, not yet answered
    want = {k: v for k, v in want.items() if v}
    n = int(re.search(r"transactions:\s+(\d+)", out.stdout).group(1))
    check(n == EVENTS_N and want.get("commit") == n,
          f"{mode}: sysbench ran {n} transactions, Com_* {want}")
    got = label_deltas(m1, m0, CLI, "command", **client("sysbench"))
    bench = {k: v for k, v in want.items() if k != "show"}
    check(got == bench, f"{mode}: sysbench's client side by command {got} "
          f"== Com_* {bench}")
    got = label_deltas(m1, m0, SRV, "command", **server())
    check(got == want, f"{mode}: server side by command {got} == Com_* "
          f"(and the first SHOW) {want}")
    # Four threads on one table deadlock now and then: sysbench ignores
    # (and retries) 1213, 1205 and 1020, and counts them. The SQL error log
    # has their codes (a prepared statement's error twice: seen with 1213).
    ignored = int(re.search(r"ignored errors:\s+(\d+)", out.stdout).group(1))
    for labels, name in ((server(), SRV), (client("sysbench"), CLI)):
        got = label_deltas(m1, m0, name, "outcome", **labels)
        got.pop("ok", None)
        check(sum(got.values()) == ignored and set(got) == set(errs),
              f"{mode}: {name} errors by class {got}: sysbench's {ignored} "
              f"ignored errors, of the SQL error log's classes {errs}")


def sysbench_histogram(out):
    """sysbench --histogram's rows: sorted [(seconds, events)]."""
    body = out.split("Latency histogram (values are in milliseconds)")[1]
    rows = re.findall(r"^\s+([\d.]+) \|\**\s+(\d+)$", body, re.M)
    return sorted((float(v) * 1e-3, int(n)) for v, n in rows)


def latency_phase(agent):
    n = 2000
    c0, m0 = com_status(), agent.scrape()
    out = subprocess.run([*SYSBENCH, "oltp_point_select", "--threads=1",
                          f"--events={n}", "--time=0", "--db-ps-mode=auto",
                          "--histogram=on", "run"],
                         capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, f"sysbench oltp_point_select ran "
          f"({out.stderr[-300:]})")
    time.sleep(1.2)
    m1, c1 = agent.scrape(), com_status()
    selects = diff(c1, c0).get("select", 0)
    got = label_deltas(m1, m0, CLI, "command", **client("sysbench"))
    check(selects == n and got.get("select") == n,
          f"point selects: Com_select +{selects}, sysbench's client side "
          f"{got} (want {n} select)")
    hist = sysbench_histogram(out.stdout)
    check(sum(c for _, c in hist) == n,
          f"sysbench's histogram holds its {n} events "
          f"({sum(c for _, c in hist)})")
    name = DUR.format("client") + "_bucket"
    for q, tol in ((0.5, 1), (0.99, 2)):
        seen, tool = 0, None
        for v, c in hist:
            seen += c
            if seen >= q * n:
                tool = v
                break
        got_slot, total = hist_quantile_slot(m1, m0, q, name, command="select",
                                             **client("sysbench"))
        check(total == n and got_slot is not None and
              abs(got_slot - slot(tool)) <= tol,
              f"sysbench p{q * 100:.0f} {tool * 1e6:.0f} us (slot "
              f"{slot(tool)}): redline's client slot {got_slot} (of "
              f"{total:.0f}) within {tol}")


def log_errors(tmp):
    """The SQL error log's lines by SQLSTATE class of their code."""
    out = {}
    path = os.path.join(tmp, "data", "sql_errors.log")
    if not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for m in re.finditer(r" ERROR (\d+):", f.read()):
            cls = CODE_CLASS.get(m.group(1), "code " + m.group(1))
            out[cls] = out.get(cls, 0) + 1
    return out


def slower_than(m1, m0, fam, edge, **labels):
    """Requests from scrape m0 to m1 in histogram fam slower than the
    largest bucket edge <= edge, over the series matching labels."""
    under = {}  # series (labels without le) -> (le, cumulative delta)
    for k, v in series(m1, f"{fam}_bucket", **labels).items():
        le = float(dict(k)["le"])
        rest = frozenset(x for x in k if x[0] != "le")
        if le <= edge and le >= under.get(rest, (-1, 0))[0]:
            under[rest] = (le, v - m0.get((f"{fam}_bucket", k), 0))
    total = sum(v - m0.get((f"{fam}_count", k), 0) for k, v in
                series(m1, f"{fam}_count", **labels).items())
    return int(total - sum(c for _, c in under.values()))


def raw_phase(agent, tmp, deprecate_eof):
    mode = "CLIENT_DEPRECATE_EOF" if deprecate_eof else "classic EOF"
    n = 10
    m0 = agent.scrape()
    e0 = log_errors(tmp)
    out = subprocess.run([python_as(tmp, "rl_my_cli"), "-c", RAW_CLIENT,
                          str(PORT), "1" if deprecate_eof else "0", str(n)],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"{mode}: raw client ran ({out.stderr[-300:]})")
    time.sleep(1.2)
    m1 = agent.scrape()
    errs = diff(log_errors(tmp), e0)
    check(errs == {"23": n + 1, "42": 2, "error": 1},
          f"{mode}: SQL error log by class {errs} (client saw "
          f"{out.stdout.strip()})")
    for labels, name in ((server(), SRV), (client("rl_my_cli"), CLI)):
        got = label_deltas(m1, m0, name, "outcome", **labels)
        got.pop("ok", None)
        check(got == errs, f"{mode}: {name} by SQLSTATE class {got} == the "
              f"SQL error log's {errs}")
    # 10 inserts; the multi-statement query is one select (that fails at
    # its third statement); the CALL's result set and final OK are one
    # response, the 20,000 rows one select; the prepared SELECT runs 5
    # times by id; SELEC and SIGNAL are "other"; 5 DO SLEEP; COM_STMT_CLOSE
    # and COM_QUIT get no answer.
    want = {"insert": n, "select": 1 + 1 + 1 + 5, "other": 2,
            "call": 1, "prepare": 1, "ping": 1, "do": 5}
    got = label_deltas(m1, m0, CLI, "command", **client("rl_my_cli"))
    check(got == want, f"{mode}: client side by command {got} == {want}")
    got = label_deltas(m1, m0, SRV, "command", **server())
    check(got == want, f"{mode}: server side by command {got} == {want}")
    # DO SLEEP(0.05): 50 ms each; every one slower than 40 ms, none slower
    # than 0.5 s (a loaded machine may add some).
    for who, labels in (("client", client("rl_my_cli")), ("server", server())):
        slower = {edge: slower_than(m1, m0, DUR.format(who), edge,
                                    command="do", **labels)
                  for edge in (0.04, 0.5)}
        check(slower == {0.04: 5, 0.5: 0}, f"{mode}: {who} DO SLEEP(0.05) "
              f"slower than 40 ms, 0.5 s: {slower} (5 sleeps of 50 ms)")
    bad = value(m1, EVENTS, slo="mysql-integrity", outcome="bad") - \
        value(m0, EVENTS, slo="mysql-integrity", outcome="bad")
    check(bad == n + 1, f"{mode}: request_availability on class 23: {bad} "
          f"bad events == {n + 1} duplicate keys")


def junk_phase(agent):
    m0 = agent.scrape()
    send_junk(PORT, (b"HELLO THERE\r\n", b"\x40\x00\x00\x00\x03SELECT",
                     b"\x00\x01\x02\x03" * 10))
    time.sleep(1.2)
    m1 = agent.scrape()
    got = label_deltas(m1, m0, SRV, "command", **server())
    check(got == {}, f"junk and a truncated packet are no requests: {got}")


def main():
    require_bpf()
    enter_netns("RL_MYSQL_NETNS")
    check(shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd"),
          "mariadb-server installed")
    check(shutil.which("sysbench"), "sysbench installed")
    os.environ["PATH"] += ":/usr/sbin"
    tmp = tempfile.mkdtemp(prefix="rl-mysql-")
    srv = None
    try:
        srv = start_mariadb(PORT, tmp)
        sql("CREATE DATABASE sbtest; CREATE DATABASE rltest;"
            "CREATE TABLE rltest.t (id int PRIMARY KEY);"
            "INSERT INTO rltest.t VALUES (1);"
            "CREATE PROCEDURE rltest.p() SELECT 1")
        r = subprocess.run([*SYSBENCH, "oltp_read_write", "prepare"],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"sysbench prepare ({r.stderr[-200:]})")
        slo_file = os.path.join(tmp, "slo.yaml")
        with open(slo_file, "w") as f:
            f.write(SLOS)
        with Agent("--probes=l7", f"--slo-config={slo_file}",
                   "--refresh-interval=1") as agent:
            check_l7_path(agent.scrape())
            bench_phase(agent, tmp, "auto")
            bench_phase(agent, tmp, "disable")
            raw_phase(agent, tmp, deprecate_eof=True)
            raw_phase(agent, tmp, deprecate_eof=False)
            latency_phase(agent)
            junk_phase(agent)
    finally:
        if srv:
            stop_mariadb(srv)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
