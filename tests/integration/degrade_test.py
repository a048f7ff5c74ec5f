#!/usr/bin/env python3
"""Graceful degradation, and saying so.

- One program's tracepoint missing (REDLINE_FAULT_TRACEPOINT points
  sched/sched_switch at a tracepoint this kernel lacks, the same path a
  kernel without it takes): the agent is ready within 5 s, exports that
  program attached=0 with the reason, every other program attached=1, and
  still counts a helper's getppid calls exactly;
- the same with --strict: exit non-zero, one line naming the program;
- --programs-off: the program is listed attached=0 "disabled by
  --programs-off" and --strict accepts it (an operator's choice is not a
  failure); a name that matches no program is one line and exit 2;
- no kernel BTF (an empty file bind-mounted over /sys/kernel/btf/vmlinux in
  a private mount namespace): one line naming CONFIG_DEBUG_INFO_BTF, exit 2;
- a malformed fault spec: one line, exit 2.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, free_port, redline_bin, require_bpf,  # noqa
                    series, storm_counted)

N = 4321
PROG = "sched/sched_switch"
ATT = "redline_bpf_program_attached"


def attached(m):
    return {dict(l)["program"]: (v, dict(l).get("reason", ""))
            for l, v in series(m, ATT).items()}


def one_line_exit(argv, env=None, want_rc=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, **(env or {})))
    lines = r.stderr.strip().splitlines()
    ok = r.returncode != 0 and len(lines) == 1
    if want_rc is not None:
        ok = ok and r.returncode == want_rc
    return ok, r.returncode, lines


def missing_tracepoint():
    os.environ["REDLINE_FAULT_TRACEPOINT"] = f"sched_switch=rl_no_such_tp"
    try:
        t0 = time.time()
        with Agent() as agent:
            ready = time.time() - t0
            check(ready < 5, f"ready with one program missing in {ready:.2f} s < 5 s")
            progs = attached(agent.scrape())
            v, reason = progs.get(PROG, (None, ""))
            check(v == 0 and "rl_no_such_tp not in this kernel" in reason,
                  f"{PROG} attached=0, reason {reason!r}")
            others = {p: x for p, x in progs.items() if p != PROG}
            check(len(others) >= 10 and all(x[0] == 1 for x in others.values()),
                  f"the other {len(others)} programs attached=1 "
                  f"({[p for p, x in others.items() if x[0] != 1]} not)")
            got = storm_counted(agent.scrape, N)
            check(got == N, f"syscalls still counted exactly: {got} == {N}")
        port = free_port()
        ok, rc, lines = one_line_exit(
            [redline_bin(), "run", "--strict", f"--listen=127.0.0.1:{port}"])
        check(ok and PROG in lines[0],
              f"--strict: exit {rc}, one line naming {PROG}: {lines}")
    finally:
        del os.environ["REDLINE_FAULT_TRACEPOINT"]


def programs_off():
    with Agent("--programs-off=tcp_send_reset", "--strict") as agent:
        v, reason = attached(agent.scrape()).get("tcp/tcp_send_reset", (None, ""))
        check(v == 0 and reason == "disabled by --programs-off",
              f"--programs-off: tcp/tcp_send_reset attached=0, reason {reason!r}, "
              "and --strict accepts it")
    # A typo would silently disable nothing: one line naming it, exit 2,
    # and nothing left attached (lifecycle_test counts objects).
    ok, rc, lines = one_line_exit(
        [redline_bin(), "run", f"--listen=127.0.0.1:{free_port()}",
         "--programs-off=tcp_send_rest"], want_rc=2)
    check(ok and "no program 'tcp_send_rest'" in lines[0]
          and "tcp/tcp_send_reset" in lines[0],
          f"--programs-off typo: exit {rc}, one line: {lines[:1]}")


def no_btf():
    port = free_port()
    ok, rc, lines = one_line_exit(
        ["unshare", "-m", "sh", "-c",
         "mount --bind /dev/null /sys/kernel/btf/vmlinux && exec "
         f"{redline_bin()} run --listen=127.0.0.1:{port}"], want_rc=2)
    check(ok and "CONFIG_DEBUG_INFO_BTF" in lines[0],
          f"no BTF: exit {rc}, one line: {lines}")


def bad_fault_spec():
    ok, rc, lines = one_line_exit(
        [redline_bin(), "run", f"--listen=127.0.0.1:{free_port()}"],
        env={"REDLINE_FAULT_TRACEPOINT": "sched_switch"}, want_rc=2)
    check(ok and "program=tracepoint" in lines[0],
          f"malformed REDLINE_FAULT_TRACEPOINT: exit {rc}, one line: {lines}")


def main():
    require_bpf()
    missing_tracepoint()
    programs_off()
    no_btf()
    bad_fault_spec()


if __name__ == "__main__":
    main()
