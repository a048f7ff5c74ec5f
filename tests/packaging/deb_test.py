#!/usr/bin/env python3
"""The .deb, as an operator installs it on this machine.

`cpack -G DEB` builds it; its Depends come from dpkg-shlibdeps; `dpkg -i`
installs it; the installed `redline --version` matches the build, the
installed unit passes `systemd-analyze verify`, the system user exists,
the config is a conffile, and the installed agent, run as that user with
the unit's two capabilities and the installed config, serves /metrics;
`dpkg --purge` then leaves no file, no user and no package behind.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rltest import check, free_port, redline_bin, require_bpf  # noqa

FILES = ["/usr/bin/redline", "/lib/systemd/system/redline.service",
         "/etc/redline/redline.yaml", "/usr/share/doc/redline/README.md",
         "/usr/share/doc/redline/examples/slo.example.yaml",
         "/usr/share/redline/grafana/redline.json"]


def sh(*argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def installed():
    r = sh("dpkg-query", "-W", "-f=${Status}", "redline")
    return r.returncode == 0 and "installed" in r.stdout.split()


def build(build_dir):
    for old in glob.glob(os.path.join(build_dir, "redline_*.deb")):
        os.remove(old)
    r = sh("cpack", "-G", "DEB", cwd=build_dir)
    debs = glob.glob(os.path.join(build_dir, "redline_*_*.deb"))
    check(r.returncode == 0 and len(debs) == 1,
          f"cpack -G DEB built one package ({[os.path.basename(d) for d in debs]}"
          f"{'' if r.returncode == 0 else r.stderr[-300:]})")
    deb = debs[0]
    depends = sh("dpkg-deb", "-f", deb, "Depends").stdout.strip()
    want = ("adduser", "libbpf1", "libyaml-cpp", "libabsl")
    check(all(d in depends for d in want),
          f"Depends names {', '.join(want)}: {depends}")
    contents = sh("dpkg-deb", "-c", deb).stdout
    for f in FILES:
        check("." + f in contents, f"package contains {f}")
    return deb


def run_installed():
    """The installed binary, user, caps and config, as the unit starts it."""
    port = free_port()
    caps = "-all,+bpf,+perfmon"
    proc = subprocess.Popen(
        ["setpriv", "--reuid=redline", "--regid=redline", "--init-groups",
         f"--inh-caps={caps}", f"--ambient-caps={caps}",
         f"--bounding-set={caps}", "/usr/bin/redline", "run",
         "--config=/etc/redline/redline.yaml", f"--listen=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    body = ""
    try:
        deadline = time.time() + 10
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.terminate()
        _, err = proc.communicate(timeout=15)
    check("redline_syscalls_total{" in body,
          f"installed agent as user redline serves syscall metrics "
          f"({len(body)} bytes; {err.strip()[-200:]})")
    check(proc.returncode == 0, f"and exits 0 on SIGTERM ({proc.returncode})")


def main():
    require_bpf()
    if not shutil.which("dpkg") or not shutil.which("cpack"):
        check(False, "dpkg and cpack are installed")
    check(not installed(), "no redline package installed before the test "
          "(it would be replaced)")
    deb = build(os.getcwd())
    try:
        r = sh("dpkg", "-i", deb)
        check(r.returncode == 0, f"dpkg -i {os.path.basename(deb)} "
              f"({r.stderr.strip()[-300:] or 'ok'})")
        check(installed(), "dpkg reports redline installed")
        want = sh(redline_bin(), "--version").stdout.strip()
        got = sh("/usr/bin/redline", "--version").stdout.strip()
        check(got == want and re.match(r"redline \d+\.\d+\.\d+", got),
              f"installed `redline --version`: {got!r} == build's {want!r}")
        r = sh("systemd-analyze", "verify", "/lib/systemd/system/redline.service")
        check(r.returncode == 0 and not r.stderr.strip(),
              f"systemd-analyze verify on the installed unit "
              f"({r.stderr.strip() or 'clean'})")
        pw = sh("getent", "passwd", "redline").stdout.strip().split(":")
        check(len(pw) == 7 and pw[2] != "0" and int(pw[2]) < 1000
              and pw[6].endswith("nologin"),
              f"system user redline, no login shell ({':'.join(pw)})")
        conf = sh("dpkg-query", "-W", "-f=${Conffiles}", "redline").stdout
        check("/etc/redline/redline.yaml" in conf,
              "/etc/redline/redline.yaml is a conffile")
        run_installed()
    finally:
        r = sh("dpkg", "--purge", "redline")
    check(r.returncode == 0, f"dpkg --purge redline ({r.stderr.strip() or 'ok'})")
    check(not installed(), "package gone")
    left = [f for f in FILES + ["/etc/redline"] if os.path.exists(f)]
    check(not left, f"no files left behind ({left})")
    check(sh("getent", "passwd", "redline").returncode != 0,
          "user redline removed on purge")


if __name__ == "__main__":
    main()
