#!/bin/bash
# Reserve 2 MiB hugepages and mount a hugetlbfs for xvs (idempotent).
set -euo pipefail

XVS_HUGEPAGES=${XVS_HUGEPAGES:-1024}
XVS_HUGE_DIR=${XVS_HUGE_DIR:-/mnt/xvs-huge}
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

if [ "$(cat "$nr")" -lt "$XVS_HUGEPAGES" ]; then
	echo "$XVS_HUGEPAGES" > "$nr"
fi
got=$(cat "$nr")
if [ "$got" -lt 256 ]; then
	echo "hugepages.sh: only $got hugepages could be reserved (need 256)" >&2
	exit 1
fi
mkdir -p "$XVS_HUGE_DIR"
if ! mountpoint -q "$XVS_HUGE_DIR"; then
	mount -t hugetlbfs -o pagesize=2M nodev "$XVS_HUGE_DIR"
fi
echo "hugepages.sh: $got x 2 MiB hugepages, hugetlbfs at $XVS_HUGE_DIR"
