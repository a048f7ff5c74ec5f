"""Kernels, initramfs and qemu for tests/vm/kernel_vm_test.py.

Each kernel of the matrix is named by a Debian 12 meta-package: whatever
version it depends on today is the one downloaded (`apt-get download`, not
installed), so a new point release in the archive is picked up on a clean
build tree, and a cached one is reused until then.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# tag: (meta-package, uname -r prefix, PREEMPT_RT?). bookworm-security
# carries the 6.12 ones.
KERNELS = {
    "6.1": ("linux-image-cloud-amd64", "6.1.", False),
    "6.12": ("linux-image-6.12-cloud-amd64", "6.12.", False),
    "6.12-rt": ("linux-image-6.12-rt-amd64", "6.12.", True),
}


class FetchError(Exception):
    pass


def cached_kernel(cache):
    boot = os.path.join(cache, "boot")
    found = sorted(f for f in os.listdir(boot) if f.startswith("vmlinuz-")) \
        if os.path.isdir(boot) else []
    return os.path.join(boot, found[-1]) if found else None


def fetch_kernel(cache, meta):
    """vmlinuz of the kernel `meta` depends on, cached under `cache`."""
    found = cached_kernel(cache)
    if found:
        return found
    os.makedirs(cache, exist_ok=True)
    dep = subprocess.run(["apt-cache", "depends", meta],
                         capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-\S+-amd64)", dep)
    if not m:
        raise FetchError(f"apt does not know {meta} (apt-get update?)")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        # The unsigned image is the same kernel without the EFI signature.
        for pkg in (m.group(1) + "-unsigned", m.group(1)):
            r = subprocess.run(["apt-get", "download", pkg], cwd=tmp,
                               capture_output=True, text=True)
            if r.returncode == 0:
                break
        else:
            raise FetchError(f"cannot download {m.group(1)}: "
                             f"{r.stderr.strip()[-200:]}")
        deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
        # Only /boot: the modules (most of the package) are not needed,
        # the initramfs has none and every feature used is built in.
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], cwd=tmp,
                               stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "--wildcards", "./boot/vmlinuz-*"],
                       cwd=tmp, stdin=tar.stdout, check=True)
        if tar.wait() != 0:
            raise FetchError(f"dpkg-deb could not read {deb}")
        # Atomic: an interrupted run leaves no half-extracted cache.
        os.rename(os.path.join(tmp, "boot"), os.path.join(cache, "boot"))
    return cached_kernel(cache)


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


def build_initramfs(tmp, binaries, env, files=None):
    """A cpio of busybox, tests/vm/init.sh as /init, `binaries` (name:
    path) with their shared libraries, `files` (name: path) in /etc/rlvm,
    and /rlvm.env from `env`."""
    root = os.path.join(tmp, "root")
    for d in ("bin", "usr/bin", "proc", "sys", "dev", "tmp", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(shutil.which("busybox") or "/bin/busybox",
                os.path.join(root, "bin", "busybox"))
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
        libs.update(shared_libs(path))
    # Debian 12 is merged-/usr: libraries and the loader under the paths
    # ldd printed, which the binaries look up.
    for lib in libs:
        dest = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.realpath(lib), dest)
    img = os.path.join(tmp, "initrd.cpio")
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           text=True, check=True).stdout
    with open(img, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=files.encode(), stdout=out, check=True)
    return img


def boot(kernel, initrd, timeout):
    """Boots under TCG (no /dev/kvm needed); returns (console, seconds).
    noirqdebug: PREEMPT_RT's threaded handler of the emulated UART is slow
    enough that the kernel calls IRQ 4 spurious and disables it, printing
    into the metrics on the console and polling the UART from then on."""
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", "1536", "-smp", "2",
           "-kernel", kernel, "-initrd", initrd, "-nographic",
           "-no-reboot", "-nic", "none",
           "-append", "console=ttyS0 panic=-1 quiet loglevel=3 noirqdebug"]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, errors="replace")
    return r.stdout.replace("\r", ""), time.time() - t0


def tagged_lines(console):
    # A line may start with the terminal escapes SeaBIOS printed.
    return [l.split("RLVM ", 1)[1] for l in console.splitlines()
            if "RLVM " in l]
