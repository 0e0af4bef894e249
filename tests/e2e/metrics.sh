#!/bin/bash
# Prometheus metrics: a real Prometheus scrapes xvs-control's GET /metrics every second and
# PromQL over its HTTP API sees the connections the client made; `promtool check metrics`
# accepts every scrape; every drop reason of include/xvs/drop.h is there for each worker;
# a drop the client causes shows in Prometheus, in GET /v1/stats?per_worker=1 and in
# xvsadm -L --stats --drops alike; scrapes answer during a storm of configuration changes;
# with the dataplane stopped a scrape still answers at once with xvs_dataplane_up 0.
#
#   ns $NS_MON (lo only)                          the usual testbed (lib.sh)
#  +--------------------------------------+
#  | xvs-control  127.0.0.1:9720/metrics  |  shm file   client --- xvs-dataplane --- rs1 rs2 rs3
#  | prometheus   127.0.0.1:9091 (API)    | <---------> (NAT rr, VIP 198.18.0.100:80)
#  |   scrapes 127.0.0.1:9720 every 1 s   |
#  +--------------------------------------+
#
# xvs-control listens on its default metrics address, in a namespace of this test's own,
# so neither it nor Prometheus touches the host's loopback.
set -o pipefail
. "$(dirname "$0")/lib.sh"

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
	echo "SKIP: prometheus and promtool are not installed (scripts/install-deps.sh installs them)"
	exit 77
fi

PROM_PORT=9091
METRICS=127.0.0.1:9720
N=12

e2e_init
NS_MON=xvs-$SUFFIX-mon
E2E_NETNS+=("$NS_MON")
e2e_topology_up
e2e_ns_add "$NS_MON" || e2e_fail "cannot create the monitoring namespace"
E2E_CTL_NETNS=$NS_MON
e2e_servers_up
e2e_xvs_up

# scrape [PATH]: GET from xvs-control's metrics listener (body on stdout).
scrape() { ip netns exec "$NS_MON" curl -sf --max-time 2 "http://$METRICS${1:-/metrics}"; }
http_code() {
	ip netns exec "$NS_MON" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@"
}

# promql QUERY: the value of a one-element instant vector, empty when there is none.
promql() {
	ip netns exec "$NS_MON" curl -s --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" | "$PY" -c 'import json,sys
d=json.load(sys.stdin)
r=d["data"]["result"] if d.get("status") == "success" else []
print(r[0]["value"][1] if len(r) == 1 else "")' 2>/dev/null
}
promql_is() { [ "$(promql "$1")" = "$2" ]; }

# promtool_ok FILE: `promtool check metrics` accepts the scrape in FILE.
promtool_ok() {
	promtool check metrics <"$1" >"$1.lint" 2>&1 ||
		e2e_fail "promtool check metrics refuses $1: $(cat "$1.lint")"
}

# ---- the scrape before traffic ------------------------------------------------------------
scrape >"$T/m0.txt" || e2e_fail "no answer on http://$METRICS/metrics"
promtool_ok "$T/m0.txt"
e2e_ok "promtool check metrics accepts a scrape"
grep -qx 'xvs_control_up 1' "$T/m0.txt" && grep -qx 'xvs_dataplane_up 1' "$T/m0.txt" ||
	e2e_fail "xvs_control_up / xvs_dataplane_up not 1: $(grep -E '^xvs_(control|dataplane)_up' "$T/m0.txt")"
e2e_ok "xvs_control_up 1, xvs_dataplane_up 1"

# Every drop reason of drop.h, zeros included, for worker 0 and the main lcore.
nb_reasons=$(grep -cE '^[[:space:]]*X\([A-Z0-9_]+, "[a-z0-9-]+"\)' "$E2E_REPO/include/xvs/drop.h")
[ "$nb_reasons" -gt 30 ] || e2e_fail "cannot count the reasons of drop.h ($nb_reasons)"
for w in 0 main; do
	expect_eq "drop reasons exported for worker $w" \
		"$(grep -c "^xvs_drops_total{worker=\"$w\",reason=\"" "$T/m0.txt")" "$nb_reasons"
done
for r in $(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, "[a-z0-9-]+"\)' "$E2E_REPO/include/xvs/drop.h" |
	grep -oE '"[a-z0-9-]+"' | tr -d '"'); do
	grep -q "^xvs_drops_total{worker=\"0\",reason=\"$r\"} [0-9]*$" "$T/m0.txt" ||
		e2e_fail "drop reason $r missing from the scrape"
done
e2e_ok "every reason of drop.h is in xvs_drops_total"
grep -qE '^xvs_worker_connection_capacity\{worker="0"\} 65536$' "$T/m0.txt" ||
	e2e_fail "worker 0's table capacity: $(grep connection_capacity "$T/m0.txt")"
e2e_ok "xvs_worker_connection_capacity is the dataplane's conn_max"

expect_eq "POST /metrics" "$(http_code -X POST "http://$METRICS/metrics")" 405
expect_eq "GET /nothing" "$(http_code "http://$METRICS/nothing")" 404

# ---- Prometheus ---------------------------------------------------------------------------
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xvs
    static_configs:
      - targets: ['$METRICS']
EOF
promtool check config "$T/prometheus.yml" >/dev/null || e2e_fail "promtool refuses the config"
# `ip netns exec` execs prometheus: $! is prometheus itself.
ip netns exec "$NS_MON" prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/prom-data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--log.level=warn >"$T/prometheus.log" 2>&1 &
E2E_PIDS+=($!)
e2e_retry 100 ip netns exec "$NS_MON" curl -sf --max-time 1 "http://127.0.0.1:$PROM_PORT/-/ready" \
	>/dev/null || e2e_fail "prometheus is not ready: $(tail -5 "$T/prometheus.log")"
e2e_retry 100 promql_is 'up{job="xvs"}' 1 || e2e_fail "prometheus does not scrape xvs: $(promql 'up')"
e2e_ok "prometheus scrapes xvs-control"

# ---- traffic, seen through PromQL ---------------------------------------------------------
e2e_rr_http_service
got=$(http_seq "$N")
expect_eq "$N GETs, rr order" "$got" "$(cycle "$N" rs1 rs2 rs3)"
q="sum(xvs_service_connections_total{vip=\"$VIP\",port=\"80\",protocol=\"tcp\"})"
e2e_retry 100 promql_is "$q" "$N" || e2e_fail "PromQL $q: got '$(promql "$q")', want $N"
e2e_ok "PromQL: $q = $N"
for r in "${RS_NAMES[@]}"; do
	q="sum(xvs_server_connections_total{server=\"${RS_IP[$r]}:80\",forward=\"masq\"})"
	e2e_retry 50 promql_is "$q" $((N / 3)) || e2e_fail "PromQL $q: got '$(promql "$q")'"
done
e2e_ok "PromQL: $((N / 3)) connections on each real server"
# The finished connections wait in TIME_WAIT: inactive, as xvsadm -L shows them.
q="sum(xvs_service_inactive_connections{vip=\"$VIP\",port=\"80\"})"
e2e_retry 100 promql_is "$q" "$N" || e2e_fail "PromQL $q: got '$(promql "$q")', want $N"
e2e_ok "PromQL: $q = $N"
q='sum(xvs_worker_receive_packets_total) > 0'
e2e_retry 50 eval '[ -n "$(promql "$q")" ]' || e2e_fail "no received packets in Prometheus"

# A SYN to a port the VIP does not serve is dropped as no-vip: Prometheus, the API's
# per-worker breakdown and xvsadm --drops agree.
ip netns exec "$NS_CLIENT" curl -s --max-time 1 "http://$VIP:81/" >/dev/null 2>&1
api_novip() { e2e_api /v1/stats | json_get drops no-vip; }
[ "$(api_novip)" -gt 0 ] || e2e_fail "no no-vip drop after a SYN to $VIP:81"
prom_novip_matches() { promql_is 'sum(xvs_drops_total{reason="no-vip"})' "$(api_novip)"; }
e2e_retry 100 prom_novip_matches || e2e_fail "PromQL no-vip drops '$(promql \
	'sum(xvs_drops_total{reason="no-vip"})')', the API's $(api_novip)"
e2e_ok "PromQL: sum(xvs_drops_total{reason=\"no-vip\"}) = the API's drops ($(api_novip))"

e2e_api '/v1/stats?per_worker=1' >"$T/pw.json" || e2e_fail "GET /v1/stats?per_worker=1"
sum=$("$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
assert len(d["per_worker"]) == d["workers"] == 1
assert all(len(r["drops"]) == len(d["drops"]) for r in d["per_worker"] + [d["main_lcore"]])
print(sum(r["drops"]["no-vip"] for r in d["per_worker"]) + d["main_lcore"]["drops"]["no-vip"],
      d["drops"]["no-vip"])' "$T/pw.json") || e2e_fail "per_worker document: $(cat "$T/pw.json")"
read -r a b <<<"$sum"
expect_eq "per-worker no-vip drops add up to the total" "$a" "$b"
expect_eq "per_worker=2 is refused" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --unix-socket "$T/sock" \
		'http://xvs/v1/stats?per_worker=2')" 400

adm -L -n --stats >"$T/stats.txt" || e2e_fail "xvsadm -L -n --stats"
adm -L -n --stats --drops >"$T/drops.txt" || e2e_fail "xvsadm -L -n --stats --drops"
expect_eq "--drops leaves ipvsadm's table as it is" \
	"$(head -n "$(wc -l <"$T/stats.txt")" "$T/drops.txt")" "$(cat "$T/stats.txt")"
expect_eq "--drops: a blank line, then the title" \
	"$(sed -n "$(($(wc -l <"$T/stats.txt") + 1)),+1p" "$T/drops.txt")" \
	"$(printf '\n%-24s %8s %8s %8s' 'Drops (xvs)' Total Worker0 Main)"
expect_eq "--drops no-vip line" "$(awk '$1 == "no-vip" {print $2, $3, $4}' "$T/drops.txt")" \
	"$b $a 0"
expect_eq "--drops lists every reason" \
	"$(($(wc -l <"$T/drops.txt") - $(wc -l <"$T/stats.txt") - 2))" "$nb_reasons"

# ---- a configuration storm: every scrape answers -------------------------------------------
e2e_log "configuration storm"
# Each change is one transaction, published and adopted while it holds control's lock.
(
	for i in $(seq 1 60); do
		curl -sf --max-time 5 --unix-socket "$T/sock" http://xvs/v1/ops -d "{\"ops\": [{\"op\": \
\"edit-dest\", \"service\": {\"proto\": \"tcp\", \"addr\": \"$VIP\", \"port\": 80}, \
\"dest\": {\"addr\": \"${RS_IP[rs1]}\", \"port\": 80, \"fwd\": \"masq\", \
\"weight\": $((i % 5 + 1))}}]}" >/dev/null || exit 1
	done
) >"$T/storm.log" 2>&1 &
STORM_PID=$!
E2E_PIDS+=("$STORM_PID")
scrapes=0
while kill -0 "$STORM_PID" 2>/dev/null; do
	scrape >"$T/storm.txt" || e2e_fail "a scrape during the configuration storm failed"
	grep -qx 'xvs_control_up 1' "$T/storm.txt" || e2e_fail "a scrape during the storm is cut"
	scrapes=$((scrapes + 1))
done
wait "$STORM_PID" || e2e_fail "the configuration storm failed: $(tail -3 "$T/storm.log")"
[ "$scrapes" -ge 2 ] || e2e_fail "only $scrapes scrapes during the storm"
promtool_ok "$T/storm.txt"
e2e_ok "$scrapes scrapes answered during 60 configuration changes"

# ---- the dataplane gone -------------------------------------------------------------------
e2e_log "stopping the dataplane"
e2e_dataplane_stop
e2e_retry 50 eval '! e2e_dp_attached' || e2e_fail "control still reports a dataplane"
ms=$(ip netns exec "$NS_MON" curl -sf --max-time 2 -o "$T/m1.txt" -w '%{time_total}' \
	"http://$METRICS/metrics" | awk '{printf "%d", $1 * 1000}') ||
	e2e_fail "no scrape without a dataplane"
[ "$ms" -lt 500 ] || e2e_fail "a scrape without a dataplane took $ms ms"
grep -qx 'xvs_dataplane_up 0' "$T/m1.txt" || e2e_fail "xvs_dataplane_up is not 0 without a dataplane"
! grep -q '^xvs_drops_total' "$T/m1.txt" || e2e_fail "worker counters of a dataplane that is gone"
grep -q '^xvs_service_connections_total{service="TCP 198.18.0.100:80"' "$T/m1.txt" ||
	e2e_fail "the services left the scrape with the dataplane"
promtool_ok "$T/m1.txt"
e2e_ok "without a dataplane a scrape answers in $ms ms with xvs_dataplane_up 0"
e2e_retry 100 promql_is 'xvs_dataplane_up' 0 || e2e_fail "Prometheus does not see the dataplane go"
e2e_ok "PromQL: xvs_dataplane_up = 0"

# ---- --metrics-listen refusals ------------------------------------------------------------
out=$("$XVS_CONTROL" --metrics-listen localhost:9720 2>&1)
rc=$?
expect_eq "--metrics-listen localhost:9720 exit status" "$rc" 2
[[ "$out" == *"names are not resolved"* ]] || e2e_fail "--metrics-listen localhost: '$out'"
# An address given explicitly must be bound: Prometheus's port is taken.
out=$(ip netns exec "$NS_MON" "$XVS_CONTROL" --shm "$T/shm2" --socket "$T/sock2" \
	--state "$T/state2.json" --metrics-listen "127.0.0.1:$PROM_PORT" 2>&1)
rc=$?
expect_eq "--metrics-listen on a taken port exit status" "$rc" 1
[[ "$out" == *"cannot listen on 127.0.0.1:$PROM_PORT for metrics: Address already in use"* ]] ||
	e2e_fail "a taken metrics port: '$out'"
[ ! -e "$T/state2.json" ] || e2e_fail "a refused xvs-control saved a state file"
e2e_ok "--metrics-listen refuses a name and a taken port"

kill -0 "$CTL_PID" 2>/dev/null || e2e_fail "xvs-control died"
e2e_control_stop
e2e_ok "xvs-control stops cleanly with the metrics listener"
