#!/usr/bin/env python3
"""scripts/cross-arm64.py's pure parts, without network or a cross build:

- btf_of_image finds the .BTF section inside an arm64 Image by its header:
  the running kernel's BTF (/sys/kernel/btf/vmlinux) embedded at an odd
  offset in filler, after a decoy magic whose header does not add up, comes
  out byte for byte; an image without BTF is a one-line error.
- relative_links rewrites the absolute symlinks an unpacked .deb has
  (libz.so -> /lib/...) to point inside the sysroot.
- tests/vm/vmkit.cross_libs resolves an arm64 binary's loader and NEEDED
  libraries transitively inside a sysroot (a stand-in sysroot of the
  cross compiler's own libraries), and names a missing one.
"""
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
spec = importlib.util.spec_from_file_location(
    "cross_arm64", os.path.join(SRC, "scripts", "cross-arm64.py"))
cross = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cross)
sys.path.insert(0, os.path.join(SRC, "tests", "vm"))
import vmkit  # noqa: E402

BTF = "/sys/kernel/btf/vmlinux"


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        sys.exit(1)


def test_btf(tmp):
    if not os.path.exists(BTF) or not shutil.which("bpftool"):
        print(f"info: no {BTF} or bpftool: BTF extraction not checked")
        return
    btf = open(BTF, "rb").read()
    # A decoy: the magic and header length, offsets that do not add up.
    decoy = cross.BTF_MAGIC + struct.pack("<4I", 0, 100, 7, 5)
    image = os.path.join(tmp, "Image")
    with open(image, "wb") as f:
        f.write(b"\0" * 4097 + decoy + b"\x55" * 333 + btf + b"\xaa" * 999)
    out = cross.btf_of_image(image, os.path.join(tmp, "out.btf"))
    check(open(out, "rb").read() == btf,
          f"BTF ({len(btf)} bytes) found past a decoy, byte for byte")
    with open(image, "wb") as f:
        f.write(b"\0" * 8192 + decoy)
    try:
        cross.btf_of_image(image, os.path.join(tmp, "none.btf"))
        check(False, "an Image without BTF is an error")
    except cross.debfetch.FetchError as e:
        check("no BTF" in str(e) and "\n" not in str(e),
              f"an Image without BTF: {e}")


def test_links(tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "lib", "x"))
    os.makedirs(os.path.join(root, "usr", "lib", "x"))
    open(os.path.join(root, "lib", "x", "libz.so.1"), "w").close()
    os.symlink("/lib/x/libz.so.1", os.path.join(root, "usr/lib/x/libz.so"))
    os.symlink("libz.so.1", os.path.join(root, "lib/x/libz.so.keep"))
    cross.relative_links(root)
    link = os.path.join(root, "usr/lib/x/libz.so")
    check(os.readlink(link) == "../../../lib/x/libz.so.1" and
          os.path.exists(link) and
          os.readlink(os.path.join(root, "lib/x/libz.so.keep")) == "libz.so.1",
          f"absolute link made relative: {os.readlink(link)}")


def test_cross_libs(tmp):
    cc = "aarch64-linux-gnu-gcc"
    if not shutil.which(cc):
        print(f"info: no {cc}: cross_libs not checked")
        return
    src, binary = os.path.join(tmp, "m.c"), os.path.join(tmp, "m")
    open(src, "w").write("#include <math.h>\nint main(int c, char **v)"
                         "{ return (int)sqrt((double)c); }\n")
    subprocess.run([cc, "-o", binary, src, "-lm"], check=True)
    # The cross compiler's own libraries as a sysroot's multiarch dir.
    root = os.path.join(tmp, "sysroot")
    lib = os.path.join(root, "lib", "aarch64-linux-gnu")
    os.makedirs(lib)
    for name in ("libm.so.6", "libc.so.6", "ld-linux-aarch64.so.1"):
        shutil.copy(os.path.join("/usr/aarch64-linux-gnu/lib", name), lib)
    got = vmkit.cross_libs(binary, root)
    want = ["/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
            "/lib/aarch64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libm.so.6", "/lib/ld-linux-aarch64.so.1"]
    check(got == want, f"loader and NEEDED, transitively: {got}")
    os.unlink(os.path.join(lib, "libm.so.6"))
    try:
        vmkit.cross_libs(binary, root)
        check(False, "a missing library is an error")
    except RuntimeError as e:
        check("libm.so.6" in str(e), f"a missing library named: {e}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_btf(tmp)
        test_links(tmp)
        test_cross_libs(tmp)


if __name__ == "__main__":
    main()
