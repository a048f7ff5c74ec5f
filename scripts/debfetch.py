"""Debian packages fetched, not installed: kernels to boot and sysroots to
cross-build against (scripts/cross-arm64.py, tests/vm).

`apt-get download` into a cache, `dpkg-deb` to unpack: nothing of the
host's package state changes, so an :arm64 -dev package that is not
Multi-Arch: same (libyaml-cpp-dev) cannot remove the host's own, and a
closure of :arm64 libraries cannot upgrade the host's. apt must know the
architecture (`dpkg --add-architecture arm64 && apt-get update`, as
scripts/install-deps.sh does).
"""
import os
import re
import subprocess
import tempfile


class FetchError(Exception):
    pass


def download(pkgs, dest):
    """Downloads pkgs (names, `name:arch` for a foreign one) into dest."""
    os.makedirs(dest, exist_ok=True)
    r = subprocess.run(["apt-get", "download", *pkgs], cwd=dest,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise FetchError(f"apt-get download failed (network? apt-get "
                         f"update?): {r.stderr.strip()[-300:]}")


def closure(pkgs, arch):
    """pkgs (of arch) and every package of arch they depend on, by name:
    Depends and Pre-Depends only (apt-cache also lists each alternative;
    an extra one unpacked does no harm)."""
    r = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances", *(f"{p}:{arch}" for p in pkgs)],
        capture_output=True, text=True)
    names = sorted({l for l in r.stdout.splitlines()
                    if l.endswith(f":{arch}") and not l.startswith(" ")})
    missing = [p for p in pkgs if f"{p}:{arch}" not in names]
    if r.returncode != 0 or missing:
        raise FetchError(f"apt does not know {missing or pkgs} for {arch} "
                         f"(dpkg --add-architecture {arch}; apt-get update; "
                         f"scripts/install-deps.sh does both)")
    return names


def unpack(deb, dest, members=None):
    """Unpacks deb's files (or only `members`, tar wildcards) under dest."""
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb],
                           stdout=subprocess.PIPE)
    r = subprocess.run(["tar", "-x", "-C", dest, "--wildcards",
                        *(members or [])], stdin=tar.stdout,
                       capture_output=True, text=True)
    if tar.wait() != 0 or r.returncode != 0:
        raise FetchError(f"cannot unpack {deb} (disk full? a damaged "
                         f"download?): {r.stderr.strip()[-200:]}")


def cached_kernel(cache):
    boot = os.path.join(cache, "boot")
    found = sorted(f for f in os.listdir(boot) if f.startswith("vmlinuz-")) \
        if os.path.isdir(boot) else []
    return os.path.join(boot, found[-1]) if found else None


def kernel_image(cache, meta, arch="amd64"):
    """vmlinuz of the kernel the meta-package `meta` (of arch) depends on
    today, cached under `cache`: a new point release in the archive is
    picked up by a clean cache, a cached one is reused until then."""
    found = cached_kernel(cache)
    if found:
        return found
    os.makedirs(cache, exist_ok=True)
    dep = subprocess.run(["apt-cache", "depends", f"{meta}:{arch}"],
                         capture_output=True, text=True).stdout
    m = re.search(rf"Depends: (linux-image-\S+-{arch})", dep)
    if not m:
        raise FetchError(f"apt does not know {meta}:{arch} (apt-get update?"
                         f" dpkg --add-architecture {arch}?)")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        # The unsigned image is the same kernel without the EFI signature.
        for pkg in (m.group(1) + "-unsigned", m.group(1)):
            try:
                download([f"{pkg}:{arch}"], tmp)
                break
            except FetchError as e:
                err = e
        else:
            raise FetchError(f"cannot download {m.group(1)}: {err}")
        deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
        # Only /boot: the modules (most of the package) are not needed,
        # the initramfs has none and every feature used is built in.
        unpack(os.path.join(tmp, deb), tmp, ["./boot/vmlinuz-*"])
        # Atomic: an interrupted run leaves no half-extracted cache.
        os.rename(os.path.join(tmp, "boot"), os.path.join(cache, "boot"))
    return cached_kernel(cache)
