#!/usr/bin/env python3
"""The systemd unit, measured against the agent it starts.

- `systemd-analyze verify` accepts packaging/systemd/redline.service and
  `systemd-analyze security --offline` scores it at most 2.0 (printed);
- least privilege, for real: as uid 65534 with exactly the unit's
  AmbientCapabilities (setpriv), `redline run --config` of the packaged
  config counts N getppid calls of a helper exactly, and once serving
  every thread of the agent has no capability left and no_new_privs set;
- each capability the unit grants is needed: without it `redline check`
  prints a FAIL line naming it and exits 1, and `redline run` exits non-zero
  naming it;
- the unit's SystemCallFilter allows every syscall the agent makes
  (strace -f over start, scrapes, a SIGHUP reload and SIGTERM), and its
  RestrictAddressFamilies every socket family it opens.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rltest import (check, free_port, parse_metrics, redline_bin,  # noqa
                    require_bpf, series, storm_counted)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
UNIT = os.path.join(ROOT, "packaging", "systemd", "redline.service")
CONFIG = os.path.join(ROOT, "packaging", "redline.yaml")
SLOS = os.path.join(ROOT, "packaging", "slo.example.yaml")
NOBODY = "65534"
N = 12345


def unit_values(key):
    vals = []
    with open(UNIT) as f:
        for line in f:
            if line.startswith(key + "="):
                vals.append(line.split("=", 1)[1].strip())
    return vals


def caps_of_unit():
    amb = unit_values("AmbientCapabilities")[0].split()
    bound = unit_values("CapabilityBoundingSet")[0].split()
    check(sorted(amb) == sorted(bound),
          f"unit: AmbientCapabilities {amb} == CapabilityBoundingSet {bound}")
    return [c.lower().replace("cap_", "") for c in amb]


def agent_copy(tmp):
    """The binary where uid 65534 can execute it."""
    dst = os.path.join(tmp, "redline")
    if not os.path.exists(dst):
        shutil.copy(redline_bin(), dst)
        os.chmod(dst, 0o755)
    return dst


def setpriv(caps, argv):
    spec = "-all" + "".join(f",+{c}" for c in caps)
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
            "--clear-groups", f"--inh-caps={spec}", f"--ambient-caps={spec}",
            f"--bounding-set={spec}", *argv]


def config_file(tmp, port, extra=""):
    """The packaged config, pointed at a free loopback port."""
    with open(CONFIG) as f:
        text = f.read()
    text = re.sub(r'^listen: .*$', f'listen: "127.0.0.1:{port}"', text,
                  flags=re.M)
    path = os.path.join(tmp, "redline.yaml")
    with open(path, "w") as f:
        f.write(text + extra)
    os.chmod(tmp, 0o755)
    os.chmod(path, 0o644)
    return path


def wait_ready(proc, port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                   timeout=1).read()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        return parse_metrics(r.read().decode())


def verify_unit(tmp):
    unit = os.path.join(tmp, "redline.service")
    with open(UNIT) as f:
        text = f.read().replace("/usr/bin/redline", redline_bin())
    with open(unit, "w") as f:
        f.write(text)
    r = subprocess.run(["systemd-analyze", "verify", unit],
                       capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr.strip(),
          f"systemd-analyze verify is clean ({r.stderr.strip() or 'no output'})")
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
    check(m is not None, "systemd-analyze security prints an exposure level")
    score = float(m.group(1))
    check(score <= 2.0, f"systemd-analyze security exposure {score} <= 2.0")


def least_privilege(tmp, caps):
    port = free_port()
    cfg = config_file(tmp, port)
    agent = subprocess.Popen(setpriv(caps, [agent_copy(tmp), "run",
                                            f"--config={cfg}"]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        ready = wait_ready(agent, port)
        if not ready:
            agent.kill()
        check(ready, f"uid {NOBODY} with only {caps}: agent serves /healthz "
              f"({'' if ready else agent.communicate()[1].strip()})")
        status = {}
        for tid in os.listdir(f"/proc/{agent.pid}/task"):
            with open(f"/proc/{agent.pid}/task/{tid}/status") as f:
                st = dict(l.split(":", 1) for l in f.read().splitlines()
                          if ":" in l)
            status[tid] = (st["Uid"].split()[0], st["CapEff"].strip(),
                           st["CapPrm"].strip(), st["CapAmb"].strip(),
                           st["NoNewPrivs"].strip())
        want = (NOBODY, "0" * 16, "0" * 16, "0" * 16, "1")
        check(all(v == want for v in status.values()),
              f"all {len(status)} agent threads: uid {NOBODY}, no effective, "
              f"permitted or ambient capability, no_new_privs ({status})")
        got = storm_counted(lambda: scrape(port), N, timeout=30)
        check(got == N, f"unprivileged agent counts {N} getppid == {got}")
        # Every concern, not only syscalls: a program that failed to load
        # for want of a capability would be a warning and attached=0.
        att = {dict(l)["program"]: (v, dict(l).get("reason", ""))
               for l, v in series(scrape(port),
                                  "redline_bpf_program_attached").items()}
        down = {p: r for p, (v, r) in att.items()
                if v != 1 and "not in this kernel" not in r}
        concerns = {p.split("/")[0] for p, (v, _) in att.items() if v == 1}
        check(not down and concerns >= {"syscalls", "sched", "block", "tcp",
                                        "l7"},
              f"with only {caps}: every concern attached "
              f"({sorted(concerns)}; {len(att)} programs; not attached: "
              f"{down})")
    finally:
        if agent.poll() is None:
            agent.terminate()
        agent.wait(timeout=15)
    check(agent.returncode == 0, f"SIGTERM: exit 0 (got {agent.returncode})")


def each_cap_needed(tmp, caps):
    for c in caps:
        rest = [x for x in caps if x != c]
        name = "CAP_" + c.upper()
        r = subprocess.run(setpriv(rest, [agent_copy(tmp), "check"]),
                           capture_output=True, text=True)
        line = next((l for l in r.stdout.splitlines()
                     if l.startswith("FAIL") and f"capability {name}" in l), "")
        check(r.returncode == 1 and line,
              f"without {name}: `redline check` exits 1 ({r.returncode}) "
              f"naming it: {line[:70]!r}")
        port = free_port()
        r = subprocess.run(setpriv(rest, [agent_copy(tmp), "run",
                                          f"--listen=127.0.0.1:{port}"]),
                           capture_output=True, text=True, timeout=30)
        err = r.stderr.strip().splitlines()
        check(r.returncode != 0 and len(err) == 1 and f"missing {name}" in err[0],
              f"without {name}: `redline run` exits {r.returncode} with one "
              f"line naming it: {err}")


def expand(group, seen=None):
    """Syscalls of a systemd syscall group, nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", group],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= expand(item) if item.startswith("@") else {item}
    return names


def allowed_syscalls():
    allowed = set()
    for v in unit_values("SystemCallFilter"):
        deny = v.startswith("~")
        items = set()
        for item in v.lstrip("~").split():
            items |= expand(item) if item.startswith("@") else {item}
        allowed = allowed - items if deny else allowed | items
    return allowed


def syscall_filter(tmp):
    if not shutil.which("strace"):
        check(False, "strace is installed (scripts/install-deps.sh)")
    port = free_port()
    shutil.copy(SLOS, os.path.join(tmp, "slo.yaml"))
    cfg = config_file(tmp, port, f"slo-config: {tmp}/slo.yaml\n")
    trace = os.path.join(tmp, "strace.out")
    agent = subprocess.Popen(["strace", "-f", "-qq", "-o", trace,
                              redline_bin(), "run", f"--config={cfg}"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        # strace stops the agent at each of its ~5000 start-up syscalls.
        check(wait_ready(agent, port, 30), "agent under strace is ready")
        for path in ("/metrics", "/api/v1/snapshot", "/metrics"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                   timeout=10).read()
        # The agent's pid is strace's child.
        pid = int(subprocess.run(["pgrep", "-P", str(agent.pid)],
                                 capture_output=True, text=True).stdout.split()[0])
        os.kill(pid, 1)  # SIGHUP: reload the SLO file
        time.sleep(1)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                               timeout=10).read()
        os.kill(pid, 15)
        agent.wait(timeout=20)
    finally:
        if agent.poll() is None:
            # The agent is strace's child: killing strace alone would leave
            # it running, attached, to skew every later test.
            subprocess.run(["pkill", "-KILL", "-P", str(agent.pid)])
            agent.kill()
            agent.wait()
    used, families = set(), set()
    with open(trace) as f:
        for line in f:
            m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
            if m and m.group(1) not in ("exited", "killed", "resumed"):
                used.add(m.group(1))
            m = re.search(r"\bsocket\((AF_[A-Z0-9]+)", line)
            if m:
                families.add(m.group(1))
    used.discard("execve")  # systemd itself execs the binary
    # Optional by design: EPERM from the filter means "walk cgroupfs".
    optional = {"open_by_handle_at"}
    allowed = allowed_syscalls()
    missing = sorted(used - allowed - optional)
    check(len(used) > 20 and not missing,
          f"SystemCallFilter allows all {len(used)} syscalls the agent made "
          f"(not allowed: {missing})")
    fams = set(unit_values("RestrictAddressFamilies")[0].split())
    check(families and families <= fams,
          f"socket families used {sorted(families)} within "
          f"RestrictAddressFamilies {sorted(fams)}")


def main():
    require_bpf()
    for tool in ("systemd-analyze", "setpriv"):
        if not shutil.which(tool):
            check(False, f"{tool} is installed")
    caps = caps_of_unit()
    check(unit_values("User") == ["redline"] and
          unit_values("NoNewPrivileges") == ["yes"],
          "unit: User=redline, NoNewPrivileges=yes")
    tmp = tempfile.mkdtemp(prefix="rl-systemd-")
    try:
        verify_unit(tmp)
        least_privilege(tmp, caps)
        each_cap_needed(tmp, caps)
        syscall_filter(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
