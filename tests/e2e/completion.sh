#!/bin/bash
# xvsadm's bash completion (completion/xvsadm.bash): commands first, then the options of
# that command, the values of -s and --tun-type, and the services of the live table.
# Needs no testbed: xvsadm is a stub that prints a saved table.
set -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/xvs-compl.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/xvsadm" <<'STUB'
#!/bin/bash
printf '%s\n' "-A -t 198.18.0.100:80 -s rr" "-a -t 198.18.0.100:80 -r 198.19.0.11:80 -m -w 1" \
	"-A -u 198.18.0.100:53 -s wrr"
STUB
chmod +x "$T/xvsadm"
PATH=$T:$PATH
. "$REPO/completion/xvsadm.bash"

fail() { echo "FAIL: $*" >&2; exit 1; }

# complete WORDS...: the words of the line, the last one being completed.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_xvsadm
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
	local what=$1 got=$2 want=$3
	[ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
	echo "ok: $what"
}

complete -p xvsadm | grep -q _xvsadm || fail "no completion registered for xvsadm"
expect "commands after xvsadm -" "$(complete_line xvsadm --s)" "--save --set --start-daemon --status --stop-daemon"
expect "scheduler names" "$(complete_line xvsadm -A -t 1.2.3.4:80 -s w)" "wlc wrr"
expect "tunnel types" "$(complete_line xvsadm -a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type g)" "gre gue"
expect "list options" "$(complete_line xvsadm -L --per)" "--persistent-conn"
expect "--json belongs to -L" "$(complete_line xvsadm -L --js)" "--json"
expect "--health belongs to -L" "$(complete_line xvsadm -L --he)" "--health"
expect "-S takes only -n" "$(complete_line xvsadm -S -)" "--numeric -n"
expect "TCP services from the table" "$(complete_line xvsadm -d -t '')" "198.18.0.100:80"
expect "UDP services from the table" "$(complete_line xvsadm -D -u 198)" "198.18.0.100:53"
expect "nothing for a weight" "$(complete_line xvsadm -a -t 1.2.3.4:80 -r 5.6.7.8 -w '')" ""
expect "--trace is a command" "$(complete_line xvsadm --tr)" "--trace"
expect "--trace's options" "$(complete_line xvsadm --trace -t 198.18.0.100:80 --c)" "--client"
expect "--trace takes the table's services" "$(complete_line xvsadm --trace -t '')" "198.18.0.100:80"
expect "nothing for a client" "$(complete_line xvsadm --trace -t 198.18.0.100:80 --client '')" ""
