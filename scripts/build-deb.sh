#!/bin/bash
# Build the Debian packages of debian/ (dpkg-buildpackage -b -us -uc) from a copy of the tree
# in a temporary directory, check what each .deb holds (dpkg-deb -c) and run lintian: any
# lintian error fails, its warnings are printed. The meson test 'deb' (suite 'package') runs it.
#
# Usage: scripts/build-deb.sh [OUTDIR]    (OUTDIR: keep the .debs there)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-}
start=$SECONDS
for c in dpkg-buildpackage dh dpkg-deb lintian; do
	command -v "$c" >/dev/null 2>&1 ||
		{ echo "FAIL: $c is missing (scripts/install-deps.sh installs it)"; exit 1; }
done
W=$(mktemp -d /tmp/xvs-deb.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/xvs"

# The tree as committed plus files git does not ignore; never a build directory.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$W/xvs" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
		tar -C "$W/xvs" -xf -
fi

echo "build-deb: dpkg-buildpackage in $W/xvs"
if ! (cd "$W/xvs" && dpkg-buildpackage -b -us -uc) >"$W/build.log" 2>&1; then
	tail -n 60 "$W/build.log"
	echo "FAIL: dpkg-buildpackage failed (last lines above)"
	exit 1
fi
# Portable: the compiler never saw -march=native (dh builds with ninja -v: every command).
if grep -q -- '-march=native' "$W/build.log"; then
	echo "FAIL: the package was built with -march=native"
	exit 1
fi

fail=0
# check_deb PACKAGE PATH... : each PATH ("./usr/sbin/x", or "./a -> b" for a symlink) listed.
check_deb() {
	local pkg=$1 deb list p
	shift
	deb=$(ls "$W"/"${pkg}"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "FAIL: no $pkg .deb"; fail=1; return; }
	list=$(dpkg-deb -c "$deb" | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }')
	for p in "$@"; do
		if ! grep -qxF -- "$p" <<<"$list"; then
			echo "FAIL: $(basename "$deb") lacks $p"
			fail=1
		fi
	done
	echo "build-deb: $(basename "$deb"): $(wc -l <<<"$list") entries checked for $# paths"
}

check_deb xvs ./usr/sbin/xvs-dataplane ./usr/sbin/xvs-control ./usr/sbin/xvsadm \
	./usr/sbin/xvs-rs-decap \
	./lib/systemd/system/xvs-dataplane.service ./lib/systemd/system/xvs-control.service \
	./usr/share/man/man8/xvsadm.8.gz ./usr/share/man/man8/xvs-dataplane.8.gz \
	./usr/share/man/man8/xvs-control.8.gz ./usr/share/bash-completion/completions/xvsadm \
	./usr/share/doc/xvs/examples/dataplane-vfio.ini \
	./usr/share/doc/xvs/examples/dataplane-af_packet.ini \
	./usr/share/doc/xvs/examples/dataplane-af_xdp.ini \
	./usr/share/doc/xvs/examples/control.conf ./etc/xvs/control.conf \
	./usr/share/doc/xvs/README.md.gz ./usr/share/doc/xvs/dataplane.md.gz \
	./usr/share/doc/xvs/copyright
check_deb xvs-ipvsadm "./usr/sbin/ipvsadm -> xvsadm" \
	"./usr/share/man/man8/ipvsadm.8.gz -> xvsadm.8.gz"
# ipvsadm belongs to xvs-ipvsadm only
if dpkg-deb -c "$W"/xvs_*.deb | grep -q 'usr/sbin/ipvsadm'; then
	echo "FAIL: the xvs package holds usr/sbin/ipvsadm"
	fail=1
fi
# The units are installed, never enabled or started by the package's scripts: no start or
# restart, and enable only under the debian-installed guard (an upgrade keeps the admin's
# own enabling), as dh_installsystemd --no-enable --no-start writes it.
dpkg-deb -e "$W"/xvs_*.deb "$W/ctl"
for u in xvs-control.service xvs-dataplane.service; do
	if ! grep -q "deb-systemd-helper debian-installed '$u'" "$W/ctl/postinst" ||
		grep -q "deb-systemd-invoke" "$W/ctl/postinst" ||
		[ "$(grep -c "deb-systemd-helper enable '$u'" "$W/ctl/postinst")" != 1 ] ||
		! grep -B2 "deb-systemd-helper enable '$u'" "$W/ctl/postinst" | grep -q "was-enabled '$u'"; then
		echo "FAIL: the xvs package may enable or start $u:"
		cat "$W/ctl/postinst"
		fail=1
	fi
done

echo "build-deb: lintian"
lintian --fail-on error --tag-display-limit 0 "$W"/*.changes >"$W/lintian.log" 2>&1 || {
	cat "$W/lintian.log"
	echo "FAIL: lintian reports errors"
	exit 1
}
cat "$W/lintian.log"
echo "build-deb: lintian: $(grep -c '^E:' "$W/lintian.log" || true) error(s)," \
	"$(grep -c '^W:' "$W/lintian.log" || true) warning(s)"

if [ -n "$out" ]; then
	mkdir -p "$out"
	cp "$W"/*.deb "$out"/
	echo "build-deb: packages in $out"
fi
echo "build-deb: $((SECONDS - start)) s"
[ "$fail" = 0 ] || { echo "FAIL: see above"; exit 1; }
echo "ok: xvs and xvs-ipvsadm built, contents as expected, no lintian error"
