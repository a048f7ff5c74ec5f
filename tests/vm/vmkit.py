"""Kernels, initramfs and qemu for tests/vm/kernel_vm_test.py.

Each kernel of the matrix is named by a Debian 12 meta-package: whatever
version it depends on today is the one downloaded (scripts/debfetch.py:
`apt-get download`, not installed), so a new point release in the archive
is picked up on a clean build tree, and a cached one is reused until then.
"""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import debfetch  # noqa: E402

# tag: (meta-package, uname -r prefix, PREEMPT_RT?, architecture).
# bookworm-security carries the 6.12 ones; arm64 boots under
# qemu-system-aarch64 with a cross-built agent (scripts/cross-arm64.py).
KERNELS = {
    "6.1": ("linux-image-cloud-amd64", "6.1.", False, "amd64"),
    "6.12": ("linux-image-6.12-cloud-amd64", "6.12.", False, "amd64"),
    "6.12-rt": ("linux-image-6.12-rt-amd64", "6.12.", True, "amd64"),
    "arm64": ("linux-image-cloud-arm64", "6.1.", False, "arm64"),
}
FetchError = debfetch.FetchError


def fetch_kernel(cache, tag):
    """vmlinuz of TAG's kernel, cached under `cache`."""
    meta, _, _, arch = KERNELS[tag]
    return debfetch.kernel_image(cache, meta, arch)


def shared_libs(binary):
    """The libraries ldd lists for binary; none for a static one (ldd
    exits 1: "not a dynamic executable")."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0 and "not a dynamic executable" in r.stdout + r.stderr:
        return []
    if r.returncode != 0:
        raise RuntimeError(f"ldd {binary}: {r.stderr.strip()}")
    out = r.stdout
    libs = re.findall(r"=> (/\S+)", out)
    libs += re.findall(r"^\s*(/\S+ld-linux\S*)", out, re.M)
    return libs


def cross_libs(binary, root):
    """ldd for a binary of another architecture: the loader and the NEEDED
    libraries, transitively, found in the sysroot `root` under the
    multiarch directories; as absolute paths of the guest."""
    dirs = ("lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu")
    out, todo = set(), [binary]
    interp = re.search(r"interpreter: (\S+)\]", subprocess.run(
        ["readelf", "-l", binary], capture_output=True, text=True).stdout)
    if interp:
        out.add(interp.group(1))
    while todo:
        dyn = subprocess.run(["readelf", "-d", todo.pop()],
                             capture_output=True, text=True).stdout
        for name in re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                               dyn):
            found = [f"/{d}/{name}" for d in dirs
                     if os.path.exists(os.path.join(root, d, name))]
            if not found:
                raise RuntimeError(f"{binary} needs {name}: not in {root}")
            if found[0] not in out:
                out.add(found[0])
                todo.append(os.path.join(root, found[0][1:]))
    return sorted(out)


def build_initramfs(tmp, binaries, env, files=None, sysroot=None):
    """A cpio of busybox, tests/vm/init.sh as /init, `binaries` (name:
    path) with their shared libraries, `files` (name: path) in /etc/rlvm,
    and /rlvm.env from `env`. sysroot: the binaries are of another
    architecture; busybox and the libraries come from there."""
    root = os.path.join(tmp, "root")
    for d in ("bin", "usr/bin", "proc", "sys", "dev", "tmp", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox = os.path.join(sysroot, "bin", "busybox") if sysroot else \
        shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    shutil.copy(os.path.join(HERE, "init.sh"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "rlvm.env"), "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in env.items())
    os.makedirs(os.path.join(root, "etc", "rlvm"), exist_ok=True)
    for name, path in (files or {}).items():
        shutil.copy(path, os.path.join(root, "etc", "rlvm", name))
    libs = set()
    for name, path in binaries.items():
        shutil.copy(path, os.path.join(root, "usr/bin", name))
        libs.update(cross_libs(path, sysroot) if sysroot
                    else shared_libs(path))
    # Debian 12 is merged-/usr: libraries and the loader under the paths
    # ldd printed, which the binaries look up.
    for lib in libs:
        dest = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        src = os.path.join(sysroot, lib[1:]) if sysroot else lib
        shutil.copy(os.path.realpath(src), dest)
    img = os.path.join(tmp, "initrd.cpio")
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           text=True, check=True).stdout
    with open(img, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=files.encode(), stdout=out, check=True)
    return img


# arch: (qemu, machine options, serial console). arm64: qemu's generic
# `virt` board, a Cortex-A57 (ARMv8.0: `max` would emulate pointer
# authentication and SVE too, slower under TCG), the PL011 UART.
QEMU = {
    "amd64": ("qemu-system-x86_64", [], "ttyS0"),
    "arm64": ("qemu-system-aarch64", ["-M", "virt", "-cpu", "cortex-a57"],
              "ttyAMA0"),
}


def boot(kernel, initrd, timeout, arch="amd64"):
    """Boots under TCG (no /dev/kvm needed); returns (console, seconds).
    noirqdebug: PREEMPT_RT's threaded handler of the emulated UART is slow
    enough that the kernel calls IRQ 4 spurious and disables it, printing
    into the metrics on the console and polling the UART from then on.
    thread=single: one host thread runs both vCPUs. Multi-threaded TCG can
    run a translation of code another vCPU just patched (text_poke_bp of a
    static key: an int3 Oops while booting 6.12, once; a guest gone after
    the agent's SIGTERM detached its programs, and a Go helper that died
    under uprobes, 2 of 8 runs of the 6.12 VM one day). Single-threaded on
    the 2-core CI host the VMs ran no slower: 6.12 in 37-41 s (41-55 s
    multi-threaded), 6.1 and arm64 in 29 s, two VMs at a time."""
    qemu, machine, console = QEMU[arch]
    cmd = [qemu, *machine, "-accel", "tcg,thread=single", "-m", "1536",
           "-smp", "2",
           "-kernel", kernel, "-initrd", initrd, "-nographic",
           "-no-reboot", "-nic", "none",
           "-append", f"console={console} panic=-1 quiet loglevel=3 "
           "noirqdebug"]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, errors="replace")
    return r.stdout.replace("\r", ""), time.time() - t0


def tagged_lines(console):
    # A line may start with the terminal escapes SeaBIOS printed.
    return [l.split("RLVM ", 1)[1] for l in console.splitlines()
            if "RLVM " in l]
