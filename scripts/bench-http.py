#!/usr/bin/env python3
"""Benchmarks the cost of redline's HTTP request tracking (issue 6 target):
nginx (one worker, static file) under `wrk -c 32` on loopback in a network
namespace, with no agent and with `redline run --probes=PROBES`, interleaved
over R rounds; ratio of median requests/s (target: at least 0.95). Also
reports the agent's CPU per second of load and, in a last round with
kernel.bpf_stats_enabled, the mean ns per run of the l7 programs. Needs
root, nginx and wrk (scripts/install-deps.sh) and a build.

With --each (issue 19's cost table): one agent per probe set of EACH
(default: every probe alone, l7,tcp,sched, and all), interleaved with no
agent and the floors in every round (an empty sys_exit program; the
sys_enter/sys_exit pair reading the clock, the least any syscall latency
tool does; empty socket tracepoint programs; for a set with l7 and other
probes, those probes plus the empty socket programs, and those probes plus
the minimal request tracker of bench-redis.py --floor-track); prints a
Markdown table of the ratio per set, the README's table of what each
probe costs.

With --tls (issue 21's target: at least 0.85): nginx over HTTPS (a
certificate made here), wrk over keep-alive TLS connections, the agent
with --tls; --floor then attaches empty uprobes where the tls probe puts
its own (redline_floor_bench ssl, nginx's libssl), and the ns each uprobe
hit costs nginx is estimated from the rates and the hits per request.

usage: scripts/bench-http.py [--build DIR] [--rounds R] [--seconds S]
                             [--probes LIST] [--baseline-probes LIST]
                             [--floor] [--tls] [--each [SETS]]
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402

PORT = 18180
# nginx's worker on CPU 0 and wrk on the others, so the two do not trade
# places at random between rounds (the main source of noise on 2 cores).
NCPU = os.cpu_count() or 1
TASKSET_NGINX = ["taskset", "-c", "0"] if NCPU > 1 else []
TASKSET_WRK = ["taskset", "-c", f"1-{NCPU - 1}"] if NCPU > 1 else []
WRK_THREADS = max(1, NCPU - 1)
CONF = """daemon off;
worker_processes 1;
user root;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{ listen 127.0.0.1:{port}{ssl}; root {tmp}/www; }}
}}
"""
SSL_CONF = """ ssl;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem"""
SCHEME = "http"
EACH_DEFAULT = "syscalls sched block tcp l7 l7,tcp,sched all"


def wrk(seconds):
    out = subprocess.run(TASKSET_WRK + ["wrk", f"-t{WRK_THREADS}", "-c32",
                          f"-d{seconds}s", f"{SCHEME}://127.0.0.1:{PORT}/"],
                         check=True,
                         capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


class Floor:
    """bpftrace with an empty raw_syscalls:sys_exit program: what any
    syscall-tracepoint tool costs before it does anything. Without
    bpftrace, redline_floor_bench's empty tp_btf sys_enter/sys_exit pair
    (the floor of the syscalls probe). With libssl: empty uprobes there;
    with sock: empty programs at the socket tracepoints; with mode, that
    redline_floor_bench mode ("clock": the pair reading the clock)."""

    def __init__(self, build, libssl=None, sock=False, mode=None):
        self.bench = os.path.join(build, "tests", "redline_floor_bench")
        self.libssl = libssl
        self.sock = sock  # empty programs at sock:sock_{send,recv}_length
        # Any other redline_floor_bench mode ("clock": the sys_enter/
        # sys_exit pair with the two clock reads syscall latency needs).
        self.mode = mode

    def __enter__(self):
        if (self.libssl or self.sock or self.mode or
                not shutil.which("bpftrace")):
            mode = (["ssl", self.libssl] if self.libssl else
                    ["sock"] if self.sock else
                    [self.mode] if self.mode else ["empty"])
            self.p = subprocess.Popen([self.bench, *mode],
                                      stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            if self.p.poll() is not None:
                sys.exit("bench-http: redline_floor_bench did not attach")
            return self
        self.p = subprocess.Popen(
            ["bpftrace", "-e", "tracepoint:raw_syscalls:sys_exit { }"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "Attaching" not in self.p.stdout.readline():
            sys.exit("bench-http: bpftrace did not attach")
        return self

    def __exit__(self, *exc):
        self.p.send_signal(signal.SIGINT)  # bpftrace ignores SIGTERM
        self.p.wait(timeout=10)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def l7_prog_stats():
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"],
                                      check=True, capture_output=True,
                                      text=True).stdout)
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in progs
            if p.get("name", "").startswith(("l7_", "tls_", "floor_"))}


def ns_per_run(amount, probes, load=None, floor=None):
    """ns per run of the l7 (and tls) programs over load(amount) (default:
    wrk for amount seconds), with kernel.bpf_stats_enabled; probes: the
    agent's flags (a string: --probes=probes), or with floor (a Floor)
    that floor's programs instead."""
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        old = f.read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    try:
        args = [f"--probes={probes}"] if isinstance(probes, str) else probes
        with floor or rltest.Agent(*args):
            s0 = l7_prog_stats()
            (load or wrk)(amount)
            s1 = l7_prog_stats()
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old)
    out = {}
    for name, (ns, cnt) in s1.items():
        ns0, cnt0 = s0.get(name, (0, 0))
        if cnt > cnt0:
            out[name] = ((ns - ns0) / (cnt - cnt0), cnt - cnt0)
    return out


def each_table(args):
    """--each: interleaved rounds of no agent, one agent per probe set and
    the floors; a Markdown table of median rates and of per-round ratios.
    (No agent CPU column: nothing scrapes the agents, which then use next
    to none.)"""
    sets = list(dict.fromkeys(args.each.split()))  # each set once a round
    # A set with l7 and other probes also gets its own floor: those other
    # probes in an agent beside the empty socket tracepoint programs.
    rests = {p: ",".join(x for x in p.split(",") if x != "l7")
             for p in sets if "l7" in p.split(",") and p != "l7"}
    rates = {k: [] for k in ["none", *sets, *(f"floor of {p}" for p in rests),
                             *(f"tracker floor of {p}" for p in rests),
                             "floor", "floor-clock", "floor-sock"]}
    # What runs beside wrk for each row: context managers, made fresh.
    beside = {"none": lambda: [],
              "floor": lambda: [Floor(args.build)],
              "floor-clock": lambda: [Floor(args.build, mode="clock")],
              "floor-sock": lambda: [Floor(args.build, sock=True)]}
    for probes in sets:
        flags = [] if probes == "all" else [f"--probes={probes}"]
        beside[probes] = lambda f=flags: [rltest.Agent(*f)]
    for probes, rest in rests.items():
        beside[f"floor of {probes}"] = lambda r=rest: [
            rltest.Agent(f"--probes={r}"), Floor(args.build, sock=True)]
        beside[f"tracker floor of {probes}"] = lambda r=rest: [
            rltest.Agent(f"--probes={r}"), Floor(args.build, mode="track")]
    order = list(rates)
    for r in range(args.rounds):
        # Each round starts one row later: this host slows down and speeds
        # up within a round, which a fixed order charges to the same rows.
        for k in order[r % len(order):] + order[:r % len(order)]:
            with contextlib.ExitStack() as stack:
                for cm in beside[k]():
                    stack.enter_context(cm)
                rates[k].append(wrk(args.seconds))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{k} {v[-1]:.0f}" for k, v in rates.items()), file=sys.stderr)
    base = statistics.median(rates["none"])
    print(f"nginx static file (1 worker), wrk -t{WRK_THREADS} -c32, "
          f"{args.rounds} x {args.seconds} s interleaved; none "
          f"{base:.0f} req/s (rounds {min(rates['none']):.0f}-"
          f"{max(rates['none']):.0f})\n")
    # Of none: the median of each round's ratio to that round's none (the
    # machine's speed drifts between rounds by more than a probe costs).
    print("| `--probes` | req/s | of none |")
    print("|---|---|---|")
    floors = {"floor": ("floor: an empty `raw_syscalls:sys_exit` program"
                        if shutil.which("bpftrace") else
                        "floor: empty `sys_enter`/`sys_exit` programs"),
              "floor-clock": "floor of syscall latency: `sys_enter`/"
                             "`sys_exit` programs reading the clock, nothing "
                             "else",
              "floor-sock": "floor: empty programs at "
                            "`sock:sock_{send,recv}_length`"}
    for p, rest in rests.items():
        floors[f"floor of {p}"] = (f"floor of `{p}`: `{rest}` + empty "
                                   "socket tracepoint programs")
        floors[f"tracker floor of {p}"] = (
            f"floor of any request tracker: `{rest}` + "
            "`redline_floor_bench track`")
    for k in [*sets, *floors]:
        rate = statistics.median(rates[k])
        name = floors.get(k, f"`{k}`")
        ratio = statistics.median(r / n for r, n in zip(rates[k],
                                                         rates["none"]))
        print(f"| {name} | {rate:.0f} | {ratio:.3f} |")


def print_per_run(per_run):
    """ns_per_run's result, a line per program."""
    for name, (ns, cnt) in sorted(per_run.items()):
        print(f"{name}: {ns:.0f} ns per run over {cnt} runs "
              f"(kernel.bpf_stats_enabled)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--probes", default="l7")
    ap.add_argument("--baseline-probes", default="",
                    help="measure against an agent with these probes (e.g. "
                    "syscalls: what l7 adds to a host already traced) "
                    "instead of no agent")
    ap.add_argument("--floor", action="store_true",
                    help="also measure bpftrace's empty raw_syscalls:sys_exit "
                    "probe: the cost of any syscall tracepoint, ours or not "
                    "(with --tls: empty uprobes in nginx's libssl)")
    ap.add_argument("--tls", action="store_true",
                    help="nginx over HTTPS, the agent with --tls")
    ap.add_argument("--each", nargs="?", const=EACH_DEFAULT, default=None,
                    metavar="SETS", help="a cost table: one agent per probe "
                    f"set (space-separated; default '{EACH_DEFAULT}')")
    args = ap.parse_args()
    target = 0.85 if args.tls else 0.95
    if os.geteuid() != 0:
        sys.exit("bench-http: needs root (BPF, network namespaces)")
    for exe in ("nginx", "wrk"):
        if not shutil.which(exe):
            sys.exit(f"bench-http: {exe} not found: run scripts/install-deps.sh")
    if os.environ.get("RL_BENCH_NETNS") != "1":
        env = dict(os.environ, RL_BENCH_NETNS="1")
        sys.exit(subprocess.run(
            ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
            env=env).returncode)
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    global SCHEME
    agent_args = [f"--probes={args.probes}"] + (["--tls"] if args.tls else [])
    libssl = None
    if args.tls:
        SCHEME = "https"
        libssl = subprocess.run(
            ["sh", "-c", "ldd $(command -v nginx) | awk '/libssl/ {print $3}'"],
            check=True, capture_output=True, text=True).stdout.strip()
    rates = {"none": [], "agent": [], "floor": []}
    agent_cpu = []
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("x" * 612)  # the size of nginx's default page
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            ssl = SSL_CONF.format(tmp=tmp) if args.tls else ""
            f.write(CONF.format(tmp=tmp, port=PORT, ssl=ssl))
        if args.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", f"{tmp}/key.pem", "-out",
                            f"{tmp}/cert.pem", "-days", "1", "-subj",
                            "/CN=localhost"], check=True, capture_output=True)
        nginx = subprocess.Popen(TASKSET_NGINX + ["nginx", "-c", f"{tmp}/nginx.conf",
                                  "-p", tmp])
        try:
            time.sleep(0.5)
            wrk(1)  # warm up
            if args.each:
                each_table(args)
                return
            for r in range(args.rounds):
                if args.baseline_probes:
                    with rltest.Agent(f"--probes={args.baseline_probes}"):
                        rates["none"].append(wrk(args.seconds))
                else:
                    rates["none"].append(wrk(args.seconds))
                with rltest.Agent(*agent_args) as agent:
                    c0 = cpu_seconds(agent.proc.pid)
                    rates["agent"].append(wrk(args.seconds))
                    agent_cpu.append(
                        (cpu_seconds(agent.proc.pid) - c0) / args.seconds)
                if args.floor:
                    with Floor(args.build, libssl):
                        rates["floor"].append(wrk(args.seconds))
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{k} {v[-1]:.0f} req/s" for k, v in rates.items() if v),
                    file=sys.stderr)
            per_run = ns_per_run(args.seconds, agent_args)
            floor_run = (ns_per_run(args.seconds, None,
                                    floor=Floor(args.build, libssl))
                         if args.tls and args.floor else {})
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    base = statistics.median(rates["none"])
    with_agent = statistics.median(rates["agent"])
    ratio = with_agent / base
    print(f"nginx static file (1 worker{', HTTPS' if args.tls else ''}), "
          f"wrk -t{WRK_THREADS} -c32, "
          f"{args.rounds} x {args.seconds} s:"
          f" {'--probes=' + args.baseline_probes if args.baseline_probes else 'none'}"
          f" {base:.0f} req/s, with {' '.join(agent_args)} "
          f"{with_agent:.0f} req/s, ratio {ratio:.3f} (target >= {target}: "
          f"{'PASS' if ratio >= target else 'FAIL'})")
    if rates["floor"]:
        floor_rate = statistics.median(rates["floor"])
        floor = floor_rate / base
        what = ("empty uprobes in libssl" if args.tls
                else "empty syscall tracepoint program")
        print(f"floor ({what}): ratio {floor:.3f}; redline's own share: "
              f"{floor - ratio:.3f}")
        hits = sum(cnt for _, cnt in floor_run.values())
        if hits:
            # nginx's one worker is the bottleneck: 1/rate is its time per
            # request; the floor's extra time over its hits per request
            # is what one uprobe hit costs it (trap, return, empty run).
            per_req = hits / (floor_rate * args.seconds)
            ns = (1 / floor_rate - 1 / base) * 1e9 / per_req
            print(f"empty uprobe: {per_req:.1f} hits per request, ~{ns:.0f} "
                  f"ns of nginx's time per hit")
            print_per_run(floor_run)
    print(f"agent CPU (user space): {statistics.median(agent_cpu) * 100:.1f}%"
          f" of one core")
    print_per_run(per_run)
    sys.exit(0 if ratio >= target else 1)


if __name__ == "__main__":
    main()
