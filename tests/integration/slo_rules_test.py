#!/usr/bin/env python3
"""`redline rules` output checked by Prometheus's own promtool: the rule
file passes `promtool check rules`, and tests/slo/burn_rate_test.yaml
(`promtool test rules`) proves the alert timing: a 100% error burst pages
within 2 minutes and resolves after recovery, 0.05% errors against 99.9%
never fire in 3 days, 0.5% opens a ticket and no page, custom windows and
labels apply. The PrometheusRule form carries the same groups. Needs no
privileges."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from rltest import check, redline_bin  # noqa

SLO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "slo")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"{' '.join(os.path.basename(c) for c in cmd)}"
          f": {(r.stdout + r.stderr).strip()[-600:]}")
    return r.stdout


def main():
    check(shutil.which("promtool") is not None,
          "promtool installed (Debian package prometheus)")
    tmp = tempfile.mkdtemp(prefix="rl-rules-")
    try:
        rules = os.path.join(tmp, "rules.yaml")
        cfg = os.path.join(SLO, "burn_slos.yaml")
        run([redline_bin(), "rules", f"--slo-config={cfg}",
             f"--output={rules}"])
        run(["promtool", "check", "rules", rules])
        shutil.copy(os.path.join(SLO, "burn_rate_test.yaml"), tmp)
        run(["promtool", "test", "rules",
             os.path.join(tmp, "burn_rate_test.yaml")])
        op = run([redline_bin(), "rules", f"--slo-config={cfg}",
                  "--format=prometheus-operator"])
        check(op.count("kind: PrometheusRule") == 1 and "spec:" in op,
              "prometheus-operator format is a PrometheusRule")
        # Its spec, unindented, is the same rule file: promtool agrees.
        body = op.split("spec:\n", 1)[1]
        spec = os.path.join(tmp, "spec.yaml")
        with open(spec, "w") as f:
            f.write("\n".join(l[2:] for l in body.splitlines()) + "\n")
        out = run(["promtool", "check", "rules", spec])
        check("SUCCESS: 17 rules found" in out, "PrometheusRule spec: 17 "
              "rules (2 SLOs: 7 + 7 windows recorded, 2 + 1 alerts)")
        with open(spec) as a, open(rules) as b:
            check(a.read() == b.read().split("\n", 1)[1],
                  "PrometheusRule spec equals the rule file")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
