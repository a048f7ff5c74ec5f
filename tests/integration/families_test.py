#!/usr/bin/env python3
"""The exposition's shape does not change by accident: the set of metric
families, each one's TYPE and HELP, and the label names of its series,
scraped from `redline run` (every probe, the example SLO file) after a
fixed workload in a network namespace (syscalls, a file fsync'd to disk,
HTTP/1.1 over TCP on loopback, TCP with every third segment to the server
dropped by iptables, a reset), equal the checked-in list
tests/integration/families.txt. A deliberate change regenerates it:

    REDLINE_WRITE_FAMILIES=1 ctest -R families_test

Label names that exist only on some hosts (a program's `reason` when it
is not attached) are left out of the comparison, by name below; identity
labels are off (--identity-labels=none: they follow the host's cgroups).
A TCP series names its peer by `remote` (connections the workload opened)
or `local_port` (accepted): which sides a reset or an RTT sample happens
on is the kernel's timing, so the two count as one name, remote|local_port."""
import http.server
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, enter_netns, require_bpf  # noqa

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "families.txt")
SLO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "packaging", "slo.example.yaml")
# Present on a host where some program is not attached (its reason).
HOST_DEPENDENT = {("redline_bpf_program_attached", "reason")}
PEER = {"remote", "local_port"}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"')


def shape(text):
    """{family: (type, help, sorted label names)} of an exposition."""
    fams, labels, owner = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_ = line[7:].split(" ", 1)
            fams.setdefault(name, ["", ""])[1] = help_
        elif line.startswith("# TYPE "):
            name, typ = line[7:].split(" ", 1)
            fams.setdefault(name, ["", ""])[0] = typ
            for suffix in ("", "_bucket", "_sum", "_count", "_total"):
                owner[name + suffix] = name
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            fam = owner.get(m.group(1), m.group(1))
            names = set(LABEL.findall(m.group(2) or "")) - {"le"}
            if fam.startswith("redline_tcp_") and names & PEER:
                names = (names - PEER) | {"|".join(sorted(PEER, reverse=True))}
            labels.setdefault(fam, set()).update(
                n for n in names if (fam, n) not in HOST_DEPENDENT)
    return {f: (t, h, sorted(labels.get(f, ()))) for f, (t, h) in fams.items()}


def render(s):
    return "".join(f"{f} {t} [{','.join(l)}] {h}\n"
                   for f, (t, h, l) in sorted(s.items()))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def workload(tmp):
    subprocess.run([os.environ["RL_SYSSTORM"], "100", "0"], check=True,
                   stdout=subprocess.DEVNULL)
    # Disk: a file written and fsync'd in the build directory (not tmpfs).
    path = os.path.join(os.getcwd(), "families_test.data")
    with open(path, "wb") as f:
        f.write(os.urandom(1 << 20))
        f.flush()
        os.fsync(f.fileno())
    os.unlink(path)
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Quiet(*a, directory=tmp))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(os.path.join(tmp, "ok.txt"), "w") as f:
        f.write("ok\n")
    for path, want in (("/ok.txt", 200), ("/missing", 404)):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{srv.server_port}{path}") as r:
                got = r.status
        except urllib.error.HTTPError as e:
            got = e.code
        check(got == want, f"GET {path}: {got}")
    srv.shutdown()
    lossy_echo()
    reset()


def lossy_echo():
    """Round trips to an echo server while iptables drops every third
    segment sent to it: retransmits, deterministically."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    port = ls.getsockname()[1]
    rule = ["INPUT", "-p", "tcp", "--dport", str(port), "-m", "statistic",
            "--mode", "nth", "--every", "3", "--packet", "2", "-j", "DROP"]
    subprocess.run(["iptables", "-I", *rule], check=True)
    try:
        def echo():
            c, _ = ls.accept()
            with c:
                while data := c.recv(4096):
                    c.sendall(data)
        t = threading.Thread(target=echo)
        t.start()
        with socket.create_connection(("127.0.0.1", port)) as c:
            for _ in range(6):
                c.sendall(b"x" * 100)
                got = b""
                while len(got) < 100:
                    got += c.recv(4096)
        t.join()
    finally:
        subprocess.run(["iptables", "-D", *rule], check=True)
        ls.close()


def reset():
    """A server that closes with unread data sends a reset; its client
    receives it."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept()
    c.sendall(b"unread")
    time.sleep(0.1)
    s.close()  # unread data: RST, not FIN
    try:
        c.recv(10)
    except ConnectionResetError:
        pass
    c.close()
    ls.close()


def main():
    require_bpf()
    enter_netns("RL_FAMILIES_NETNS")
    with tempfile.TemporaryDirectory() as tmp, \
            Agent("--refresh-interval=1", f"--slo-config={SLO}",
                  "--identity-labels=none") as agent:
        workload(tmp)
        time.sleep(2.5)
        got = render(shape(agent.get()))
    if os.environ.get("REDLINE_WRITE_FAMILIES") == "1":
        with open(GOLDEN, "w") as f:
            f.write(got)
        print(f"wrote {GOLDEN}")
        return
    want = open(GOLDEN).read()
    if got != want:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True), "families.txt",
            "scraped"))
    check(got == want, f"{len(want.splitlines())} families, their TYPE, HELP "
          "and label names as checked in")


if __name__ == "__main__":
    main()
