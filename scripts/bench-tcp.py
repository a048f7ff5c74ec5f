#!/usr/bin/env python3
"""Benchmarks the cost of redline's TCP programs (issue 5 target): loopback
bulk-transfer throughput in a network namespace (build/tests/rl_tcp: the
client sends N bytes, the server sends them back), with no agent and with
`redline run --probes=tcp`, interleaved over R rounds; ratio of median
throughputs. Target: at least 0.97. Needs root and a build.

usage: scripts/bench-tcp.py [--build DIR] [--rounds R] [--mib N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import rltest  # noqa: E402


def transfer_seconds(helper, mib, tmp):
    script = f"""ip link set lo up
{helper} serve 127.0.0.1 18090 {mib << 20} > {tmp}/ready &
while ! grep -q listening {tmp}/ready 2>/dev/null; do sleep 0.01; done
start=$(date +%s.%N)
{helper} send 127.0.0.1 18090 {mib << 20}
end=$(date +%s.%N)
wait
rm -f {tmp}/ready
echo "$start $end"
"""
    out = subprocess.run(["unshare", "-n", "sh", "-ec", script], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[1]) - float(out[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mib", type=int, default=2048)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-tcp: needs root (BPF, network namespaces)")
    os.environ.setdefault("REDLINE_BIN",
                          os.path.join(args.build, "agent", "redline"))
    helper = os.path.abspath(os.path.join(args.build, "tests", "rl_tcp"))
    rates = {"none": [], "tcp": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for mode in rates:
                agent = rltest.Agent("--probes=tcp") if mode == "tcp" else None
                try:
                    s = transfer_seconds(helper, args.mib, tmp)
                finally:
                    if agent:
                        agent.stop()
                rates[mode].append(2 * args.mib / s)  # both directions
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    base = statistics.median(rates["none"])
    with_tcp = statistics.median(rates["tcp"])
    ratio = with_tcp / base
    print(f"loopback bulk transfer ({args.mib} MiB each way): "
          f"none {base:.0f} MiB/s, with tcp probes {with_tcp:.0f} MiB/s, "
          f"ratio {ratio:.3f} (target >= 0.97: "
          f"{'PASS' if ratio >= 0.97 else 'FAIL'})")
    sys.exit(0 if ratio >= 0.97 else 1)


if __name__ == "__main__":
    main()
