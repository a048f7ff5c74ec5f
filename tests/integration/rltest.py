"""Shared helpers for redline's privileged integration tests (stdlib only)."""
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77


def require_bpf():
    """Skips (exit 77) without privileges, fails if REDLINE_REQUIRE_BPF=1."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root (or CAP_BPF+CAP_PERFMON) to load BPF programs"
    elif not os.path.exists("/sys/kernel/btf/vmlinux"):
        reason = "no kernel BTF at /sys/kernel/btf/vmlinux"
    if reason is None:
        return
    if os.environ.get("REDLINE_REQUIRE_BPF") == "1":
        print(f"FAIL: REDLINE_REQUIRE_BPF=1 but {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def enter_netns(flag):
    """Re-runs the calling test in a new network namespace with lo up
    (traffic stays on its own loopback); `flag` marks the inner run."""
    if os.environ.get(flag) == "1":
        return
    env = dict(os.environ, **{flag: "1"})
    r = subprocess.run(["unshare", "-n", "sh", "-c",
                        'ip link set lo up && exec "$0" "$@"',
                        sys.executable, os.path.abspath(sys.argv[0])],
                       env=env)
    sys.exit(r.returncode)


# Python source for workloads run with `python -c` that play both ends of
# a loopback connection: exchange(c, s) sends one HTTP/1.1 request on c,
# reads it on s, answers it and reads the answer on c.
HTTP_EXCHANGE = r"""
REQ = b"GET /k HTTP/1.1\r\nHost: t\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def exchange(c, s):
    c.sendall(REQ)
    got = b""
    while not got.endswith(b"\r\n\r\n"):
        got += s.recv(4096)
    s.sendall(RESP)
    got = b""
    while len(got) < len(RESP):
        got += c.recv(4096)
"""


def python_as(tmp, name, python=None):
    """This Python (or `python`: /usr/bin/python3 for Debian's modules,
    such as grpc) under another name in tmp, so its comm is `name`."""
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        os.symlink(os.path.realpath(python or sys.executable), path)
    return path


def exe_as(tmp, exe, name):
    """exe under another name in tmp (a symlink), so that its comm is
    `name` from exec on, with no rename (rl_sysstorm --comm renames itself
    with prctl after exec, which tests about renames want)."""
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        os.symlink(os.path.realpath(exe), path)
    return path


def quota_cgroup(name, quota_us=20000, period_us=100000):
    """(dir, v2) of a new cgroup `name` whose CPU quota is quota_us per
    period_us: cgroup v2 cpu.max, or v1 cpu.cfs_quota_us where the cpu
    controller is on a v1 hierarchy (hybrid hosts); None without a cpu
    controller. Move a process in through dir/cgroup.procs; the caller
    removes dir (os.rmdir) once its processes have exited."""
    for line in open("/proc/self/mountinfo"):
        pre, post = line.split(" - ")
        mnt, fs, opts = pre.split()[4], post.split()[0], post.split()[2]
        if fs == "cgroup2" and "cpu" in open(
                os.path.join(mnt, "cgroup.controllers")).read().split():
            ctl = os.path.join(mnt, "cgroup.subtree_control")
            if "cpu" not in open(ctl).read().split():
                with open(ctl, "w") as f:
                    f.write("+cpu")
            d = os.path.join(mnt, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "cpu.max"), "w") as f:
                f.write(f"{quota_us} {period_us}")
            return d, True
        if fs == "cgroup" and "cpu" in opts.split(","):
            d = os.path.join(mnt, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "cpu.cfs_period_us"), "w") as f:
                f.write(str(period_us))
            with open(os.path.join(d, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(quota_us))
            return d, False
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, proc=None):
    """Waits up to 10 s for 127.0.0.1:port to accept (sooner fails if
    proc, the server, exited)."""
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
    check(False, f"{what} listening on {port}")


def stop_all(procs, timeout=10):
    """Terminates procs, last started first (a front before its backend);
    kills what has not exited in `timeout` s."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def start_redis(port, tmp, prefix=(), extra=()):
    """A redis-server of this test's own on 127.0.0.1:port (data and log in
    tmp, no persistence), once it accepts connections; prefix: e.g.
    taskset; extra: more options (a TLS port). The caller terminates it."""
    p = subprocess.Popen([*prefix, "redis-server", "--port", str(port),
                          "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                          "--appendonly", "no", "--daemonize", "no",
                          "--logfile", os.path.join(tmp, "redis.log"),
                          *extra])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise AssertionError(f"redis-server did not listen on {port} in 10 s")


PG_BIN = "/usr/lib/postgresql/15/bin"


def start_postgres(port, tmp, prefix=(), conf=()):
    """A PostgreSQL 15 server of this test's own on 127.0.0.1:port: a
    cluster made by initdb in tmp/data (trust authentication, owner the
    `postgres` user the Debian package creates: the server refuses root),
    its socket and log (tmp/postgres.log) in tmp, pg_stat_statements
    loaded; conf: more `name=value` settings. Returns the process once it
    accepts connections; the caller terminates it."""
    os.chmod(tmp, 0o755)
    subprocess.run(["chown", "postgres:", tmp], check=True)
    data = os.path.join(tmp, "data")
    r = subprocess.run(["runuser", "-u", "postgres", "--",
                        f"{PG_BIN}/initdb", "-D", data, "-A", "trust",
                        "-U", "postgres", "--no-sync", "-E", "UTF8"],
                       capture_output=True, text=True)
    if r.returncode:
        raise AssertionError(f"initdb: {r.stderr[-300:]}")
    settings = ["listen_addresses=127.0.0.1", f"port={port}",
                f"unix_socket_directories={tmp}", "fsync=off",
                "synchronous_commit=off", "full_page_writes=off",
                "shared_preload_libraries=pg_stat_statements",
                "pg_stat_statements.track=all", "log_line_prefix=%e ",
                "ssl=off", *conf]
    log = open(os.path.join(tmp, "postgres.log"), "w")
    p = subprocess.Popen([*prefix, "runuser", "-u", "postgres", "--",
                          f"{PG_BIN}/postgres", "-D", data,
                          *[a for kv in settings for a in ("-c", kv)]],
                         stdout=log, stderr=log)
    # Listening is not ready: until its startup ends the server refuses
    # sessions ("the database system is starting up"); pg_isready says
    # when it accepts them.
    for _ in range(300):
        r = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1",
                            "-p", str(port)])
        if r.returncode == 0:
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    raise AssertionError(f"postgres did not accept sessions on {port} in "
                         f"15 s")


def stop_postgres(p, tmp):
    """Stops a server start_postgres started (immediate shutdown: its
    postmaster, whose pid is in postmaster.pid, and so every backend)."""
    try:
        with open(os.path.join(tmp, "data", "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGQUIT)
    except (OSError, ValueError):
        pass
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)


def start_mariadb(port, tmp, prefix=()):
    """A MariaDB server of this test's own on 127.0.0.1:port: a data
    directory made by mariadb-install-db in tmp/data (owner the `mysql`
    user the Debian package creates), its socket (tmp/mysql.sock), error
    log (tmp/mariadb.log), every statement error logged by the SQL error
    log plugin (tmp/data/sql_errors.log), no TLS. The user `rl` (password
    `rl`, mysql_native_password) may connect over TCP. Returns the process
    once it answers; the caller terminates it (stop_mariadb)."""
    os.chmod(tmp, 0o755)
    subprocess.run(["chown", "mysql:", tmp], check=True)
    data = os.path.join(tmp, "data")
    sock = os.path.join(tmp, "mysql.sock")
    opts = ["--no-defaults", f"--datadir={data}", f"--socket={sock}",
            f"--port={port}", "--bind-address=127.0.0.1", "--user=mysql",
            "--skip-name-resolve", "--skip-ssl",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-buffer-pool-size=64M", "--skip-log-bin",
            "--plugin-load-add=sql_errlog", "--sql-error-log-rotations=0",
            f"--log-error={os.path.join(tmp, 'mariadb.log')}",
            f"--pid-file={os.path.join(tmp, 'mariadb.pid')}"]
    r = subprocess.run(["mariadb-install-db", "--no-defaults",
                        f"--datadir={data}", "--user=mysql",
                        "--auth-root-authentication-method=socket",
                        "--skip-test-db"],
                       capture_output=True, text=True)
    if r.returncode:
        raise AssertionError(f"mariadb-install-db: {r.stderr[-300:]}")
    p = subprocess.Popen([*prefix, "mariadbd", *opts],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        r = subprocess.run(["mariadb", "--no-defaults", "-uroot",
                            f"--socket={sock}", "-e",
                            "CREATE USER IF NOT EXISTS rl IDENTIFIED BY 'rl';"
                            "GRANT ALL ON *.* TO rl"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    raise AssertionError(f"mariadbd did not answer in 30 s: {r.stderr[-200:]}")


def stop_mariadb(p):
    stop_all([p], timeout=30)  # InnoDB's shutdown can take a while


UNBOUND_CONF = """server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    num-threads: 1
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{tmp}"
    pidfile: "{tmp}/unbound.pid"
    use-syslog: no
    logfile: "{tmp}/unbound.log"
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    extended-statistics: yes
    statistics-cumulative: yes
    statistics-interval: 0
    # Nothing leaves loopback: every name outside test. is REFUSED (no
    # root hints are ever primed), names under test. are answered from
    # the records below or NXDOMAIN, refused.test. is REFUSED.
    local-zone: "." refuse
    local-zone: "test." static
    local-zone: "refused.test." refuse
    local-data: "a.test. 300 IN A 127.0.0.10"
    local-data: "b.test. 300 IN AAAA fd00::b"
    local-data: "c.test. 300 IN A 127.0.0.12"
    local-data: "c.test. 300 IN AAAA fd00::c"
    local-data: "test. 300 IN MX 10 mx.test."
    local-data: "mx.test. 300 IN A 127.0.0.25"
    local-data: "mx.test. 300 IN MX 10 mx.test."
    local-data: "a.test. 300 IN MX 10 mx.test."
    local-data: 'a.test. 300 IN TXT "redline test"'
    local-data: 'b.test. 300 IN TXT "v=spf1 -all"'
    local-data: "_dns._udp.test. 300 IN SRV 0 0 53 a.test."
    local-data-ptr: "127.0.0.10 a.test."
remote-control:
    control-enable: yes
    control-interface: "{tmp}/unbound.ctl"
    control-use-cert: no
"""


def start_unbound(tmp, port=53, prefix=()):
    """An unbound of this test's own on 127.0.0.1:port, its configuration
    (tmp/unbound.conf), log, pid file and control socket (tmp/unbound.ctl:
    `unbound-control -c tmp/unbound.conf stats_noreset`) in tmp; answers
    only from its local zones (test.: a.test A, b.test AAAA, c.test both,
    MX, TXT, SRV, PTR; other names under test. NXDOMAIN, refused.test.
    and every name outside test. REFUSED), never sends a query anywhere.
    Extended, cumulative statistics. Returns the process once it answers
    unbound-control status; the caller stops it (stop_unbound)."""
    conf = os.path.join(tmp, "unbound.conf")
    with open(conf, "w") as f:
        f.write(UNBOUND_CONF.format(port=port, tmp=tmp))
    r = subprocess.run(["/usr/sbin/unbound-checkconf", conf],
                       capture_output=True, text=True)
    if r.returncode:
        raise AssertionError(f"unbound-checkconf: {r.stdout}{r.stderr}")
    p = subprocess.Popen([*prefix, "/usr/sbin/unbound", "-d", "-c", conf],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    p.conf = conf
    for _ in range(200):
        r = subprocess.run(["/usr/sbin/unbound-control", "-c", conf,
                            "status"], capture_output=True, text=True)
        if r.returncode == 0:
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    log = ""
    try:
        with open(os.path.join(tmp, "unbound.log")) as f:
            log = f.read()[-300:]
    except OSError:
        pass
    raise AssertionError(f"unbound did not answer in 10 s: {r.stdout}"
                         f"{r.stderr} {log}")


def unbound_stats(p):
    """unbound-control stats_noreset of a server start_unbound started:
    {name: value} (num.query.type.A, num.answer.rcode.NXDOMAIN, ...)."""
    r = subprocess.run(["/usr/sbin/unbound-control", "-c", p.conf,
                        "stats_noreset"], capture_output=True, text=True,
                       timeout=10)
    if r.returncode:
        raise AssertionError(f"unbound-control stats_noreset: {r.stderr}")
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def stop_unbound(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)


def redline_bin():
    return os.environ["REDLINE_BIN"]


class Agent:
    def __init__(self, *extra, ssl_context=None):
        """ssl_context: the agent serves https (--web-config-file with TLS);
        readiness is polled on its /healthz with this client context."""
        self.ssl_context = ssl_context
        self.port = free_port()
        self.proc = subprocess.Popen(
            [redline_bin(), "run", f"--listen=127.0.0.1:{self.port}", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"agent exited {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.05)
        # Not entered as a context: __exit__ will not stop it, and an agent
        # left running skews every later test and benchmark on the host.
        self.proc.kill()
        self.proc.wait()
        raise AssertionError("agent did not become ready in 10 s")

    def url(self, path="/metrics"):
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def get(self, path="/metrics"):
        with urllib.request.urlopen(self.url(path), timeout=10,
                                    context=self.ssl_context) as r:
            return r.read().decode()

    def scrape(self):
        return parse_metrics(self.get())

    def stop(self):
        """SIGTERM; returns (exit code, seconds to exit)."""
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.time() - t0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Prometheus:
    """A Debian Prometheus in a temporary dir, scraping `jobs` (job name ->
    host:port) every `interval` seconds; stopped and removed on exit."""

    def __init__(self, jobs, interval="1s", extra=()):
        if not shutil.which("prometheus"):
            check(False, "prometheus is installed (scripts/install-deps.sh)")
        self.tmp = tempfile.mkdtemp(prefix="rl-prom-")
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: {interval}\n"
                    "scrape_configs:\n")
            for job, target in jobs.items():
                f.write(f"  - job_name: {job}\n    static_configs:\n"
                        f"      - targets: ['{target}']\n")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}",
             f"--storage.tsdb.path={self.tmp}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(self, q, at=None):
        args = {"query": q}
        if at is not None:
            args["time"] = f"{at:.3f}"
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode(args))
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)["data"]["result"]

    def scalar(self, q, at=None):
        res = self.query(q, at)
        return float(res[0]["value"][1]) if len(res) == 1 else None

    def wait_up(self, jobs, timeout=60):
        """Until every job's target has been scraped up."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.scalar(f"count(up{{job=~'{'|'.join(jobs)}'}} == 1)") \
                        == len(jobs):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        check(False, f"Prometheus scraped {jobs} within {timeout} s")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def parse_metrics(text):
    """{(name, frozenset(labels.items())): float}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparseable line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    want = set(labels.items())
    return sum(v for (n, l), v in metrics.items() if n == name and want <= set(l))


def series(metrics, name, **labels):
    want = set(labels.items())
    return {l: v for (n, l), v in metrics.items() if n == name and want <= set(l)}


def label_deltas(m1, m0, name, key, **labels):
    """Deltas from scrape m0 to m1 of family name, summed by the value of
    label key, over the series matching labels; zero deltas left out."""
    out = {}
    for l, v in series(m1, name, **labels).items():
        k = dict(l)[key]
        out[k] = out.get(k, 0) + v - m0.get((name, l), 0)
    return {k: int(v) for k, v in out.items() if v}


def by_class(m1, m0, name, **labels):
    """label_deltas by status_class: a request family's new requests per
    class ("2xx", "4xx"...)."""
    return label_deltas(m1, m0, name, "status_class", **labels)


def send_junk(port, payloads):
    """Each payload on a connection of its own to 127.0.0.1:port, reading
    whatever answer comes within 0.5 s."""
    for payload in payloads:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(payload)
            s.settimeout(0.5)
            try:
                s.recv(4096)
            except OSError:
                pass


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}")
        sys.exit(1)
    print(f"ok: {msg}")


def rss_kib(pid):
    """Resident set of a process, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def storm_counted(scrape, n, timeout=20):
    """Runs rl_sysstorm for n getppid calls; returns the count redline
    exports for it once it reaches n, or the last count after timeout."""
    subprocess.run([os.environ["RL_SYSSTORM"], str(n), "0"], check=True,
                   stdout=subprocess.DEVNULL)
    got, deadline = None, time.time() + timeout
    while time.time() < deadline:
        got = sum(series(scrape(), "redline_syscalls_total", comm="rl_sysstorm",
                         syscall="getppid").values())
        if got == n:
            break
        time.sleep(0.3)
    return got


def l7_fallback():
    """True when REDLINE_FAULT_TRACEPOINT makes sock:sock_{send,recv}_length
    look missing: the agent takes socket I/O from sys_exit, as it does on
    kernels before 6.3."""
    return "l7_send=" in os.environ.get("REDLINE_FAULT_TRACEPOINT", "")


def check_l7_path(metrics):
    """The l7 programs attached are those of the path this run expects."""
    got = {dict(l)["program"]
           for l, v in series(metrics, "redline_bpf_program_attached").items()
           if dict(l)["program"].startswith("l7/") and v == 1}
    want = {"l7/l7_state", "l7/l7_destroy"} | ({"l7/l7_exit"} if l7_fallback()
                              else {"l7/l7_send", "l7/l7_recv"})
    check(got == want, f"l7 socket I/O from "
          f"{'sys_exit (fallback)' if l7_fallback() else 'sock tracepoints'}"
          f": attached {sorted(got)}")


def slot(seconds):
    """The kernel's fine slot of a duration: slot s is the native bucket of
    schema 1 (2^((s-61)/2), 2^((s-60)/2)] s (bpf/hist_edges.h)."""
    return math.ceil(2 * math.log2(seconds)) + 60


def hist_quantile_slot(m1, m0, q, name, **labels):
    """The fine slot of quantile q of the _bucket family name over
    m0..m1, and the count it is of."""
    buckets = {}
    for l, v in series(m1, name, **labels).items():
        le = float(dict(l)["le"])
        buckets[le] = buckets.get(le, 0) + v - m0.get((name, l), 0)
    total = buckets[math.inf]
    for le in sorted(buckets):
        if buckets[le] >= q * total:
            return slot(le * 0.999), total
    return None, total


def wrk_percentiles(out):
    """wrk --latency's p50 and p99 in seconds, by "50" and "99"."""
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    got = {}
    for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out,
                              re.M):
        got[p] = float(v) * unit[u]
    return got


def go_tls_expected(n):
    """Status classes of go_tls_helper's `get` over n requests: it asks
    for /, /, /missing, /, /err in turn."""
    out = {}
    for i in range(n):
        c = ("2xx", "2xx", "4xx", "2xx", "5xx")[i % 5]
        out[c] = out.get(c, 0) + 1
    return out


def go_tls_helper(out, strip=False, goarch=None):
    """Builds tests/helpers/go_tls (an HTTPS server and client in Go's own
    crypto/tls; static: CGO_ENABLED=0) into out with Debian's golang-go,
    offline, its cache in the current (build) directory; strip: without
    symbols (-s -w); goarch: for another architecture (arm64)."""
    cache = os.path.join(os.getcwd(), "go-cache")
    env = dict(os.environ, GOCACHE=cache, GOPATH=os.path.join(cache, "path"),
               GOPROXY="off", GOFLAGS="-mod=mod", CGO_ENABLED="0")
    if goarch:
        env["GOARCH"] = goarch
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "helpers", "go_tls")
    flags = ["-ldflags=-s -w"] if strip else []
    r = subprocess.run(["go", "build", *flags, "-o", out, "."], cwd=src,
                       env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise AssertionError(f"go build of {src}: {r.stderr[-400:]}")
