#!/usr/bin/env python3
"""redline on another kernel: one of Debian 12's, booted under qemu.

Usage: kernel_vm_test.py TAG, TAG a kernel of tests/vm/vmkit.KERNELS (6.1
cloud, 6.12 cloud, 6.12 PREEMPT_RT, arm64 6.1 cloud). The host runs a newer
kernel; CO-RE must relocate every program against TAG's BTF (other struct
layouts, other tracepoint signatures) and TAG's verifier must accept them.
The kernel package is downloaded with apt (not installed) and cached in the
build tree (build/vm-kernel/TAG); the VM boots it under software emulation
(TCG: no /dev/kvm needed) with an initramfs holding busybox, bpftool, the
redline binary, test helpers and their shared libraries. For arm64 the
agent is this source tree cross-built by scripts/cross-arm64.py (in
build/vm-arm64, its BPF objects against the booted kernel's own BTF),
busybox and bpftool are Debian's arm64 packages, the libraries come from
the cross build's sysroot, and qemu-system-aarch64 emulates a Cortex-A57.
tests/vm/init.sh, as /init:

- `redline check` exits 0 on that kernel;
- `redline run` is ready, with every program attached (or a reason), and
  exactly those README.md's per-kernel table says (readme_table.py);
- the request engine takes the path this kernel has: socket I/O from
  sock:sock_{send,recv}_length (6.3+) on 6.12, from raw_syscalls:sys_exit
  on 6.1;
- rl_sysstorm (built static here, for the guest's architecture) makes N
  getppid calls and O failing openat calls: redline counts exactly N
  getppid, O openat and O ENOENT (the syscall table is the guest's: arm64
  numbers them 173 and 56), and its CPU time within 10% (+20 ms) of its
  rusage (busybox time -p);
- busybox wget asks busybox httpd H times (a connection each): H HTTP
  client requests, H server-side ones (httpd's child forked after accept),
  H successful TCP connects, and one refused elsewhere;
- TLS through uprobes (the agent with --tls): a Go HTTPS server and two
  clients (tests/helpers/go_tls, static: the VM needs no libssl), HTTP/1.1
  and HTTP/2, GO_N requests each: their executable probed (one file), and
  both sides' requests by status class equal the programs' own tallies;
  and GO_RST requests of one process to itself whose Writes start over at
  their stack check (tests/helpers/go_tls/restart.go) counted once each;
- CPU throttling through cgroup v2 (the CI host has the cpu controller on
  v1): a burner in a cgroup with cpu.max 20%, stopped after 2 s while still
  a member; redline's throttled seconds and periods equal cpu.stat's
  throttled_usec and nr_throttled, read before and after the scrape;
- SIGTERM: exit 0, and bpftool shows the same programs, maps and links as
  before the agent started.

Skips (77) without qemu/busybox or the kernel package (no network), unless
REDLINE_REQUIRE_BPF=1: then it fails. RL_VM_KERNEL=path/to/vmlinuz boots
another kernel (with TAG's expectations); RL_VM_DEBUG=1 prints the console
and the verifier logs of programs that failed to load.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from rltest import (SKIP, by_class, check, go_tls_expected,  # noqa: E402
                    go_tls_helper, label_deltas, parse_metrics, series,
                    value)
import readme_table  # noqa: E402
import vmkit  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
N = 54321
O = 321
H = 7
PORT = 9464
GO_N = 10
GO_RST = 300  # restart.go's stack depths: Write's stack check fires
# Socket I/O: the tracepoints 6.3 added, else every syscall's exit.
L7_SOCK = ["l7/l7_destroy", "l7/l7_recv", "l7/l7_send", "l7/l7_state"]
L7_SYS_EXIT = ["l7/l7_destroy", "l7/l7_exit", "l7/l7_state"]


def skip(reason):
    if os.environ.get("REDLINE_REQUIRE_BPF") == "1":
        print(f"FAIL: REDLINE_REQUIRE_BPF=1 but {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def crashed_before_init(console):
    """True when the guest kernel died before the initramfs's init printed
    its first tagged line: a boot failure of the emulated machine."""
    return not vmkit.tagged_lines(console) and (
        "Kernel panic" in console or "Oops:" in console)


def panic_line(console):
    for l in console.splitlines():
        if "Oops:" in l or "Kernel panic" in l:
            return l.strip()
    return "?"


def load_cross():
    """scripts/cross-arm64.py as a module (its name has a hyphen)."""
    path = os.path.join(SRC, "scripts", "cross-arm64.py")
    spec = importlib.util.spec_from_file_location("cross_arm64", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def guest_binaries(arch, kernel, tmp):
    """({name: path} for the initramfs, sysroot or None) for arch. The
    syscall helper is built static here for either architecture: no
    loader, so its openat calls are only the workload's."""
    storm = os.path.join(tmp, "rl_sysstorm")
    go = os.path.join(tmp, "rl_gotls")
    src = os.path.join(SRC, "tests", "helpers", "syscall_storm.c")
    if arch == "amd64":
        cc, root, redline = "gcc", None, os.environ["REDLINE_BIN"]
        bpftool = os.path.realpath(shutil.which("bpftool"))
        go_tls_helper(go)
    else:
        # The agent cross-built (scripts/cross-arm64.py) in the build tree,
        # its BPF objects against this very kernel's BTF; busybox and
        # bpftool are Debian's arm64 ones, from the same sysroot.
        cross = load_cross()
        build = os.path.join(os.getcwd(), "vm-arm64")
        os.makedirs(build, exist_ok=True)
        btf = cross.btf_of_image(kernel, os.path.join(build, "vmlinux.btf"))
        t0 = time.time()
        root, redline = cross.build(build, btf, os.cpu_count(),
                                    extra=("busybox-static", "bpftool"),
                                    quick=True)
        print(f"info: arm64 cross build {time.time() - t0:.0f} s")
        cc, bpftool = "aarch64-linux-gnu-gcc", os.path.join(
            root, "usr", "sbin", "bpftool")
        go_tls_helper(go, goarch="arm64")
    subprocess.run([cc, "-O2", "-static", "-o", storm, src], check=True)
    return {"redline": redline, "rl_sysstorm": storm, "bpftool": bpftool,
            "rl_gotls": go}, root


def run_vm(tag):
    """Boots TAG's kernel with the initramfs; returns (console, info)."""
    arch = vmkit.KERNELS[tag][3]
    kernel = os.environ.get("RL_VM_KERNEL")
    if not kernel:
        try:
            kernel = vmkit.fetch_kernel(
                os.path.join(os.getcwd(), "vm-kernel", tag), tag)
        except vmkit.FetchError as e:
            skip(str(e))
    with tempfile.TemporaryDirectory() as tmp:
        binaries, root = guest_binaries(arch, kernel, tmp)
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        initrd = vmkit.build_initramfs(
            tmp, binaries, {"N": N, "O": O, "H": H, "PORT": PORT,
                            "GO_N": GO_N, "GO_RST": GO_RST,
                            "DEBUG": os.environ.get("RL_VM_DEBUG", "")},
            files={"cert.pem": cert, "key.pem": key}, sysroot=root)
        out, secs = vmkit.boot(kernel, initrd, timeout=900, arch=arch)
        if crashed_before_init(out):
            # Seen once in CI on 6.12: "Oops: int3" in sched_clock_cpu
            # during an initcall, a static-key patch site that multi-threaded
            # TCG ran from a stale translation after the kernel had finished
            # text_poke_bp(). Nothing of redline had run: boot once more.
            print("info: the kernel crashed while booting, before init "
                  f"(emulator, not redline): {panic_line(out)}; booting again")
            out, secs = vmkit.boot(kernel, initrd, timeout=900, arch=arch)
    if os.environ.get("RL_VM_DEBUG"):
        print(out)
    tagged = vmkit.tagged_lines(out)
    info = {}
    for l in tagged:
        k, _, v = l.partition(" ")
        info.setdefault(k, v)
    print(f"info: VM ran {secs:.0f} s; kernel {info.get('kernel')} "
          f"{info.get('version')}")
    for l in tagged:
        if l.startswith(("check:", "agent:")):
            print("  " + l)
    if "RLVM metrics_end" not in out:
        print("\n".join(out.splitlines()[-40:]))
        check(False, f"the VM printed its metrics (console's end above; "
              f"exit after {secs:.0f} s)")
    body = out.split("RLVM metrics_begin\n", 1)[-1].split("RLVM metrics_end",
                                                          1)[0]
    return parse_metrics(body), info


def check_kernel(tag, info):
    _, release, rt, _ = vmkit.KERNELS[tag]
    check(info.get("kernel", "").startswith(release) and
          ("PREEMPT_RT" in info.get("version", "")) == rt,
          f"booted {tag}: {info.get('kernel')} ({info.get('version')}), "
          f"BTF {info.get('btf')} bytes")
    check(info.get("check_rc") == "0", f"redline check exit 0 "
          f"({info.get('check_rc')})")
    check("ready_s" in info, f"agent ready in {info.get('ready_s')} s "
          "(emulated CPU)")


def check_programs(tag, m):
    att = {dict(l)["program"]: (v, dict(l).get("reason", ""))
           for l, v in series(m, "redline_bpf_program_attached").items()}
    down = {p: r for p, (v, r) in att.items() if v != 1}
    print(f"info: {len(att)} programs, not attached: {down}")
    check(len(att) >= 15 and all(r for r in down.values()),
          f"{len(att) - len(down)} of {len(att)} programs attached on {tag}, "
          f"every other with a reason")
    l7 = sorted(p for p, (v, _) in att.items() if p.startswith("l7/") and v)
    want = L7_SOCK if vmkit.KERNELS[tag][1] != "6.1." else L7_SYS_EXIT
    check(l7 == want, f"l7: socket I/O from "
          f"{'sys_exit' if want == L7_SYS_EXIT else 'sock tracepoints'} "
          f"on {tag} (attached {l7})")
    bad = readme_table.diff(tag, att)
    check(not bad, f"README.md's program table, column {tag}, is what the "
          f"VM shows{': ' + '; '.join(bad) if bad else ''}")


def check_counts(m, info):
    got = sum(series(m, "redline_syscalls_total", comm="rl_sysstorm",
                     syscall="getppid").values())
    check(got == N, f"rl_sysstorm's getppid calls counted exactly: "
          f"{got:.0f} == {N}")
    # Static: the loader opens nothing, so openat is the workload's O
    # failed calls only. With getppid, proof the names are this
    # architecture's (arm64: 56 and 173; on x86_64 those are clone and
    # ioperm).
    opens = sum(series(m, "redline_syscalls_total", comm="rl_sysstorm",
                       syscall="openat").values())
    enoent = value(m, "redline_syscall_errors_total", comm="rl_sysstorm",
                   syscall="openat", errno="ENOENT")
    check(opens == O and enoent == O, f"rl_sysstorm's openat calls {opens:.0f}"
          f", ENOENT {enoent:.0f}, both == {O}")
    cpu = sum(series(m, "redline_cpu_seconds_total",
                     comm="rl_sysstorm").values())
    ru = float(info.get("rusage") or 0)
    # rusage is printed to 10 ms; the helper's exec (pre-rename) is not
    # rl_sysstorm's in redline.
    check(ru > 0 and abs(cpu - ru) <= 0.1 * ru + 0.02,
          f"sched: rl_sysstorm's CPU {cpu:.3f} s vs rusage {ru:.2f} s")
    cli = value(m, "redline_http_client_requests_total", comm="wget",
                remote="127.0.0.1:8080", status_class="2xx")
    check(cli == H, f"l7: wget's {H} requests to httpd seen ({cli:.0f})")
    # busybox httpd answers from a child forked after accept: connections
    # are the kernel's sockets, so the child's I/O is found and counted.
    srv = value(m, "redline_http_server_requests_total", comm="httpd",
                local_port="8080", status_class="2xx")
    check(srv == H, f"l7: httpd's server side (fork after accept) {srv:.0f}"
          f" == {H}")
    ok = value(m, "redline_tcp_connects_total", comm="wget",
               remote="127.0.0.1:8080", result="ok")
    bad = value(m, "redline_tcp_connects_total", comm="wget",
                remote="127.0.0.1:9", result="failed")
    check(ok == H and bad == 1, f"tcp: wget's connects {ok:.0f} ok (want {H})"
          f", {bad:.0f} refused (want 1)")


def tally(line):
    """The helper's "got 2xx=N ..." or "served ..." as {class: N}."""
    out = {}
    for kv in (line or "").split()[1:]:
        k, _, v = kv.partition("=")
        if k.endswith("xx") and int(v):
            out[k] = int(v)
    return out


def check_tls(m, info):
    want = go_tls_expected(GO_N)
    got = {p: tally(info.get(f"go_{p}")) for p in ("h1", "h2")}
    served = info.get("go_srv") or ""
    check(got == {"h1": want, "h2": want} and
          f"h1={GO_N} h2={GO_N}" in served,
          f"the Go clients got {got} (want {want} each); server: {served}")
    files = value(m, "redline_tls_library_files", library="go")
    check(files == 1, f"tls: the Go executable probed ({files:.0f} file)")
    for fam in ("redline_http", "redline_http2"):
        for side, comm in (("server", "rl_gotls_srv"),
                           ("client", "rl_gotls_cli")):
            name = f"{fam}_{side}_requests_total"
            n = by_class(m, {}, name, comm=comm, tls="true")
            check(n == want, f"tls: {name} of {comm} {n} == {want}")
    rst = info.get("go_rst") or ""
    check(rst == f"restart requests={GO_RST} served={GO_RST}",
          f"tls: the restart helper said {rst!r}")
    for side in ("server", "client"):
        name = f"redline_http_{side}_requests_total"
        n = label_deltas(m, {}, name, "method", comm="rl_gotls_rst")
        check(n == {"GET": GO_RST}, f"tls: Go writes that started over at "
              f"their stack check counted once: {name} {n}")


def cpu_stat(line):
    """say's one-line cpu.stat excerpt as {key: int}."""
    f = (line or "").split()
    return {k: int(v) for k, v in zip(f[::2], f[1::2]) if v.isdigit()}


def check_throttle(m, info):
    a, b = cpu_stat(info.get("throttle_a")), cpu_stat(info.get("throttle_b"))
    check(a and a == b and a.get("nr_throttled", 0) > 3,
          f"throttle: a burner throttled by cpu.max, then frozen ({a} then "
          f"{b}; {info.get('throttle_a')!r})")
    got = value(m, "redline_cpu_throttled_seconds_total", comm="rl_quota")
    want = a.get("throttled_usec", -1) / 1e6
    check(abs(got - want) < 1e-6, f"throttle (cgroup v2): redline "
          f"{got:.6f} s == cpu.stat throttled_usec {want:.6f} s")
    got = value(m, "redline_cpu_throttled_periods_total", comm="rl_quota")
    check(got == a.get("nr_throttled", -1), f"throttle (cgroup v2): "
          f"{got:.0f} periods == cpu.stat nr_throttled "
          f"{a.get('nr_throttled')}")


def check_detach(info):
    check(info.get("agent_rc") == "0", f"SIGTERM: exit {info.get('agent_rc')}")
    check(info.get("before") and info.get("after") == info.get("before"),
          f"bpftool prog/map/link counts after = before "
          f"({info.get('after')} vs {info.get('before')}; while running "
          f"{info.get('running')})")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in vmkit.KERNELS:
        print(f"usage: {sys.argv[0]} {{{','.join(vmkit.KERNELS)}}}")
        sys.exit(2)
    tag = sys.argv[1]
    arch = vmkit.KERNELS[tag][3]
    tools = [vmkit.QEMU[arch][0], "cpio", "go"] + (
        ["busybox", "bpftool"] if arch == "amd64" else
        ["aarch64-linux-gnu-g++"])
    for tool in tools:
        if not shutil.which(tool):
            skip(f"{tool} not installed (scripts/install-deps.sh)")
    m, info = run_vm(tag)
    check_kernel(tag, info)
    check_programs(tag, m)
    check_counts(m, info)
    check_tls(m, info)
    check_throttle(m, info)
    check_detach(info)


if __name__ == "__main__":
    main()
