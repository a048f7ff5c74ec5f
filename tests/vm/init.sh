#!/bin/busybox sh
# /init of the initramfs tests/vm/kernel_vm_test.py boots: runs redline on
# this (other) kernel and prints what the host checks on the serial
# console, each line tagged "RLVM". Then powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up
. /rlvm.env # N (getppid calls), H (HTTP requests), PORT

say() { echo "RLVM $*"; }
say kernel "$(uname -r)"
say version "$(uname -v)"
say btf "$(wc -c </sys/kernel/btf/vmlinux)"

count() { bpftool "$1" show 2>/dev/null | grep -c '^[0-9]*: '; }
say before "$(count prog) $(count map) $(count link)"

redline check >/tmp/check.out 2>&1
say check_rc $?
sed 's/^/RLVM check: /' /tmp/check.out
# RL_VM_DEBUG=1 on the host: the end of each verifier log that failed.
[ -n "$DEBUG" ] && redline check --log-level=debug 2>&1 |
	grep -B30 "END PROG LOAD LOG"

redline run --listen=127.0.0.1:"$PORT" >/tmp/agent.log 2>&1 &
agent=$!
t0=$(date +%s)
i=0
until wget -q -O /dev/null http://127.0.0.1:"$PORT"/healthz; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $agent 2>/dev/null; then
		say agent_not_ready
		sed 's/^/RLVM agent: /' /tmp/agent.log
		poweroff -f
	fi
	sleep 0.5
done
say ready_s $(($(date +%s) - t0))
say running "$(count prog) $(count map) $(count link)"

# busybox time: the kernel's rusage of the child (user, sys) as an oracle.
time -p rl_sysstorm "$N" 0 2>/tmp/time.out
say rusage $(awk '/^user|^sys/ {s += $2} END {print s}' /tmp/time.out)
# HTTP and TCP on this kernel: busybox httpd serving, busybox wget asking
# (H requests, each its own connection), and one connect refused.
mkdir -p /www && echo ok >/www/index.html
httpd -p 127.0.0.1:8080 -h /www
j=0
while [ $j -lt "$H" ]; do
	wget -q -O /dev/null http://127.0.0.1:8080/index.html
	j=$((j + 1))
done
wget -q -O /dev/null http://127.0.0.1:9/ 2>/dev/null
# The count reaches /metrics at the agent's next read of its maps.
i=0
while [ $i -lt 40 ]; do
	wget -q -O /tmp/metrics http://127.0.0.1:"$PORT"/metrics
	grep -q "^redline_syscalls_total{comm=\"rl_sysstorm\",syscall=\"getppid\"} $N\$" \
		/tmp/metrics && break
	i=$((i + 1))
	sleep 0.5
done
say metrics_begin
cat /tmp/metrics
say metrics_end
kill -TERM $agent
wait $agent
say agent_rc $?
sed 's/^/RLVM agent: /' /tmp/agent.log
# bpftool's own view (programs, maps, links): nothing of redline's left.
say after "$(count prog) $(count map) $(count link)"
poweroff -f
