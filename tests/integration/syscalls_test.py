#!/usr/bin/env python3
"""Exact per-process syscall RED against a known workload, cross-checked with
libbpf-tools syscount, promtool, and the unprivileged failure path."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, exe_as, redline_bin, require_bpf,  # noqa
                    series, value)

COMM = "rl_sysstorm"
N_GETPPID = 100000
N_OPENAT = 1000


def syscount_counts(pid, ready_timeout=20):
    """Starts syscount for pid; returns (proc, reader) once it is tracing."""
    p = subprocess.Popen(["stdbuf", "-oL", "syscount", "-p", str(pid), "-T", "400"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    deadline = time.time() + ready_timeout
    line = ""
    while time.time() < deadline:
        line = p.stdout.readline()
        if "Tracing" in line or not line:
            break
    assert "Tracing" in line, f"syscount did not start: {line!r}"
    return p


def parse_syscount(text):
    counts = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([a-z0-9_]+)\s+(\d+)\s*$", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
    return counts


def check_selected_histograms():
    """--syscall-histograms=getppid: only getppid keeps its histogram; every
    other syscall of the workload sums into syscall="[other]", so the
    workload's histogram counts still equal its counters."""
    with Agent("--probes=syscalls", "--syscall-histograms=getppid") as agent:
        subprocess.run([os.environ["RL_SYSSTORM"], "5000", "300", "--comm",
                        "rl_histsel"], check=True, capture_output=True)
        m = agent.scrape()
        calls = series(m, "redline_syscalls_total", comm="rl_histsel")
        counts = series(m, "redline_syscall_duration_seconds_count",
                        comm="rl_histsel")
        hist = sorted(dict(l)["syscall"] for l in counts)
        check(hist == ["[other]", "getppid"],
              f"histograms only for getppid and [other]: {hist}")
        check(value(m, "redline_syscall_duration_seconds_count",
                    comm="rl_histsel", syscall="getppid") == 5000,
              "getppid's histogram counts its 5000 calls")
        total = sum(calls.values())
        rest = total - value(m, "redline_syscalls_total", comm="rl_histsel",
                             syscall="getppid")
        got = value(m, "redline_syscall_duration_seconds_count",
                    comm="rl_histsel", syscall="[other]")
        check(got == rest and rest >= 300,
              f"[other] histogram = the other syscalls' calls ({got} == {rest})")
        check(len(calls) > 2, f"counters stay per syscall ({len(calls)})")
        # Where scrapes spend their time: one read per scrape and refresh.
        reads = value(m, "redline_kernel_reads_total", concern="syscalls")
        secs = value(m, "redline_kernel_read_seconds_total",
                     concern="syscalls")
        check(reads >= 1 and secs > 0,
              f"kernel read cost exported ({reads} reads, {secs} s)")


def check_late_rename(agent):
    """A daemon renames itself (prctl) some milliseconds after exec, while
    reads come every few ms: the agent holds a young incarnation back
    instead of pinning the binary's name, so every count lands under the
    new name."""
    helpers, n, rename_s = 8, 321, 0.1
    before = agent.scrape()
    stop = threading.Event()
    reads = []  # (start, end) of each scrape: each reads the maps

    def scrape_loop():
        while not stop.is_set():
            t0 = time.monotonic()
            agent.get()
            reads.append((t0, time.monotonic()))
            time.sleep(0.005)

    t = threading.Thread(target=scrape_loop)
    t.start()
    starts = []
    try:
        procs = []
        # 50 ms apart: some helper is young while reads come even when a
        # scrape is slow (the ASan agent on a slow machine: ~150 ms).
        for _ in range(helpers):
            starts.append(time.monotonic())
            procs.append(subprocess.Popen(
                [os.environ["RL_SYSSTORM"], str(n), "0", "--comm", "rl_late",
                 "--comm-after-ms", str(int(rename_s * 1000))],
                stdout=subprocess.DEVNULL))
            time.sleep(0.05)
        for p in procs:
            check(p.wait(timeout=20) == 0, "late-renaming helper ran")
    finally:
        stop.set()
        t.join()
    after = agent.scrape()
    got = value(after, "redline_syscalls_total", comm="rl_late",
                syscall="getppid")
    leaked = (value(after, "redline_syscalls_total", comm=COMM)
              - value(before, "redline_syscalls_total", comm=COMM))
    check(got == helpers * n and leaked == 0,
          f"renamed 100 ms after exec: all {helpers} x {n} getppid under the "
          f"new name ({got}), none under the binary's ({leaked})")
    # Otherwise the check above could not fail: a read while a helper had
    # its binary's name (a scrape overlapping its first 100 ms).
    young = sum(any(a < s0 + rename_s and b > s0 for a, b in reads)
                for s0 in starts)
    check(young >= 1, f"reads came while {young} of {helpers} helpers were "
          f"not yet renamed ({len(reads)} reads)")


def check_idle_entries_move(agent):
    """A process whose calls stopped 10 s ago has its kernel entries moved
    into the agent's totals (reads cost per entry): its counts stay exact
    across the move, and its next calls add to them."""
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.Popen([exe_as(tmp, os.environ["RL_SYSSTORM"], "rl_idle"),
                              "700", "7", "--wait"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            p.stdout.readline()
            p.stdin.write("go\n")
            p.stdin.flush()
            check(p.stdout.readline().startswith("done"), "rl_idle ran")
            time.sleep(0.3)  # exported once 200 ms old (README)
            m0 = agent.scrape()
            time.sleep(11)  # blocked in read(stdin): a call in flight
            m1 = agent.scrape()
            p.stdin.write("go\n")
            p.stdin.flush()
            check(p.stdout.readline().startswith("done"), "rl_idle ran again")
            m2 = agent.scrape()
        finally:
            p.stdin.close()
            p.wait(timeout=10)
    own = series(m0, "redline_syscalls_total", comm="rl_idle")
    moved = (value(m1, "redline_bpf_map_evictions_total", map="sys_stats")
             - value(m0, "redline_bpf_map_evictions_total", map="sys_stats"))
    check(moved >= len(own),
          f"its {len(own)} idle entries moved out of sys_stats ({moved:.0f})")
    for m, k, what in ((m0, 1, "before"), (m1, 1, "after the move"),
                       (m2, 2, "after more calls")):
        got = (value(m, "redline_syscalls_total", comm="rl_idle",
                     syscall="getppid"),
               value(m, "redline_syscall_duration_seconds_count",
                     comm="rl_idle", syscall="getppid"),
               value(m, "redline_syscall_errors_total", comm="rl_idle",
                     syscall="openat", errno="ENOENT"))
        check(got == (700 * k, 700 * k, 7 * k),
              f"idle entries: exact {what} ({got})")
    check(series(m1, "redline_syscalls_total", comm="rl_idle") == own,
          "every series of the idle process continues unchanged")


def main():
    require_bpf()
    rc = subprocess.run([redline_bin(), "check"], capture_output=True, text=True)
    check(rc.returncode == 0, f"redline check passes as root:\n{rc.stdout}")

    with Agent() as agent:
        helper = subprocess.Popen(
            [os.environ["RL_SYSSTORM"], str(N_GETPPID), str(N_OPENAT), "--wait"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        pid = int(helper.stdout.readline())
        sc = syscount_counts(pid)
        time.sleep(0.5)  # helper is blocked in read(stdin)
        before = agent.scrape()
        helper.stdin.write("go\n")
        helper.stdin.flush()
        done = helper.stdout.readline()
        check(done.startswith("done"), f"helper ran: {done.strip()}")
        after = agent.scrape()
        sc.send_signal(signal.SIGINT)
        sc_out = sc.communicate(timeout=20)[0]
        sc_counts = parse_syscount(sc_out)

        getppid = value(after, "redline_syscalls_total", comm=COMM,
                        syscall="getppid")
        check(getppid == N_GETPPID, f"getppid calls == {N_GETPPID} (got {getppid})")
        enoent = value(after, "redline_syscall_errors_total", comm=COMM,
                       syscall="openat", errno="ENOENT")
        # The dynamic loader's openat calls succeed; only ours fail.
        check(enoent == N_OPENAT, f"openat ENOENT == {N_OPENAT} (got {enoent})")
        for sc_name in ("getppid", "openat"):
            calls = value(after, "redline_syscalls_total", comm=COMM,
                          syscall=sc_name)
            count = value(after, "redline_syscall_duration_seconds_count",
                          comm=COMM, syscall=sc_name)
            inf = value(after, "redline_syscall_duration_seconds_bucket",
                        comm=COMM, syscall=sc_name, le="+Inf")
            check(calls == count == inf,
                  f"{sc_name}: histogram _count == +Inf bucket == calls ({count})")

        # Oracle: syscount saw the same syscalls over the same window.
        delta = (value(after, "redline_syscalls_total", comm=COMM)
                 - value(before, "redline_syscalls_total", comm=COMM))
        sc_total = sum(sc_counts.values())
        check(sc_counts.get("getppid") == N_GETPPID,
              f"syscount agrees on getppid ({sc_counts.get('getppid')})")
        check(delta == sc_total,
              f"total syscalls in window: redline {delta} == syscount {sc_total}")

        # promtool on a live scrape.
        text = agent.get()
        pt = subprocess.run(["promtool", "check", "metrics"], input=text,
                            capture_output=True, text=True)
        check(pt.returncode == 0, f"promtool check metrics: {pt.stdout}{pt.stderr}")
        for name in ("redline_build_info", "redline_bpf_program_attached",
                     "redline_bpf_map_drops_total", "process_cpu_seconds_total",
                     "process_resident_memory_bytes",
                     "redline_scrape_duration_seconds_count"):
            check(name in text, f"self metric {name} exported")
        attached = series(after, "redline_bpf_program_attached")
        # The wakeup hooks load only on kernels without sched_info.
        names = sorted(dict(l)["program"] for l in attached
                       if "sched_wakeup" not in dict(l)["program"])
        want = sorted(["syscalls/sys_enter", "syscalls/sys_exit",
                       "syscalls/sched_process_exec", "syscalls/task_rename",
                       "syscalls/sched_process_exit", "sched/sched_switch",
                       "sched/sched_process_exit", "sched/task_rename",
                       "block/block_rq_insert",
                       "block/block_rq_issue", "block/block_rq_complete",
                       "tcp/inet_sock_set_state", "tcp/tcp_sendmsg_locked",
                       "tcp/tcp_retransmit_skb_err", "tcp/tcp_retransmit_synack",
                       "tcp/tcp_send_reset", "tcp/tcp_receive_reset",
                       "tcp/tcp_destroy_sock",
                       "l7/l7_state", "l7/l7_destroy", "l7/l7_send",
                       "l7/l7_recv"])
        check(names == want and all(v == 1 for v in attached.values()),
              f"all {len(want)} programs attached: {attached}")

        # The helper exits: its counts survive, and its state is freed.
        helper.stdin.close()
        helper.wait(timeout=10)
        time.sleep(0.2)
        gone = agent.scrape()
        check(value(gone, "redline_syscalls_total", comm=COMM,
                    syscall="getppid") == N_GETPPID,
              "exited process still exported with its final counts")
        again = agent.scrape()
        check(value(again, "redline_syscalls_total", comm=COMM,
                    syscall="getppid") == N_GETPPID,
              "counts stay after the exited process is freed (monotonic)")

        # A process that renames itself (prctl PR_SET_NAME) right after
        # start is counted under its new name, from its first syscall on.
        subprocess.run([os.environ["RL_SYSSTORM"], "777", "0", "--comm",
                        "rl_renamed"], check=True, capture_output=True)
        renamed = agent.scrape()
        got = value(renamed, "redline_syscalls_total", comm="rl_renamed",
                    syscall="getppid")
        check(got == 777, f"renamed process counted under its new comm ({got})")
        check(value(renamed, "redline_syscalls_total", comm=COMM,
                    syscall="getppid") == N_GETPPID,
              "nothing of the renamed process leaks into its old name")

        check_late_rename(agent)
        check_idle_entries_move(agent)

    check_selected_histograms()

    # Unprivileged: both commands fail with a readable diagnosis.
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]
    r = subprocess.run(drop + [redline_bin(), "check"], capture_output=True,
                       text=True)
    check(r.returncode != 0 and "FAIL  capability CAP_BPF" in r.stdout
          and "FAIL  capability CAP_PERFMON" in r.stdout,
          f"unprivileged check fails naming CAP_BPF and CAP_PERFMON "
          f"(rc={r.returncode})")
    r = subprocess.run(drop + [redline_bin(), "run", "--listen=127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    err = r.stderr.strip()
    check(r.returncode == 2 and len(err.splitlines()) == 1 and
          "CAP_BPF" in err, f"unprivileged run: exit 2, one line: {err!r}")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
