#!/usr/bin/env bash
# Installs everything redline needs to build and test, from Debian 12
# packages only. Idempotent: safe to run again.
set -euo pipefail

PKGS=(
  # build
  build-essential cmake ninja-build pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev libabsl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev linux-libc-dev nlohmann-json3-dev libssl-dev
  libyaml-cpp-dev libncurses-dev libcrypt-dev libprotobuf-dev protobuf-compiler
  libcapstone-dev
  # tests and their oracles
  python3 prometheus libbpf-tools util-linux procps curl iproute2 iptables
  coreutils nginx-light wrk prometheus-alertmanager tmux strace systemd
  adduser dpkg-dev openssl apache2-utils
  # Go's crypto/tls: go_tls_test builds its server and client.
  golang-go
)

# kubectl renders and checks the Kubernetes manifests offline; Debian 12
# packages it as kubernetes-client (any kubectl already here will do).
command -v kubectl >/dev/null || PKGS+=(kubernetes-client)
# libFuzzer and the sanitizer runtimes for clang (scripts/fuzz.sh).
PKGS+=(libclang-rt-14-dev)
# The BPF objects build with Debian 12's clang (14) and with its clang-19
# (-DREDLINE_BPF_CLANG=clang-19); tests/build/generators_test.sh uses both.
PKGS+=(clang-19)
# A second kernel under emulation (tests/vm): qemu, a static busybox for
# the initramfs, cpio to pack it. The kernel itself is downloaded, not
# installed, by the test (Debian's linux-image-*-cloud-amd64).
PKGS+=(qemu-system-x86 busybox-static cpio)
# arm64 (tests/vm's arm64 kernel, scripts/cross-arm64.py): Debian's cross
# compiler and qemu-system-aarch64. The :arm64 libraries to link against
# are downloaded into a sysroot by the script, not installed (some -dev
# packages are not Multi-Arch: same); apt only has to know arm64.
PKGS+=(g++-aarch64-linux-gnu qemu-system-arm)
# Dependency protocols' servers and clients, started by their tests in a
# network namespace (never the system service the package may enable).
PKGS+=(redis-server redis-tools postgresql-15 postgresql-client-15 memcached)
# memaslap (as memcaslap): memcached_test's latency oracle.
PKGS+=(libmemcached-tools)
# MySQL protocol: MariaDB (its SQL error log plugin is in mariadb-server)
# and sysbench's oltp_read_write as a client.
PKGS+=(mariadb-server mariadb-client sysbench)
# TLS through GnuTLS (tls_test): gnutls-serv --http and gnutls-cli.
PKGS+=(gnutls-bin)
# gnutls_retry_test's helper: a write retried with no buffer after E_AGAIN.
PKGS+=(libgnutls28-dev)
# DNS (dns_test): unbound as the server (started by the test on its own
# configuration; the package's service is disabled below), dnsperf and
# dig (dnsutils) as clients.
PKGS+=(unbound dnsperf dnsutils)
# HTTP/2 and gRPC (agent/h2): libnghttp2's HPACK inflater to build; h2load
# and nghttp (nghttp2-client) and Python's grpc (python3-grpcio, for
# Debian's /usr/bin/python3) as clients and servers of the tests (h2_test);
# for its h2c upgrade phase nghttpx (nghttp2-proxy), which accepts an
# upgrade (nginx and nghttpd do not), in front of nghttpd (nghttp2-server).
PKGS+=(libnghttp2-dev nghttp2-client nghttp2-server nghttp2-proxy
  python3-grpcio)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-deps: adding the arm64 architecture to apt (downloads only)"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
# PostgreSQL: no cluster of the package's own (postgresql-common would
# create and start "15/main" on 5432); tests initdb and start their own.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" |
  $SUDO tee /etc/postgresql-common/createcluster.d/redline.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
# No package's service is started (MariaDB's would take 3306 and a data
# directory of its own): Debian's invoke-rc.d asks policy-rc.d, and 101
# is "not now". Only while installing, and only one redline put there.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# unbound's postinst enables unbound.service: at the next boot it would
# take port 53 and (unbound-resolvconf, with the resolvconf package) the
# host's resolver. Disabled, and stopped if anything started it; only
# when this run installed it.
# nghttp2-proxy's postinst enables nghttpx.service (port 3000, to port
# 80): the test runs its own nghttpx. Likewise disabled and stopped.
if [[ " ${missing[*]} " == *" nghttp2-proxy "* ]]; then
  $SUDO systemctl disable nghttpx.service 2>/dev/null || true
  if [[ -d /run/systemd/system ]]; then
    $SUDO systemctl stop nghttpx.service || true
  fi
fi
if [[ " ${missing[*]} " == *" unbound "* ]]; then
  $SUDO systemctl disable unbound.service 2>/dev/null || true
  if [[ -d /run/systemd/system ]]; then
    $SUDO systemctl stop unbound.service unbound-resolvconf.service || true
  fi
fi
