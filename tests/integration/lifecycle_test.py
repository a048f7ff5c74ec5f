#!/usr/bin/env python3
"""SIGTERM under load detaches every program and exits 0 within a second;
bad flags and unusable addresses give one line and exit 2."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, redline_bin, require_bpf  # noqa

PROGS = ("sys_enter", "sys_exit", "sched_process_exec", "sched_process_exit",
         "task_rename", "sched_switch", "block_rq_", "inet_sock_set_",
         "tcp_")


def redline_progs():
    """Loaded programs with redline's syscall program names."""
    out = subprocess.run(["bpftool", "prog", "show"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(w for line in out.splitlines()
                  for w in line.split()[3:4] if line.split()[2:3] == ["name"]
                  and w.startswith(PROGS))


def settled_progs(want, timeout=3.0):
    """Program list once it stops changing (the kernel frees programs of a
    closed fd after an RCU grace period, not synchronously)."""
    deadline = time.time() + timeout
    last = redline_progs()
    while time.time() < deadline:
        time.sleep(0.2)
        cur = redline_progs()
        if cur == last and (want is None or cur == want):
            return cur
        last = cur
    return last


def main():
    require_bpf()
    for args, what in (((["run", "--bogus"]), "unknown flag"),
                       ((["run", "--listen=nonsense"]), "bad listen address"),
                       ((["run", "--max-processes=x"]), "bad number")):
        r = subprocess.run([redline_bin(), *args], capture_output=True, text=True,
                           timeout=20)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1,
              f"{what}: exit 2, one line ({r.stderr.strip()!r})")

    with Agent() as busy:  # holds a port so the next bind fails
        r = subprocess.run([redline_bin(), "run", f"--listen=127.0.0.1:{busy.port}"],
                           capture_output=True, text=True, timeout=20)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and "listen" in lines[0],
              f"port in use: exit 2, one line ({r.stderr.strip()!r})")

    baseline = settled_progs(None)
    agent = Agent()
    load = subprocess.Popen([os.environ["RL_SYSSTORM"], "200000000", "0"],
                            stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        during = redline_progs()
        ours = sorted(["sched_process_exec", "sched_process_exit", "sys_enter",
                       "sys_exit", "task_rename", "sched_process_exit",
                       "task_rename",
                       "sched_switch",
                       "block_rq_insert", "block_rq_issue",
                       "block_rq_complete", "inet_sock_set_state",
                       "tcp_sendmsg_locked", "tcp_retransmit_skb_err",
                       "tcp_retransmit_synack", "tcp_send_reset",
                       "tcp_receive_reset", "tcp_destroy_sock"] + baseline)
        check(during == ours, f"agent's programs are loaded: {during} (baseline {baseline})")
        rc, secs = agent.stop()
    finally:
        load.kill()
        load.wait()
        if agent.proc.poll() is None:
            agent.proc.kill()
    check(rc == 0, f"SIGTERM under load: exit code {rc}")
    check(secs < 1.0, f"exited in {secs:.3f} s (< 1 s)")
    after = settled_progs(baseline)
    check(after == baseline,
          f"no redline programs left in bpftool prog show ({after})")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
