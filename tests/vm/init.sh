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
. /rlvm.env # N getppid and O openat calls, H HTTP requests, PORT, GO_N, GO_RST

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

# Go's crypto/tls through uprobes (a static helper: no libssl needed): a
# server and two clients (HTTP/1.1, HTTP/2) started before the agent, whose
# start finds their executable (one file); the clients wait for a line.
if [ -n "$GO_N" ]; then
	ln -s rl_gotls /usr/bin/rl_gotls_srv
	ln -s rl_gotls /usr/bin/rl_gotls_cli
	ln -s rl_gotls /usr/bin/rl_gotls_rst
	mkfifo /tmp/srv.in /tmp/h1.in /tmp/h2.in
	rl_gotls_srv serve 8443 /etc/rlvm/cert.pem /etc/rlvm/key.pem \
		</tmp/srv.in >/tmp/srv.out 2>&1 &
	srv=$!
	exec 3>/tmp/srv.in
	for p in h1 h2; do
		timeout 60 rl_gotls_cli get https://127.0.0.1:8443 "$GO_N" $p \
			</tmp/$p.in >/tmp/$p.out 2>&1 &
		eval "$p=$!"
	done
	exec 4>/tmp/h1.in 5>/tmp/h2.in
	i=0
	until grep -q ready /tmp/srv.out; do
		i=$((i + 1))
		[ $i -gt 600 ] && break
		sleep 0.1
	done
	TLS=--tls
fi

# (Not holding the fifos' write ends: the server's EOF is its cue.)
redline run --listen=127.0.0.1:"$PORT" $TLS >/tmp/agent.log 2>&1 \
	3>&- 4>&- 5>&- &
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

if [ -n "$GO_N" ]; then
	echo go >&4
	exec 4>&-
	wait $h1
	echo go >&5
	exec 5>&-
	wait $h2
	# Writes that start over at their stack check (restart.go), from the
	# server's file while it runs (probed): counted once.
	echo go | GODEBUG=adaptivestackstart=0 timeout 60 rl_gotls_rst \
		restart /etc/rlvm/cert.pem \
		/etc/rlvm/key.pem "$GO_RST" >/tmp/rst.out 2>&1
	exec 3>&- # the server's stdin: it prints its tally and exits
	wait $srv
	say go_h1 "$(tail -1 /tmp/h1.out)"
	say go_h2 "$(tail -1 /tmp/h2.out)"
	say go_srv "$(tail -1 /tmp/srv.out)"
	say go_rst "$(tail -1 /tmp/rst.out)"
	exec 3>&- 4>&- 5>&-
fi

# (After the Go phase: the snapshot that has the storm's count has it.)
# busybox time: the kernel's rusage of the child (user, sys) as an oracle.
time -p rl_sysstorm "$N" "$O" 2>/tmp/time.out
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
# CPU throttling through cgroup v2 (the CI host's cpu controller is on v1):
# a burner in a cgroup with cpu.max 20%, stopped after 2 s (still a member,
# so redline still reads its cgroup; stopped, cpu.stat no longer moves).
# The scrape below must show cpu.stat as read before and after it.
cg=/sys/fs/cgroup/rlq
cpu_stat() { grep -E 'nr_throttled|throttled_usec' $cg/cpu.stat | tr '\n' ' '; }
if echo +cpu >/sys/fs/cgroup/cgroup.subtree_control && mkdir $cg &&
	echo "20000 100000" >$cg/cpu.max; then
	ln -s rl_sysstorm /usr/bin/rl_quota # its own name from exec on
	sh -c "echo \$\$ >$cg/cgroup.procs && exec rl_quota 1000000000 0" &
	burner=$!
	sleep 2
	kill -STOP $burner
	sleep 0.5
	say throttle_a "$(cpu_stat)"
else
	say throttle_a "no cpu controller"
fi
# The count reaches /metrics at the agent's next read of its maps.
i=0
while [ $i -lt 40 ]; do
	wget -q -O /tmp/metrics http://127.0.0.1:"$PORT"/metrics
	grep -q "^redline_syscalls_total{comm=\"rl_sysstorm\",syscall=\"getppid\"} $N\$" \
		/tmp/metrics && break
	i=$((i + 1))
	sleep 0.5
done
[ -n "$burner" ] &&
	say throttle_b "$(cpu_stat)"
say metrics_begin
cat /tmp/metrics
say metrics_end
[ -n "$burner" ] && kill -KILL $burner
kill -TERM $agent
wait $agent
say agent_rc $?
sed 's/^/RLVM agent: /' /tmp/agent.log
# bpftool's own view (programs, maps, links): nothing of redline's left.
say after "$(count prog) $(count map) $(count link)"
poweroff -f
