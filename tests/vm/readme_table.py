"""The README's per-kernel table of BPF programs, against a VM's metrics.

README.md holds, between `<!-- vm-programs -->` and `<!-- /vm-programs -->`,
a Markdown table: a row per program, a column per kernel tag of
tests/vm/vmkit.KERNELS. A cell starts with `yes` (attached), `no`
(loaded or tried, not attached: the agent exports a reason) or `-` (not
loaded: the path this kernel does not need, not listed by the agent).
"""
import os

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "README.md")


def readme_column(tag, path=README):
    """{program: 'yes'|'no'|'-'} of the column headed `tag`."""
    text = open(path).read()
    begin, end = "<!-- vm-programs -->", "<!-- /vm-programs -->"
    if begin not in text or end not in text:
        raise ValueError(f"{path}: no {begin} ... {end} table")
    rows = [l.strip().strip("|").split("|")
            for l in text.split(begin, 1)[1].split(end, 1)[0].splitlines()
            if l.strip().startswith("|")]
    head = [c.strip().strip("`") for c in rows[0]]
    if tag not in head:
        raise ValueError(f"{path}: vm-programs table has no column {tag}")
    col = head.index(tag)
    out = {}
    for r in rows[2:]:  # past the header and its |---| line
        cell = r[col].strip()
        state = cell.split(":", 1)[0].split(" ", 1)[0]
        if state not in ("yes", "no", "-"):
            raise ValueError(f"{path}: cell '{cell}' of {tag} is not "
                             "yes/no/-")
        out[r[0].strip().strip("`")] = state
    return out


def observed(attached):
    """{program: 'yes'|'no'} from {program: (value, reason)}; programs not
    listed are '-' in the README. The tls/ programs (uprobes, only with
    --tls) are not in the table: the VM test's TLS phase checks them."""
    return {p: "yes" if v == 1 else "no" for p, (v, _) in attached.items()
            if not p.startswith("tls/")}


def diff(tag, attached, path=README):
    """Lines saying where README and the VM disagree (empty: they agree)."""
    want = readme_column(tag, path)
    got = observed(attached)
    out = []
    for p in sorted(set(want) | set(got)):
        w, g = want.get(p, "(no row)"), got.get(p, "-")
        if w != g:
            out.append(f"{p}: README says {w}, {tag} shows {g}")
    return out
