"""grafana_test's workloads: processes that make every family the Grafana
dashboard names appear in the agent's exposition, with errors where a
panel shows an error ratio. All on loopback, in the test's network
namespace; started and stopped by a Workloads."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from rltest import (check, python_as, quota_cgroup,  # noqa
                    start_mariadb, start_postgres, start_redis,
                    start_unbound, stop_mariadb, stop_postgres, stop_unbound)

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "helpers", "http_load.py")
GRPC_ECHO = os.path.join(HERE, "..", "helpers", "grpc_echo.py")
# python3-grpcio is Debian's: its interpreter, whatever runs this test.
DEBIAN_PY = "/usr/bin/python3"
HTTP_PORT, CLOSED_PORT, BULK_PORT = 18380, 18381, 18382
REDIS_PORT = 18383
PG_PORT = 18384
MC_PORT = 18385
MY_PORT = 18386
H2C_PORT, GRPC_PORT = 18387, 18388

# A Redis client: GETs and SETs, and every tenth command a WRONGTYPE error,
# for the dependencies row (rate, error ratio, p99, served by command).
REDIS_CLIENT = """import socket, time
def cmd(*a):
    out = b"*%d\\r\\n" % len(a)
    for x in a:
        out += b"$%d\\r\\n%s\\r\\n" % (len(x), x.encode())
    return out
s = socket.create_connection(("127.0.0.1", {port}))
s.sendall(cmd("SET", "str", "v")); s.recv(100)
i = 0
while True:
    i += 1
    c = cmd("LPUSH", "str", "x") if i % 10 == 0 else cmd("GET", "str")
    s.sendall(c); s.recv(100)
    time.sleep(0.005)
"""

# A PostgreSQL client on the raw protocol: SELECT 1, and every tenth query a
# division by zero (class 22), for the same row.
PG_CLIENT = """import socket, struct, time
def msg(t, body): return t + struct.pack("!I", len(body) + 4) + body
s = socket.create_connection(("127.0.0.1", {port}))
p = b"user\\0postgres\\0database\\0postgres\\0\\0"
s.sendall(struct.pack("!II", len(p) + 8, 196608) + p)
def ready():
    buf = b""
    while not (len(buf) >= 6 and buf[-6:-1] == b"Z\\0\\0\\0\\5"):
        buf += s.recv(65536)
ready()
i = 0
while True:
    i += 1
    q = b"SELECT 1/0" if i % 10 == 0 else b"SELECT 1"
    s.sendall(msg(b"Q", q + b"\\0")); ready()
    time.sleep(0.005)
"""

# A memcached client: sets and gets, every tenth an incr of a string
# (CLIENT_ERROR), for the same row.
MC_CLIENT = """import socket, time
s = socket.create_connection(("127.0.0.1", {port}))
f = s.makefile("rb")
s.sendall(b"set str 0 0 1\\r\\nv\\r\\n"); f.readline()
i = 0
while True:
    i += 1
    if i % 10 == 0:
        s.sendall(b"incr str 1\\r\\n"); f.readline()
    else:
        s.sendall(b"get str\\r\\n"); f.readline(); f.readline(); f.readline()
    time.sleep(0.005)
"""

# Statements for the mariadb command-line client, which reads them from
# this process's output (--force: on after an error): SELECT 1, and every
# tenth a missing table (SQLSTATE 42S02, class 42), for the same row.
MY_STATEMENTS = """import time
i = 0
while True:
    i += 1
    print("SELECT * FROM mysql.no_such_table;" if i % 10 == 0
          else "SELECT 1;", flush=True)
    time.sleep(0.02)
"""

# A DNS client on a connected UDP socket to unbound (rltest.start_unbound's
# zones): a.test A (NOERROR), every tenth a name under refused.test
# (REFUSED, an error) and one an NXDOMAIN (an answer), for the same row.
DNS_CLIENT = """import socket, struct, time
def query(qid, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\\0"
            + struct.pack(">HH", 1, 1))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 53))
s.settimeout(2)
i = 0
while True:
    i += 1
    name = ("x.refused.test" if i % 10 == 0 else
            "nx.test" if i % 10 == 5 else "a.test")
    s.send(query(i & 0xffff, name))
    try:
        s.recv(512)
    except OSError:
        pass
    time.sleep(0.02)
"""

# nginx serving HTTP/2 in plaintext (h2c, prior knowledge): 503 on /busy,
# 200 elsewhere, for the HTTP/2 row.
NGINX_CONF = """daemon off;
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} http2;
        location = /busy {{ return 503; }}
        location / {{ return 200 "ok"; }}
    }}
}}
"""
# One h2load, one h2c connection, ten requests in turn: nine 200s and a
# 503. (curl 7.88 fails a second request on a prior-knowledge connection.)
H2LOAD = ["h2load", "-n", "10", "-c", "1", "-m", "1"] + [
    f"http://127.0.0.1:{H2C_PORT}{path}" for path in ["/"] * 9 + ["/busy"]]

# Keep-alive HTTP client with some 5xx and 404s, plus a refused connect
# (failed connect, reset received) every round; runs until killed.
CLIENT = """import http.client, socket, time
conn = None
while True:
    for path in ("/", "/", "/", "/status/500", "/status/404", "/sleep/20"):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", {port}, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn = None
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", {closed}))
    except OSError:
        pass
    s.close()
    time.sleep(0.1)
"""

# 2 MiB each way over one connection; iptables drops every 10th packet of
# each direction (from the 6th: not the handshake). Not at random: loopback
# passes GSO packets of up to 64 KiB whole, so even with 1400-byte
# segments a direction can be a few dozen packets, none of them dropped
# now and then at 10% (seen in CI: no client-side retransmit).
BULK = """import socket, sys, threading
N = 2 << 20
MSS = (socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(*MSS)
srv.bind(("127.0.0.1", {port}))
srv.listen()
def serve():
    c, _ = srv.accept()
    got = 0
    while got < N:
        got += len(c.recv(65536))
    c.sendall(b"y" * N)
    c.close()
t = threading.Thread(target=serve)
t.start()
s = socket.socket()
s.setsockopt(*MSS)
s.connect(("127.0.0.1", {port}))
s.sendall(b"x" * N)
got = 0
while got < N:
    got += len(s.recv(65536))
s.close()
t.join()
"""


class Background:
    """Runs `cmds` in turn, then waits `pause` seconds, over and over in a
    thread of its own until stopped; failures are kept in errors."""

    def __init__(self, cmds, pause):
        self.cmds, self.pause, self.stop_ev = cmds, pause, threading.Event()
        self.errors = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_ev.is_set():
            for cmd in self.cmds:
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    self.errors.append(f"{cmd[0]}: {r.stderr.strip()[-200:]}")
            self.stop_ev.wait(self.pause)

    def stop(self):
        self.stop_ev.set()
        self.t.join(timeout=30)


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    check(False, f"a server listens on {port}")


class Workloads:
    """Starts every workload (start), keeps the long-running ones until
    stop; tmp: a scratch directory, pg_tmp: one PostgreSQL may own."""

    def __init__(self, tmp, pg_tmp):
        self.tmp, self.pg_tmp = tmp, pg_tmp
        self.my_tmp = tempfile.mkdtemp(prefix="rl-grafana-my-")  # mysql's
        self.procs, self.bg, self.pg = [], [], None
        self.my, self.my_error, self.unbound = None, None, None
        self.my_thread, self.cgroup = None, None

    def start_mariadb(self):
        try:
            self.my = start_mariadb(MY_PORT, self.my_tmp)
        except AssertionError as e:
            self.my_error = str(e)

    def start(self):
        tmp, procs = self.tmp, self.procs
        # MariaDB takes seconds to set up (mariadb-install-db): meanwhile
        # the rest starts.
        self.my_thread = threading.Thread(target=self.start_mariadb)
        self.my_thread.start()
        self.unbound = start_unbound(tmp)
        procs.append(subprocess.Popen([python_as(tmp, "rl_gf_dns"), "-c",
                                       DNS_CLIENT]))
        srv = subprocess.Popen([python_as(tmp, "rl_gf_srv"), LOAD, "serve",
                                str(HTTP_PORT)], stdout=subprocess.PIPE, text=True)
        procs.append(srv)
        check(srv.stdout.readline().strip() == "listening", "HTTP server started")
        procs.append(subprocess.Popen(
            [python_as(tmp, "rl_gf_cli"), "-c",
             CLIENT.format(port=HTTP_PORT, closed=CLOSED_PORT)]))
        procs.append(start_redis(REDIS_PORT, tmp))
        procs.append(subprocess.Popen(
            [python_as(tmp, "rl_gf_redis"), "-c",
             REDIS_CLIENT.format(port=REDIS_PORT)]))
        procs.append(subprocess.Popen(
            ["memcached", "-p", str(MC_PORT), "-l", "127.0.0.1", "-U",
             "0", "-m", "16", "-u", "nobody"]))
        wait_port(MC_PORT)
        procs.append(subprocess.Popen(
            [python_as(tmp, "rl_gf_mc"), "-c",
             MC_CLIENT.format(port=MC_PORT)]))
        self.pg = start_postgres(PG_PORT, self.pg_tmp)
        procs.append(subprocess.Popen(
            [python_as(tmp, "rl_gf_pg"), "-c",
             PG_CLIENT.format(port=PG_PORT)]))
        # Two CPU-bound processes sharing CPU 0: run-queue waits and CPU
        # time for the saturation and USE panels, whatever else runs, and
        # each other's culprits.
        for _ in range(2):
            procs.append(subprocess.Popen(
                [python_as(tmp, "rl_gf_burn"), "-c",
                 "import os\nos.sched_setaffinity(0, {0})\nwhile True: pass"]))
        # A third in a cgroup with a quota of 20% of a CPU: throttled.
        got = quota_cgroup("rl_grafana_test")
        check(got is not None, "a cpu cgroup controller (for a CPU quota)")
        self.cgroup = got[0]
        spin = subprocess.Popen([python_as(tmp, "rl_gf_throttled"), "-c",
                                 "while True: pass"])
        procs.append(spin)
        with open(os.path.join(self.cgroup, "cgroup.procs"), "w") as f:
            f.write(str(spin.pid))
        # The syscall and disk workloads.
        data = os.path.join(tmp, "dd.data")
        self.bg.append(Background(
            [[os.environ["RL_SYSSTORM"], "20000", "200"],
             ["dd", "if=/dev/zero", f"of={data}", "bs=4k", "count=256",
              "oflag=direct", "conv=fsync"],
             ["dd", f"if={data}", "of=/dev/null", "bs=4k", "iflag=direct"]],
            1.0))
        # HTTP/2 (nginx and h2load) and gRPC (grpc_echo.py: Say calls of
        # which one in ten UNAVAILABLE and one NOT_FOUND, and streams).
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=H2C_PORT))
        procs.append(subprocess.Popen(
            ["nginx", "-c", conf, "-p", tmp], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        grpc_srv = subprocess.Popen(
            [python_as(tmp, "rl_gf_grpc_srv", DEBIAN_PY), GRPC_ECHO, "serve",
             str(GRPC_PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        procs.append(grpc_srv)
        check(grpc_srv.stdout.readline().strip() == "listening",
              "gRPC server started")
        procs.append(subprocess.Popen(
            [python_as(tmp, "rl_gf_grpc_cli", DEBIAN_PY), GRPC_ECHO,
             "steady", str(GRPC_PORT), "0.02"]))
        wait_port(H2C_PORT)
        self.bg.append(Background([H2LOAD], 0.5))
        for rule in (f"--dport {BULK_PORT}", f"--sport {BULK_PORT}"):
            subprocess.run(["iptables", "-A", "INPUT", "-i", "lo", "-p", "tcp",
                            *rule.split(), "-m", "statistic", "--mode",
                            "nth", "--every", "10", "--packet", "5", "-j",
                            "DROP"],
                           check=True)
        r = subprocess.run([python_as(tmp, "rl_gf_bulk"), "-c",
                            BULK.format(port=BULK_PORT)], timeout=60)
        check(r.returncode == 0, "bulk transfer with every 10th packet dropped finished")
        subprocess.run(["iptables", "-F", "INPUT"], check=True)
        self.my_thread.join()
        check(self.my is not None, f"MariaDB started {self.my_error or ''}")
        gen = subprocess.Popen([python_as(tmp, "rl_gf_mygen"), "-c",
                                MY_STATEMENTS], stdout=subprocess.PIPE)
        procs.append(gen)
        procs.append(subprocess.Popen(
            ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{MY_PORT}",
             "-url", "-prl", "--force", "-N", "-B"], stdin=gen.stdout,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        gen.stdout.close()

    @property
    def errors(self):
        return [e for b in self.bg for e in b.errors]

    def stop(self):
        """Stops everything started; again, nothing."""
        for b in self.bg:
            b.stop()
        # Clients before their servers.
        for p in reversed(self.procs):
            p.terminate()
            p.wait(timeout=10)
        self.bg, self.procs = [], []
        if self.cgroup:
            for _ in range(50):  # its last process leaves it as it exits
                try:
                    os.rmdir(self.cgroup)
                    break
                except OSError:
                    time.sleep(0.1)
            self.cgroup = None
        if self.pg:
            stop_postgres(self.pg, self.pg_tmp)
            self.pg = None
        if self.my_thread:
            self.my_thread.join()
            self.my_thread = None
        if self.my:
            stop_mariadb(self.my)
            self.my = None
        shutil.rmtree(self.my_tmp, ignore_errors=True)
        if self.unbound:
            stop_unbound(self.unbound)
            self.unbound = None
