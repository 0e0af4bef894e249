#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/, docs/fuzzing.md).

Run from anywhere: python3 tests/fuzz/make_corpus.py. It rewrites the files it owns (named
seed-*) and leaves every other file alone: hand-written seeds and the inputs of past
findings (regress-*) stay.

- fuzz_worker: each golden case's in.pcap (tests/golden/cases/), as frames of the target's
  input format (fuzz_worker.c) in the scenario that has the case's services; a case in two
  phases goes on with in.phase2.pcap in the scenario's second generation.
- fuzz_xvsadm_args: xvsadm command lines split into arguments (NUL between them), and
  golden cases' rules as -R input.
- fuzz_api_json: POST /v1/ops bodies.
- fuzz_gen_validate: the base generation, sealed or not, with a few patches.
- fuzz_kaconf: the keepalived.conf fixtures of the unit tests (tests/unit/kaconf).
- fuzz_etcd: etcd range answers holding those fixtures as values.
"""

import json
import os
import shlex
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
from golden_pcap import read_pcap  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")

# fuzz_worker's scenarios (fuzz_worker.c) and its setup bits
NAT, DR, IPIP, GUE, PERSIST, FWMARK, SCHED, RESOLVE, TOO_BIG, EMPTY, NOGEN = range(11)
TWO_WORKERS, SLOPPY, EXPIRE, ROOMY = 0x10, 0x20, 0x40, 0x80
MTU_1400, MTU_1280, TUN_SRC, SMALL_TABLE = 1, 2, 4, 8
F_PORT1, F_WORKER1, F_FIX, F_JOIN, F_NEXT_GEN = 0x01, 0x02, 0x10, 0x20, 0x40

# case -> (setup byte, ports byte); everything else is NAT on one worker
CASES = {
    "tcp_dr": (DR, 0), "tcp6_dr": (DR, 0),
    "tun_ipip": (IPIP, 0), "tun6_ipip": (IPIP, 0), "tun_4in6": (IPIP, 0),
    "tun_too_big": (IPIP, MTU_1400),
    "tun_gue": (GUE, 0), "tun_gue_csum": (GUE, 0), "tun6_gue": (GUE, 0), "tun_6in4": (GUE, 0),
    "tun_src_prefix": (GUE, TUN_SRC), "tun6_too_big": (TOO_BIG, MTU_1400),
    "tun6_too_big_min": (GUE, MTU_1280),
    "persist": (PERSIST, 0), "persist6": (PERSIST, 0), "persist_mask": (PERSIST, 0),
    "persist_port0": (PERSIST, 0), "fwmark": (FWMARK, 0), "udp_ops": (PERSIST, 0),
    "wrr": (SCHED, 0),
    "arp_resolve": (RESOLVE, 0), "nd_resolve": (RESOLVE, 0), "neigh_unresolved": (RESOLVE, 0),
    "dest_removed_expire": (NAT | EXPIRE, 0),
    "tcp_sloppy": (NAT | SLOPPY, 0),
    "nat_two_queues": (NAT | TWO_WORKERS, 0),
}


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def worker_input(setup, ports, frames):
    """frames: (control byte, bytes) pairs."""
    out = bytes([setup, ports])
    for ctl, fr in frames[:64]:
        out += bytes([ctl]) + struct.pack(">H", len(fr)) + fr
    return out


def worker_corpus():
    """The golden frames as they are (their bad checksums stay bad); neighbour discovery in
    buffers with tailroom, where xvs writes its advertisement in place."""
    cases = os.path.join(ROOT, "tests", "golden", "cases")
    for case in sorted(os.listdir(cases)):
        setup, ports = CASES.get(case, (NAT, 0))
        if case.startswith("nd_") or case.startswith("icmp6_"):
            setup |= ROOMY
        frames = [(0, f) for f in read_pcap(os.path.join(cases, case, "in.pcap"))]
        q1 = os.path.join(cases, case, "in1.pcap")
        if os.path.exists(q1):
            frames += [(F_WORKER1, f) for f in read_pcap(q1)]
        # a case in two phases: the table changes before the second (the next generation)
        p2 = os.path.join(cases, case, "in.phase2.pcap")
        if os.path.exists(p2):
            frames += [(F_NEXT_GEN if i == 0 else 0, f) for i, f in enumerate(read_pcap(p2))]
        write("fuzz_worker", case, worker_input(setup, ports, frames))
    # the same traffic in other settings: roomy buffers, one burst, time passing, no table
    nat = [(F_FIX, f) for f in read_pcap(os.path.join(cases, "tcp_nat", "in.pcap"))]
    write("fuzz_worker", "tcp_nat_fix", worker_input(NAT, 0, nat))
    write("fuzz_worker", "tcp_nat_roomy", worker_input(NAT | ROOMY | EXPIRE, 0, nat))
    write("fuzz_worker", "tcp_nat_small_table", worker_input(NAT, SMALL_TABLE, nat))
    # a SYN flood into tables of 16: new connections evict old ones
    syn = nat[0][1]
    flood = [(F_JOIN if i % 8 else 0, syn[:34] + struct.pack(">H", 20000 + i) + syn[36:])
             for i in range(48)]
    write("fuzz_worker", "syn_flood_small_table", worker_input(NAT, SMALL_TABLE, flood))
    write("fuzz_worker", "tcp_nat_burst",
          worker_input(NAT, 0, [nat[0]] + [(c | F_JOIN, f) for c, f in nat[1:]]))
    write("fuzz_worker", "tcp_nat_clock",
          worker_input(NAT, 0, [(c | (0x0c if i % 5 == 4 else 0x04 if i % 3 == 2 else 0), f)
                                for i, (c, f) in enumerate(nat)]))
    write("fuzz_worker", "tcp_nat_two_workers",
          worker_input(NAT | TWO_WORKERS, 0,
                       [(c | (F_WORKER1 if i % 2 else 0), f) for i, (c, f) in enumerate(nat)]))
    # the table changes in the middle of the traffic (a server deleted, one quiesced)
    mid = lambda frames: [(c | (F_NEXT_GEN if i == len(frames) // 2 else 0), f)
                          for i, (c, f) in enumerate(frames)]
    write("fuzz_worker", "tcp_nat_changed", worker_input(NAT, 0, mid(nat)))
    write("fuzz_worker", "tcp_nat_changed_expire", worker_input(NAT | EXPIRE, 0, mid(nat)))
    for case, sc in (("persist", PERSIST), ("tcp6_dr", DR), ("wrr", SCHED), ("tun_gue", GUE)):
        fr = [(0, f) for f in read_pcap(os.path.join(cases, case, "in.pcap"))]
        write("fuzz_worker", case + "_changed", worker_input(sc | EXPIRE, 0, mid(fr)))
    arp = [(0, f) for f in read_pcap(os.path.join(cases, "arp_vip", "in.pcap"))]
    write("fuzz_worker", "arp_vip_empty", worker_input(EMPTY, 0, arp))
    write("fuzz_worker", "arp_vip_nogen", worker_input(NOGEN, 0, arp))
    tun = [(0, f) for f in read_pcap(os.path.join(cases, "tun_ipip", "in.pcap"))]
    write("fuzz_worker", "tun_ipip_jumbo", worker_input(IPIP, 3, tun))


ARGS = [
    "-A -t 198.18.0.100:80 -s rr",
    "-A -t 198.18.0.100:http -s wlc -p",
    "-A -u [2001:db8::100]:53 -s sh -b sh-port,sh-fallback -o",
    "-A --sctp-service 198.18.0.100:3868 -s mh -b mh-port,mh-fallback",
    "-A -f 1 -s rr -p 600 -M 255.255.255.0",
    "-A -f 2 -6 -s lblcr -p 120 -M 64",
    "-E -t 198.18.0.100:80 -s wrr -p 300 -b flag-1,flag-2,flag-3",
    "-D -t 198.18.0.100:80",
    "-C",
    "-a -t 198.18.0.100:80 -r 198.18.0.21:8080 -m -w 3 -x 100 -y 10",
    "-a -t 198.18.0.100:80 -r 198.18.0.22 -g",
    "-a -t 198.18.0.100:80 -r 198.18.0.23 -i --tun-type gue --tun-port 6080 --tun-csum",
    "-a -t 198.18.0.100:80 -r [2001:db8::21]:80 -i --tun-type ipip",
    "-a -u 198.18.0.100:53 -r 198.18.0.21:5353 -m -w 0",
    "-e -t 198.18.0.100:80 -r 198.18.0.21:8080 -m -w 5",
    "-e -t 198.18.0.100:80 -r 198.18.0.23 -i --tun-type gre --tun-remcsum",
    "-d -t 198.18.0.100:80 -r 198.18.0.22",
    "--add-service --tcp-service 10.0.0.1:443 --scheduler fo --persistent 60",
    "--add-server --tcp-service 10.0.0.1:443 --real-server 10.0.1.1:443 --masquerading --weight 2",
    "--edit-server --tcp-service 10.0.0.1:443 --real-server 10.0.1.1:443 --gatewaying",
    "--delete-server --tcp-service 10.0.0.1:443 --real-server 10.0.1.1:443",
    "--delete-service --tcp-service 10.0.0.1:443",
    "-L",
    "-L -n",
    "-l -n --stats --exact",
    "-L -n --rate",
    "-L -n --thresholds",
    "-L -n --persistent-conn",
    "-L -n --tun-info",
    "-L -n --nosort",
    "-L -n -t 192.0.2.10:80",
    "-L -n -c",
    "-L -c --persistent-conn",
    "-L --timeout",
    "-L -n --json",
    "-S",
    "-S -n",
    "-Z",
    "-Z -t 198.18.0.100:80",
    "--set 900 120 300",
    "--set 0 0 60",
    "--status",
    "--status --json",
    "--add-mark --proto tcp --dst 198.18.0.96/29 --dport 8000:8999 --mark 2",
    "--add-mark --dst 2001:db8::/64 --mark 3",
    "--del-mark --proto udp --dst 198.18.0.100 --dport 53",
    "--list-marks",
    "--list-marks --json",
    "--start-daemon master --mcast-interface eth0 --syncid 1",
    "--stop-daemon backup",
    "-R",
    "-h",
    "-v",
    "-A -t 198.18.0.100:80 -s rr --pe sip",
    "-A -t 198.18.0.100 -s nosuch",
    "-a -t 198.18.0.100:80 -r 198.18.0.21 -w 70000",
    "-A -t 198.18.0.100:80 -s rr -p 0",
    "-a -t 198.18.0.100:80 -r 198.18.0.21 -x 10 -y 20",
]

RESTORE_CASES = ["tcp_nat", "fwmark", "persist_mask", "tun6_too_big", "sctp6_nat", "udp_ops"]


def args_corpus():
    for i, line in enumerate(ARGS):
        write("fuzz_xvsadm_args", "argv-%02d" % i, b"\0".join(a.encode() for a in shlex.split(line)))
    cases = os.path.join(ROOT, "tests", "golden", "cases")
    for case in RESTORE_CASES:
        with open(os.path.join(cases, case, "rules")) as f:
            rules = f.read()
        write("fuzz_xvsadm_args", "restore-" + case,
              "# " + case + "\nipvsadm " + rules.replace("\n", "\nxvsadm ", 1) + "\n")


def svc(proto="tcp", addr="198.18.0.100", port=80, **kw):
    s = {"proto": proto, "addr": addr, "port": port}
    s.update(kw)
    return s


API = [
    [{"op": "add-service", "service": svc(sched="rr")}],
    [{"op": "add-service", "service": svc(port=81, sched="wrr", persistent=300,
                                          netmask="255.255.255.0", flags=["flag-1"], ops=False)},
     {"op": "add-dest", "service": svc(port=81),
      "dest": {"addr": "198.18.0.21", "port": 8080, "fwd": "masq", "weight": 2,
               "u_threshold": 10, "l_threshold": 2}}],
    [{"op": "add-service", "service": {"fwmark": 5, "af": "inet6", "sched": "mh",
                                        "flags": ["mh-port", "mh-fallback"]}},
     {"op": "add-dest", "service": {"fwmark": 5, "af": "inet6"},
      "dest": {"addr": "2001:db8::21", "port": 0, "fwd": "tunnel", "tun_type": "gue",
               "tun_port": 6080, "tun_csum": "csum"}}],
    [{"op": "edit-service", "service": svc(sched="sh", flags=["sh-port", "sh-fallback"],
                                           persistent=360, netmask="255.255.255.0")}],
    [{"op": "delete-service", "service": svc()}],
    [{"op": "clear"}],
    [{"op": "add-dest", "service": svc(), "dest": {"addr": "198.18.0.24", "port": 80, "fwd": "route"}}],
    [{"op": "edit-dest", "service": svc(),
      "dest": {"addr": "198.18.0.21", "port": 8080, "fwd": "masq", "weight": 0}}],
    [{"op": "delete-dest", "service": svc(), "dest": {"addr": "198.18.0.22", "port": 8080}}],
    [{"op": "set-timeouts", "tcp": 60, "tcpfin": 0, "udp": 30}],
    [{"op": "zero", "service": svc()}],
    [{"op": "zero"}],
    [{"op": "add-mark", "mark": {"proto": "udp", "dst": "198.18.0.0/24", "dport_lo": 53,
                                 "dport_hi": 53, "mark": 1}}],
    [{"op": "delete-mark", "mark": {"proto": "tcp", "dst": "198.18.0.96/29", "dport_lo": 8000,
                                    "dport_hi": 8999}}],
    [{"op": "add-service", "service": svc(proto="sctp", addr="2001:db8::200", port=3868,
                                          sched="lblc", persistent=60, netmask=96)},
     {"op": "add-dest", "service": svc(proto="sctp", addr="2001:db8::200", port=3868),
      "dest": {"addr": "2001:db8::22", "port": 3869, "fwd": "masq"}},
     {"op": "delete-service", "service": svc(proto="sctp", addr="2001:db8::200", port=3868)}],
    [{"op": "add-service", "service": svc(sched="rr")}, {"op": "nosuch"}],
    # health settings: checks on a real server, quorum and a sorry server, then all cleared
    [{"op": "set-dest-health", "service": svc(), "dest": {"addr": "198.18.0.21", "port": 8080},
      "health": {"interval_ms": 2000, "rise": 2, "fall": 1, "inhibit_on_failure": True,
                 "checks": [{"type": "HTTP_GET", "connect_timeout_ms": 500, "retry": 1,
                             "urls": [{"path": "/", "status_codes": "200-299 503"}]},
                            {"type": "TCP_CHECK", "connect_port": 8081}]}},
     {"op": "set-service-health", "service": svc(),
      "health": {"quorum": 2, "hysteresis": 1, "sorry_addr": "198.18.0.29", "sorry_port": 80}},
     {"op": "clear-health"},
     {"op": "set-dest-health", "service": svc(), "dest": {"addr": "198.18.0.21", "port": 8080},
      "health": {"checks": [{"type": "MISC_CHECK", "script": "exit 0", "misc_dynamic": True}]}}],
]


def api_corpus():
    for i, ops in enumerate(API):
        write("fuzz_api_json", "ops-%02d" % i, json.dumps({"ops": ops}, indent=1))
    write("fuzz_api_json", "empty", '{"ops": []}')
    write("fuzz_api_json", "not-json", '{"ops": [')


def gen_corpus():
    patch = lambda region, off, data: bytes([region]) + struct.pack(">HB", off, len(data)) + data
    write("fuzz_gen_validate", "base-sealed", b"\x07")
    write("fuzz_gen_validate", "base-as-is", b"\x01")
    write("fuzz_gen_validate", "zero-sealed", b"\x06")
    # a service's scheduler, a destination's weight, a list entry, a mark's service
    write("fuzz_gen_validate", "svc-sched", b"\x07" + patch(2, 3, b"\x0e"))
    write("fuzz_gen_validate", "dest-weight", b"\x07" + patch(3, 8, b"\xff\xff\xff\xff"))
    write("fuzz_gen_validate", "list-entry", b"\x07" + patch(4, 0, b"\x40\x00"))
    write("fuzz_gen_validate", "mark-svc", b"\x07" + patch(5, 8 + 12, b"\x09\x00"))
    write("fuzz_gen_validate", "tab-entry", b"\x07" + patch(6, 2, b"\x07\x00\x07\x00"))
    write("fuzz_gen_validate", "counts", b"\x05" + patch(0, 20, b"\x00\x04\x00\x00"))


def kaconf_corpus():
    src = os.path.join(ROOT, "tests", "unit", "kaconf")
    for name in sorted(os.listdir(src)):
        if name.endswith(".conf"):
            with open(os.path.join(src, name), "rb") as f:
                write("fuzz_kaconf", name, f.read())


def etcd_corpus():
    import base64
    b64 = lambda b: base64.b64encode(b).decode()
    src = os.path.join(ROOT, "tests", "unit", "kaconf")
    names = sorted(n for n in os.listdir(src) if n.endswith(".conf"))[:8]
    kvs = []
    for i, name in enumerate(names):
        with open(os.path.join(src, name), "rb") as f:
            kvs.append({"key": b64(b"/xvs/" + name.encode()), "value": b64(f.read()),
                        "mod_revision": str(10 + i)})
        answer = {"header": {"revision": str(10 + i)}, "kvs": list(kvs), "count": str(len(kvs))}
        write("fuzz_etcd", "range-%02d" % i, json.dumps(answer))
    write("fuzz_etcd", "empty", json.dumps({"header": {"revision": "3"}}))


if __name__ == "__main__":
    worker_corpus()
    args_corpus()
    api_corpus()
    gen_corpus()
    kaconf_corpus()
    etcd_corpus()
