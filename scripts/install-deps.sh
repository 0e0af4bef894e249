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
	libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev
	libcriterion-dev libjansson-dev libpcap-dev libpopt-dev libinih-dev
	libmicrohttpd-dev libcurl4-openssl-dev
	python3-scapy tshark tcpdump
	python3-matplotlib
	iproute2 ethtool socat curl iputils-ping
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
fi

"$(dirname "$0")/hugepages.sh"
