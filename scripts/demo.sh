#!/bin/bash
# A five-minute tour of xvs: install, build, and balance real HTTP traffic over three real
# servers on a virtual testbed of network namespaces (the e2e tests' testbed,
# tests/e2e/lib.sh). Everything it creates is removed on exit.
#
# Usage: sudo ./scripts/demo.sh [--keep]
#   --keep  leave the testbed running until Ctrl-C and print how to try it by hand.
# Environment: XVS_DEMO_BUILD (build directory, default build-demo).
set -o pipefail

cd "$(dirname "$0")/.." || exit 1
keep=0
case "${1:-}" in
--keep) keep=1 ;;
"") ;;
*)
	echo "usage: $0 [--keep]" >&2
	exit 2
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: must run as root (it creates network namespaces and uses hugepages)" >&2
	exit 1
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() {
	echo "+ $*"
	"$@"
}

step "Installing dependencies (scripts/install-deps.sh)"
./scripts/install-deps.sh || exit 1

BUILD=${XVS_DEMO_BUILD:-build-demo}
step "Building xvs into $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Dtests=disabled >/dev/null || exit 1
fi
ninja -C "$BUILD" || exit 1

export XVS_BUILD_DIR=$PWD/$BUILD
. tests/e2e/lib.sh

step "Building the testbed: client, load balancer and three real servers in namespaces"
e2e_init
e2e_topology_up
e2e_servers_up
echo "client $CLIENT_IP (ns $NS_CLIENT) -> VIP $VIP (xvs-dataplane in ns $NS_LB) ->"
for r in "${RS_NAMES[@]}"; do
	echo "    $r ${RS_IP[$r]} (ns $(e2e_ns_rs "$r")): HTTP on :80 and UDP on :53 answer \"$r\""
done

step "Starting xvs-control and xvs-dataplane"
e2e_xvs_up

step "Configuring a round-robin NAT service with xvsadm (ipvsadm syntax)"
xvsadm() { "$XVSADM" "$@"; }
show xvsadm -A -t "$VIP:80" -s rr || exit 1
for r in "${RS_NAMES[@]}"; do
	show xvsadm -a -t "$VIP:80" -r "${RS_IP[$r]}:80" -m || exit 1
done

step "12 HTTP requests from the client to http://$VIP/"
for i in $(seq 1 12); do
	printf 'request %2d -> %s\n' "$i" "$(http_get)"
done

step "The table and its counters"
show xvsadm -L -n
echo
show xvsadm -L -n --stats

if [ "$keep" -eq 1 ]; then
	trap 'exit 0' INT TERM
	cat <<-EOF

	The testbed stays up until you press Ctrl-C. Try, in another shell:
	  ip netns exec $NS_CLIENT curl http://$VIP/
	  export XVS_CONTROL_SOCKET=$T/sock
	  $XVSADM -L -n --stats
	  $XVSADM -e -t $VIP:80 -r ${RS_IP[rs2]}:80 -m -w 0     # quiesce rs2
	  $XVSADM -A -u $VIP:53 -s rr
	  $XVSADM -a -u $VIP:53 -r ${RS_IP[rs1]}:53 -m
	  ip netns exec $NS_CLIENT $PY $E2E_DIR/udp_query.py $VIP 53 3
	  curl --unix-socket $T/sock http://xvs/v1/status
	Logs: $T/ctl.log (xvs-control), $T/dp.log (xvs-dataplane).
	EOF
	while :; do
		sleep 1
		kill -0 "$DP_PID" 2>/dev/null || e2e_fail "xvs-dataplane exited"
	done
fi
step "Done; removing the testbed"
