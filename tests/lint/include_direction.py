#!/usr/bin/env python3
"""The include direction of agent/, checked: each folder's README.md says on
its "May include:" line which folders its files may include, and this
fails on any #include (or CMake link to a redline_ library) outside it.

Tokens besides folder names: `exporters` (exporters/), `bpf` (the shared
BPF headers, bpf/*.h), `skeletons` (generated *.skel.h), `libbpf`
(<bpf/...> system headers). exporters/ and bpf/ may include no agent/ file.

usage: include_direction.py [ROOT]   (default: the repository)"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
MAY = re.compile(r'^May include:((?:.|\n(?!\n))*)', re.M)
LINK = re.compile(r'\bredline_([a-z][a-z0-9]*)\b')


def allowed_of(root):
    """{folder: set of tokens}; errors for folders without the line."""
    agent = os.path.join(root, "agent")
    allowed, errors = {}, []
    for d in sorted(os.listdir(agent)):
        if not os.path.isdir(os.path.join(agent, d)):
            continue
        readme = os.path.join(agent, d, "README.md")
        m = MAY.search(open(readme).read()) if os.path.exists(readme) else None
        if m is None:
            errors.append(f"agent/{d}/README.md: no 'May include:' line")
            continue
        allowed[d] = set(re.findall(r'[a-z][a-z0-9]*', m.group(1)))
    return allowed, errors


def token_of(kind, path, folders):
    """What an #include needs permission for, or None (std/abseil...)."""
    parts = path.split("/")
    if kind == '"' and parts[0] == "agent" and len(parts) > 2:
        return parts[1] if parts[1] in folders else f"agent/{parts[1]}"
    if kind == '"' and parts[0] in ("exporters", "bpf"):
        return parts[0]
    if path.endswith(".skel.h"):
        return "skeletons"
    if kind == "<" and parts[0] == "bpf":
        return "libbpf"
    return None


def check(root):
    allowed, errors = allowed_of(root)
    for d, may in allowed.items():
        base = os.path.join(root, "agent", d)
        for f in sorted(os.listdir(base)):
            rel = f"agent/{d}/{f}"
            text = open(os.path.join(base, f)).read()
            if f.endswith((".h", ".cc")):
                for kind, inc in INCLUDE.findall(text):
                    t = token_of(kind, inc, allowed)
                    if t is not None and t != d and t not in may:
                        errors.append(f"{rel}: includes {inc} ({t} is not in "
                                      f"agent/{d}/README.md's May include)")
            elif f == "CMakeLists.txt":
                for lib in LINK.findall(text):
                    if lib != d and lib in allowed and lib not in may:
                        errors.append(f"{rel}: links redline_{lib} ({lib} is "
                                      f"not in May include)")
    for low in ("exporters", "bpf"):
        base = os.path.join(root, low)
        for f in sorted(os.listdir(base)):
            if not f.endswith((".h", ".cc", ".c")):
                continue
            for kind, inc in INCLUDE.findall(open(os.path.join(base, f)).read()):
                if kind == '"' and inc.startswith("agent/"):
                    errors.append(f"{low}/{f}: includes {inc} ({low}/ is "
                                  "below the agent)")
    return errors


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    errors = check(root)
    for e in errors:
        print(f"FAIL: {e}")
    if errors:
        return 1
    print("ok: every include and link of agent/ follows its folder's README")
    return 0


if __name__ == "__main__":
    sys.exit(main())
