#!/usr/bin/env python3
"""The include-direction check fails when it should: on a copy of the tree
with one wrong include planted at a time, and passes on the copy as is."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import include_direction  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}")
        sys.exit(1)
    print(f"ok: {msg}")


def copy_tree(dst):
    for d in ("agent", "exporters", "bpf"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(dst, d))


def planted(rel, text, append=True):
    """Errors of the check on a fresh copy with `text` added to rel."""
    with tempfile.TemporaryDirectory() as tmp:
        copy_tree(tmp)
        path = os.path.join(tmp, rel)
        with open(path, "a" if append else "w") as f:
            f.write(text)
        return include_direction.check(tmp)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        copy_tree(tmp)
        check(include_direction.check(tmp) == [], "the tree as it is passes")
    e = planted("agent/model/model.h", '\n#include "agent/probes/probe.h"\n')
    check(len(e) == 1 and "agent/model/model.h" in e[0] and "probes" in e[0],
          f"model including probes fails: {e}")
    e = planted("agent/metrics/use_metrics.cc",
                '\n#include "agent/slo/slo_engine.h"\n')
    check(len(e) == 1 and "slo" in e[0], f"metrics including slo fails: {e}")
    e = planted("agent/model/model.cc", '\n#include <bpf/libbpf.h>\n')
    check(len(e) == 1 and "libbpf" in e[0], f"libbpf outside probes fails: {e}")
    e = planted("exporters/registry.cc", '\n#include "agent/base/logging.h"\n')
    check(len(e) == 1 and "exporters/registry.cc" in e[0],
          f"exporters including the agent fails: {e}")
    e = planted("agent/identity/CMakeLists.txt",
                "\ntarget_link_libraries(redline_identity PUBLIC redline_model)\n")
    check(len(e) == 1 and "redline_model" in e[0],
          f"a CMake link against the direction fails: {e}")
    e = planted("agent/top/README.md", "# top\n\nNo line.\n", append=False)
    check(any("no 'May include:' line" in x for x in e),
          f"a folder without its rule fails: {e}")
    e = planted("agent/top/top_model.cc", '\n#include "agent/app/flags.h"\n')
    check(len(e) == 1 and "app" in e[0], f"top including app fails: {e}")


if __name__ == "__main__":
    main()
