#!/usr/bin/env python3
"""Builds redline for arm64 on an x86_64 Debian 12 host.

Usage: scripts/cross-arm64.py [--build-dir DIR] [--btf FILE |
                              --kernel-image FILE] [--jobs N]

- C++: Debian's cross compiler (g++-aarch64-linux-gnu) against a sysroot
  of Debian's :arm64 packages (the -dev packages redline builds with and
  every library they depend on), downloaded and unpacked under
  DIR/sysroot, not installed (scripts/debfetch.py says why). Rebuilt only
  when the archive's versions change.
- BPF: the objects are compiled for __TARGET_ARCH_arm64 (other pt_regs,
  other syscall argument registers), against an arm64 kernel's BTF for
  vmlinux.h: --btf FILE, or the .BTF section of an uncompressed arm64
  kernel Image (--kernel-image, e.g. /boot/vmlinuz-* of Debian's
  linux-image-*-arm64: arm64 Images are not ELF, so the section is found by
  its header: magic 0xeB9F, version 1, 24-byte header, type and string
  sections back to back, and then checked by bpftool). Without either,
  Debian 12's arm64 cloud kernel is downloaded (cached in DIR/kernel).
  CO-RE relocates against the running kernel's BTF at load, as on x86_64.

Prints the path of the arm64 redline binary (DIR/agent/redline).
Needs `dpkg --add-architecture arm64` and g++-aarch64-linux-gnu:
scripts/install-deps.sh does both.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import debfetch  # noqa: E402

SRC = os.path.dirname(HERE)
# What CMakeLists.txt finds (the runtime libraries come as dependencies),
# the C and C++ runtime to link against.
PKGS = ["libbpf-dev", "libelf-dev", "zlib1g-dev", "libabsl-dev",
        "libcpp-httplib-dev", "libnghttp2-dev", "libcapstone-dev",
        "libncurses-dev", "libyaml-cpp-dev", "libssl-dev", "libcrypt-dev",
        "libprotobuf-dev", "libc6-dev", "libstdc++-12-dev"]
# Architecture: all (headers only): not named with :arm64.
PKGS_ALL = ["nlohmann-json3-dev"]
META_KERNEL = "linux-image-cloud-arm64"
BTF_MAGIC = b"\x9f\xeb\x01\x00\x18\x00\x00\x00"  # magic, v1, flags, hdr_len


def debs_of(names):
    """The .deb file names (with versions) apt would download today."""
    r = subprocess.run(["apt-get", "download", "--print-uris", *names],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise debfetch.FetchError(f"apt-get download --print-uris: "
                                  f"{r.stderr.strip()[-300:]}")
    return sorted(l.split()[1] for l in r.stdout.splitlines() if l)


def relative_links(root):
    """Absolute symlinks (libz.so -> /lib/aarch64-linux-gnu/libz.so.1)
    point into the host once unpacked: make them relative to root."""
    for d, dirs, files in os.walk(root):
        for f in files + dirs:
            p = os.path.join(d, f)
            t = os.readlink(p) if os.path.islink(p) else ""
            if t.startswith("/"):
                os.unlink(p)
                os.symlink(os.path.relpath(os.path.join(root, t[1:]), d), p)


def sysroot(cache, extra=()):
    """DIR of the unpacked :arm64 closure of PKGS + extra (cached while the
    archive's versions are the same)."""
    names = debfetch.closure(PKGS + list(extra), "arm64") + PKGS_ALL
    want = "\n".join(debs_of(names)) + "\n"
    root, stamp = os.path.join(cache, "sysroot"), os.path.join(cache,
                                                             "sysroot.debs")
    if os.path.isdir(root) and os.path.exists(stamp) and \
            open(stamp).read() == want:
        return root
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        debfetch.download(names, os.path.join(tmp, "debs"))
        new = os.path.join(tmp, "root")
        os.makedirs(new)
        for deb in sorted(os.listdir(os.path.join(tmp, "debs"))):
            debfetch.unpack(os.path.join(tmp, "debs", deb), new)
        relative_links(new)
        shutil.rmtree(root, ignore_errors=True)
        os.rename(new, root)
    with open(stamp, "w") as f:
        f.write(want)
    return root


def btf_of_image(image, out):
    """Writes the .BTF section of an arm64 Image to out."""
    data = open(image, "rb").read()
    at = data.find(BTF_MAGIC)
    while at >= 0:
        type_off, type_len, str_off, str_len = struct.unpack_from(
            "<4I", data, at + 8)
        end = at + 24 + str_off + str_len
        if type_off == 0 and str_off == type_len and end <= len(data):
            with open(out + ".tmp", "wb") as f:
                f.write(data[at:end])
            # bpftool parses every type: a false match fails here.
            r = subprocess.run(["bpftool", "btf", "dump", "file",
                                out + ".tmp"], capture_output=True)
            if r.returncode == 0:
                os.rename(out + ".tmp", out)
                return out
        at = data.find(BTF_MAGIC, at + 1)
    raise debfetch.FetchError(f"{image}: no BTF (a compressed Image? "
                              f"CONFIG_DEBUG_INFO_BTF off?)")


# A build to test, not to ship (tests/vm): -O1 without debug info compiles
# the agent in ~60% of RelWithDebInfo's time (main.cc 6.9 s against
# 12.2 s). The BPF objects' flags are their own (cmake/bpf.cmake): same.
QUICK = ["-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG",
         "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG"]


def build(build_dir, btf, jobs, extra=(), quick=False):
    """Configures and builds redline for arm64 in build_dir; returns the
    sysroot and the binary. quick: QUICK's flags."""
    root = sysroot(build_dir, extra)
    cfg = ["cmake", "-S", SRC, "-B", build_dir, "-G", "Ninja",
           "--toolchain", os.path.join(SRC, "cmake", "aarch64-linux-gnu.cmake"),
           *(QUICK if quick else ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"]),
           "-DREDLINE_BUILD_TESTS=OFF",
           f"-DREDLINE_ARM64_SYSROOT={root}", f"-DREDLINE_BTF_PATH={btf}"]
    for cmd in (cfg, ["cmake", "--build", build_dir, "--target", "redline",
                      f"-j{jobs}"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])}... failed:\n"
                               f"{(r.stdout + r.stderr)[-3000:]}")
    return root, os.path.join(build_dir, "agent", "redline")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build-arm64")
    ap.add_argument("--btf")
    ap.add_argument("--kernel-image")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    a = ap.parse_args()
    if not shutil.which("aarch64-linux-gnu-g++"):
        sys.exit("cross-arm64: no aarch64-linux-gnu-g++: apt-get install "
                 "g++-aarch64-linux-gnu (scripts/install-deps.sh)")
    build_dir = os.path.abspath(a.build_dir)
    os.makedirs(build_dir, exist_ok=True)
    try:
        btf = a.btf
        if not btf:
            image = a.kernel_image or debfetch.kernel_image(
                os.path.join(build_dir, "kernel"), META_KERNEL, "arm64")
            btf = btf_of_image(image, os.path.join(build_dir, "vmlinux.btf"))
        _, binary = build(build_dir, os.path.abspath(btf), a.jobs)
    except (debfetch.FetchError, RuntimeError) as e:
        sys.exit(f"cross-arm64: {e}")
    print(binary)


if __name__ == "__main__":
    main()
