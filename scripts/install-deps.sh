#!/bin/bash
# Install everything xvs needs to build, run and test on Debian 12, and prepare hugepages.
# Idempotent and non-interactive; run as root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root" >&2
	exit 1
fi

PKGS=(
	build-essential pkg-config meson ninja-build
	dpdk libdpdk-dev libnuma-dev
	dpdk-dev # dpdk-dumpcap (tests/e2e/capture.sh)
	libsystemd-dev systemd # sd_notify for the units; systemd-analyze verify (suite package)
	debhelper dpkg-dev lintian # scripts/build-deb.sh (suite package)
	libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev
	libclang-rt-dev  # libFuzzer and the sanitizer runtimes of clang (tests/fuzz)
	libcriterion-dev libjansson-dev libpcap-dev libpopt-dev libinih-dev
	libmicrohttpd-dev libcurl4-openssl-dev libhttp-parser-dev
	libssl-dev # base64 for etcd's JSON gateway (libcrypto)
	python3-scapy tshark tcpdump
	python3-matplotlib
	iproute2 ethtool socat curl iputils-ping
	bird2
	openssl # the health checks' unit tests run a TLS server (openssl s_server)
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer once, non-interactively.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get -o DPkg::Lock::Timeout=600 update -q
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
	# The tests run BIRD themselves (their own config, socket and pidfile); on a systemd host
	# the package would also start a system daemon: stop the one this installation started.
	if [[ " ${missing[*]} " == *" bird2 "* ]] && command -v systemctl >/dev/null 2>&1 &&
		systemctl is-active -q bird.service 2>/dev/null; then
		systemctl disable --now bird.service
	fi
fi

# Packages whose daemons must never run here; a policy-rc.d that forbids starting services
# covers the install (Debian starts a newly installed service otherwise):
# - keepalived: its documentation's sample configurations are test input of xvs-control's
#   keepalived.conf loader, and tests/e2e/vrrp.sh runs its own VRRP instances, one per node
#   namespace;
# - prometheus (it provides promtool too): tests/e2e/metrics.sh runs its own server, in its
#   own namespace, on a data directory of its own; a system one would scrape and listen on
#   :9090 for nothing;
# - etcd-server: tests/e2e/etcd.sh runs its own etcd on loopback ports of its own namespace.
no_start=()
for p in keepalived prometheus etcd-server; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || no_start+=("$p")
done
if [ "${#no_start[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	rc=0
	apt-get -o DPkg::Lock::Timeout=600 update -q || rc=$?
	[ "$rc" = 0 ] && { apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
		"${no_start[@]}" || rc=$?; }
	[ "$made_policy" = 1 ] && rm -f "$policy"
	[ "$rc" = 0 ] || exit "$rc"
	# On a systemd host the unit stays enabled for the next boot: disable it.
	for u in prometheus:prometheus etcd-server:etcd; do
		if [[ " ${no_start[*]} " == *" ${u%%:*} "* ]] && command -v systemctl >/dev/null 2>&1 &&
			systemctl is-enabled -q "${u#*:}.service" 2>/dev/null; then
			systemctl disable --now "${u#*:}.service"
		fi
	done
fi

"$(dirname "$0")/hugepages.sh"
