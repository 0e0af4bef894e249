#!/usr/bin/python3
"""Writes every golden pcap case of xvs under tests/golden/cases/ (or --out DIR).

Each case directory gets:
  dataplane.ini  xvs-dataplane config; run_case.sh fills in @TMP@ and @PREFIX@
  rules          xvsadm -R input (ipvsadm syntax)
  in.pcap        frames fed to the dataplane's net_pcap port
  expected.pcap  the frames the dataplane must send, in order, byte for byte
  expect         counters of the dataplane's exit summary ("key value" lines)

Topology ("one-armed", everything on port p0 198.18.0.1/24, MAC 02:00:00:00:00:01):
  clients       198.18.0.10 .. .18   MAC 02:00:00:00:00:0a .. 12
  VIP           198.18.0.100
  real servers  198.18.0.21 .22 .23  MAC 02:00:00:00:00:15 16 17 (A, B, C);
                their gateway is the LB, so their replies go to the LB's MAC.

Expected frames are built from the spec of the packet path, never from xvs output. The
output is deterministic: fixed addresses, sequence numbers, IP ids and pcap timestamps.
Run it again after changing a case and commit everything it writes.
"""

import argparse
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from flow_hash import flow_hash, gue_sport, tunnel_src  # noqa: E402
from golden_pcap import ipv4_header_csum, ones_sum, verify_checksums, write_pcap  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

LB_MAC = "02:00:00:00:00:01"
LB_IP = "198.18.0.1"
VIP = "198.18.0.100"
NOBODY_IP = "198.18.0.200"      # in the connected subnet, owned by nobody
BCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


class Host:
    """A client or real server: its address, MAC and an IP id counter."""

    def __init__(self, ip, mac):
        self.ip, self.mac, self._ip_id = ip, mac, 0x1000 + int(ip.split(".")[3]) * 0x100

    def next_id(self):
        self._ip_id += 1
        return self._ip_id


def make_hosts():
    clients = [Host(f"198.18.0.{10 + i}", "02:00:00:00:00:%02x" % (0x0A + i)) for i in range(9)]
    servers = [Host(f"198.18.0.{21 + i}", "02:00:00:00:00:%02x" % (0x15 + i)) for i in range(3)]
    return clients, servers


def concrete(pkt):
    """Freeze a scapy packet into bytes (lengths and checksums computed once)."""
    return bytes(pkt)


def rewrite(frame, eth_src=None, eth_dst=None, ip_src=None, ip_dst=None, sport=None, dport=None):
    """The frame with the given fields changed and every checksum recomputed from scratch."""
    p = Ether(frame)
    if eth_src:
        p.src = eth_src
    if eth_dst:
        p.dst = eth_dst
    if IP in p:
        if ip_src:
            p[IP].src = ip_src
        if ip_dst:
            p[IP].dst = ip_dst
        del p[IP].chksum
        for l4 in (TCP, UDP):
            if l4 in p:
                if sport is not None:
                    p[l4].sport = sport
                if dport is not None:
                    p[l4].dport = dport
                del p[l4].chksum
    return bytes(p)


def fix_ip_csum(frame):
    """Recompute the IPv4 header checksum of a hand-edited frame (20-byte header)."""
    b = bytearray(frame)
    b[24:26] = struct.pack("!H", ipv4_header_csum(b[14:34]))
    return bytes(b)


class Case:
    """One golden case: rules, neighbours, input frames, expected output and counters."""

    def __init__(self, name, description, rules, neighbours, port_opts=()):
        self.name, self.description = name, description
        self.rules, self.neighbours = rules, neighbours
        self.port_opts = list(port_opts)  # extra "key = value" lines of [port p0]
        self.frames_in, self.frames_out, self.good_in = [], [], []
        self.counters = {}

    def step(self, frame_in, *frames_out, good=True):
        """Feed frame_in; the dataplane must send frames_out (in order) because of it."""
        self.frames_in.append(frame_in)
        self.good_in.append(good)
        self.frames_out.extend(frames_out)

    def drop(self, frame_in, reason, *frames_out, good=False):
        self.step(frame_in, *frames_out, good=good)
        self.count("drop " + reason)

    def count(self, key, n=1):
        self.counters[key] = self.counters.get(key, 0) + n

    def check(self):
        # inih reads at most 200 bytes a line: the description comment must fit
        assert len(self.name) + len(self.description) < 170, self.name
        for i, frame in enumerate(self.frames_out):
            problems = verify_checksums(frame)
            if problems:
                raise SystemExit(f"{self.name}: expected frame {i}: {problems}")
        for i, frame in enumerate(self.frames_in):
            if self.good_in[i] and verify_checksums(frame):
                raise SystemExit(f"{self.name}: input frame {i}: {verify_checksums(frame)}")

    def write(self, top):
        self.check()
        d = os.path.join(top, self.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "dataplane.ini"), "w") as f:
            f.write(render_ini(self))
        with open(os.path.join(d, "rules"), "w") as f:
            f.write("".join(line + "\n" for line in self.rules))
        with open(os.path.join(d, "expect"), "w") as f:
            f.write(render_expect(self))
        write_pcap(os.path.join(d, "in.pcap"), self.frames_in)
        write_pcap(os.path.join(d, "expected.pcap"), self.frames_out)


def render_ini(case):
    lines = [
        f"; golden case {case.name}: {case.description}",
        "; written by tests/golden/gen_cases.py; run_case.sh fills in @TMP@ and @PREFIX@",
        "[dataplane]",
        "lcores = 0",
        "file_prefix = @PREFIX@",
        "huge_dir = none",
        "memory = 256",
        "shm = @TMP@/shm",
        "conn_max = 4096",
        "",
        "[port p0]",
        "dev = net_pcap0,rx_pcap=@TMP@/in.pcap,tx_pcap=@TMP@/out.pcap",
        f"addr = {LB_IP}/24",
        f"mac = {LB_MAC}",
    ]
    lines += case.port_opts
    lines += [
        "",
        "[neighbours]",
    ]
    lines += [f"neigh = {h.ip} {h.mac} p0" for h in case.neighbours]
    return "\n".join(lines) + "\n"


def render_expect(case):
    lines = [
        f"# {case.name}: {case.description}",
        "# Exit-summary counters that must match exactly; a drop counter not listed must be 0.",
        f"rx {len(case.frames_in)}",
        f"tx {len(case.frames_out)}",
    ]
    lines += [f"{k} {v}" for k, v in case.counters.items()]
    return "\n".join(lines) + "\n"


class TcpFlow:
    """A TCP connection client:cport -> VIP:vport, served by server:rport.

    c2v() returns (frame in, frame the LB must send); s2c() the same for the real server's
    reply (NAT only). Sequence and acknowledgement numbers follow the conversation."""

    def __init__(self, client, cport, server, rport, vport=80, nat=True, isn=1000):
        self.client, self.cport, self.server, self.rport = client, cport, server, rport
        self.vport, self.nat = vport, nat
        self.cseq, self.sseq = isn, isn * 7 + 500000

    @staticmethod
    def _advance(seq, flags, payload):
        return seq + len(payload) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)

    def c2v(self, flags, payload=b"", options=None):
        ack = self.sseq if "A" in flags else 0
        pkt = (Ether(src=self.client.mac, dst=LB_MAC)
               / IP(src=self.client.ip, dst=VIP, ttl=64, id=self.client.next_id(), flags="DF")
               / TCP(sport=self.cport, dport=self.vport, flags=flags, seq=self.cseq, ack=ack,
                     window=64240, options=options or []))
        if payload:
            pkt = pkt / Raw(payload)
        self.cseq = self._advance(self.cseq, flags, payload)
        frame = concrete(pkt)
        if self.nat:
            out = rewrite(frame, eth_src=LB_MAC, eth_dst=self.server.mac,
                          ip_dst=self.server.ip, dport=self.rport)
        else:
            out = rewrite(frame, eth_src=LB_MAC, eth_dst=self.server.mac)
        return frame, out

    def s2c(self, flags, payload=b""):
        assert self.nat, "DR replies do not pass through the LB"
        pkt = (Ether(src=self.server.mac, dst=LB_MAC)
               / IP(src=self.server.ip, dst=self.client.ip, ttl=64, id=self.server.next_id(),
                    flags="DF")
               / TCP(sport=self.rport, dport=self.cport, flags=flags, seq=self.sseq,
                     ack=self.cseq, window=65160))
        if payload:
            pkt = pkt / Raw(payload)
        self.sseq = self._advance(self.sseq, flags, payload)
        frame = concrete(pkt)
        out = rewrite(frame, eth_src=LB_MAC, eth_dst=self.client.mac, ip_src=VIP,
                      sport=self.vport)
        return frame, out


def svc_rules(sched, proto, vport, servers, method, rport, weights=None):
    """ipvsadm -R lines for one service on the VIP."""
    flag = "-t" if proto == "tcp" else "-u"
    rules = [f"-A {flag} {VIP}:{vport} -s {sched}"]
    for i, s in enumerate(servers):
        w = weights[i] if weights else 1
        rules.append(f"-a {flag} {VIP}:{vport} -r {s.ip}:{rport} {method} -w {w}")
    return rules


def udp_c2v(client, cport, vport, payload):
    return concrete(Ether(src=client.mac, dst=LB_MAC)
                    / IP(src=client.ip, dst=VIP, ttl=64, id=client.next_id())
                    / UDP(sport=cport, dport=vport) / Raw(payload))


def tcp_syn(client, cport, dst=VIP, dport=80, seq=7000, flags="S", eth_dst=LB_MAC):
    return concrete(Ether(src=client.mac, dst=eth_dst)
                    / IP(src=client.ip, dst=dst, ttl=64, id=client.next_id(), flags="DF")
                    / TCP(sport=cport, dport=dport, flags=flags, seq=seq,
                          ack=(seq * 3 if "A" in flags else 0), window=64240))


def arp_request(sender, target_ip, eth_dst=BCAST_MAC):
    return concrete(Ether(src=sender.mac, dst=eth_dst)
                    / ARP(op=1, hwsrc=sender.mac, psrc=sender.ip, hwdst=ZERO_MAC, pdst=target_ip))


def arp_reply_from_lb(requester, owned_ip):
    return concrete(Ether(src=LB_MAC, dst=requester.mac)
                    / ARP(op=2, hwsrc=LB_MAC, psrc=owned_ip, hwdst=requester.mac,
                          pdst=requester.ip))


def icmp_echo(client, dst, ident, seq, payload, ttl=57, tos=0x10, flags="DF"):
    """An echo request and the reply the LB must send for an owned dst."""
    ip_id = client.next_id()
    req = concrete(Ether(src=client.mac, dst=LB_MAC)
                   / IP(src=client.ip, dst=dst, ttl=ttl, tos=tos, id=ip_id, flags=flags)
                   / ICMP(type=8, code=0, id=ident, seq=seq) / Raw(payload))
    rep = concrete(Ether(src=LB_MAC, dst=client.mac)
                   / IP(src=dst, dst=client.ip, ttl=64, tos=tos, id=ip_id, flags=flags)
                   / ICMP(type=0, code=0, id=ident, seq=seq) / Raw(payload))
    return req, rep


# --- the cases ------------------------------------------------------------------------

def case_tcp_nat(C, S):
    c = Case("tcp_nat", "TCP through NAT both ways: handshake, data, FIN close; rr over A B C",
             svc_rules("rr", "tcp", 80, S, "-m", 8080), C + S)
    # rr: the 4th connection (same client as the 1st, another port) wraps around to A.
    flows = [TcpFlow(C[0], 40000, S[0], 8080, isn=1000),
             TcpFlow(C[1], 40001, S[1], 8080, isn=2000),
             TcpFlow(C[2], 40002, S[2], 8080, isn=3000),
             TcpFlow(C[0], 40003, S[0], 8080, isn=4000)]
    for f in flows:
        c.step(*f.c2v("S", options=[("MSS", 1460)]))
    script = [
        ("s", "SA", b""),
        ("c", "A", b""),
        ("c", "PA", b"GET / HTTP/1.0\r\n\r\n"),
        ("s", "PA", b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        ("c", "A", b""),
        ("c", "FA", b""),
        ("s", "FA", b""),
        ("c", "A", b""),
    ]
    for side, flags, payload in script:
        for f in flows:
            c.step(*(f.c2v(flags, payload) if side == "c" else f.s2c(flags, payload)))
    c.count("conns-new", len(flows))
    return c


def case_udp_nat(C, S):
    c = Case("udp_nat", "UDP requests and replies through NAT, rr over A B",
             svc_rules("rr", "udp", 53, S[:2], "-m", 5353), C + S)
    def request(flow, payload):
        client, cport, server = flow
        frame = udp_c2v(client, cport, 53, payload)
        return frame, rewrite(frame, eth_src=LB_MAC, eth_dst=server.mac, ip_dst=server.ip,
                              dport=5353)

    def reply(flow, payload):
        client, cport, server = flow
        frame = concrete(Ether(src=server.mac, dst=LB_MAC)
                         / IP(src=server.ip, dst=client.ip, ttl=64, id=server.next_id())
                         / UDP(sport=5353, dport=cport) / Raw(payload))
        return frame, rewrite(frame, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP, sport=53)

    a, b = (C[0], 33000, S[0]), (C[1], 33001, S[1])
    c.step(*request(a, b"query-a-1"))
    c.step(*request(b, b"query-b-1"))
    c.step(*reply(b, b"answer-b-1 with a longer payload"))
    c.step(*reply(a, b"answer-a-1"))
    c.step(*request(a, b"query-a-2, same flow: same server"))
    c.step(*reply(a, b"answer-a-2"))
    c.count("conns-new", 2)
    return c


def case_tcp_dr(C, S):
    c = Case("tcp_dr", "TCP through DR: only the Ethernet addresses change; rr over A B",
             svc_rules("rr", "tcp", 80, S[:2], "-g", 80), C + S)
    a = TcpFlow(C[0], 41000, S[0], 80, nat=False, isn=5000)
    b = TcpFlow(C[1], 41001, S[1], 80, nat=False, isn=6000)
    c.step(*a.c2v("S", options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None),
                                ("WScale", 7)]))
    c.step(*b.c2v("S"))
    a.sseq = b.sseq = 900001  # the servers' SYN-ACKs (seq 900000) go straight to the clients
    c.step(*a.c2v("A"))
    c.step(*b.c2v("A"))
    c.step(*a.c2v("PA", b"GET /dr HTTP/1.1\r\nHost: vip\r\n\r\n"))
    c.step(*b.c2v("PA", b"GET /other HTTP/1.1\r\n\r\n"))
    c.step(*a.c2v("FA"))
    c.step(*a.c2v("A"))
    c.count("conns-new", 2)
    return c


def case_arp_vip(C, S):
    c = Case("arp_vip", "ARP requests for the VIP (broadcast and unicast) get replies",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.step(arp_request(C[0], VIP), arp_reply_from_lb(C[0], VIP))
    c.step(arp_request(C[1], VIP, eth_dst=LB_MAC), arp_reply_from_lb(C[1], VIP))
    c.count("arp-replies", 2)
    return c


def case_arp_port_addr(C, S):
    c = Case("arp_port_addr", "an ARP request for the port's own address gets a reply",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.step(arp_request(C[0], LB_IP), arp_reply_from_lb(C[0], LB_IP))
    c.count("arp-replies", 1)
    return c


def case_arp_not_ours(C, S):
    c = Case("arp_not_ours",
             "ARP requests for addresses not owned are dropped; ours still answered",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.drop(arp_request(C[0], NOBODY_IP), "arp-not-ours")
    c.drop(arp_request(C[1], S[0].ip), "arp-not-ours")
    c.step(arp_request(C[2], LB_IP), arp_reply_from_lb(C[2], LB_IP))
    c.count("arp-replies", 1)
    return c


def case_arp_learn(C, S):
    newcomer = Host("198.18.0.30", "02:00:00:00:00:1e")  # no static neighbour entry
    c = Case("arp_learn", "the sender of an ARP request for the VIP is learned as a neighbour",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.step(arp_request(newcomer, VIP), arp_reply_from_lb(newcomer, VIP))
    f = TcpFlow(newcomer, 43000, S[0], 8080, isn=8000)
    c.step(*f.c2v("S"))
    c.step(*f.s2c("SA"))  # needs the learned MAC of 198.18.0.30
    c.count("arp-replies", 1)
    c.count("conns-new", 1)
    return c


def case_arp_resolve(C, S):
    c = Case("arp_resolve", "unresolved real server: one ARP request, frames held until the "
             "reply, then sent in order",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S[1:])
    f = TcpFlow(C[0], 44000, S[0], 8080, isn=9000)
    syn, syn_out = f.c2v("S")
    who_has = concrete(Ether(src=LB_MAC, dst=BCAST_MAC)
                       / ARP(op=1, hwsrc=LB_MAC, psrc=LB_IP, hwdst=ZERO_MAC, pdst=S[0].ip))
    c.step(syn, who_has)  # held, and the next hop is asked for
    c.step(syn)           # held too; within a second: no second ARP request
    c.step(concrete(Ether(src=S[0].mac, dst=LB_MAC)
                    / ARP(op=2, hwsrc=S[0].mac, psrc=S[0].ip, hwdst=LB_MAC, pdst=LB_IP)))
    # The client's next retransmission (identical bytes) goes straight out; the two held
    # copies follow when the burst ends.
    c.step(syn, syn_out, syn_out, syn_out)
    c.count("conns-new", 1)
    return c


def case_icmp_echo_vip(C, S):
    c = Case("icmp_echo_vip", "ICMP echo request to the VIP gets a reply",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.step(*icmp_echo(C[0], VIP, 0x77, 1, bytes(range(48))))
    c.step(*icmp_echo(C[1], VIP, 0x78, 9, b"xvs-echo" * 7, ttl=250, tos=0, flags=0))
    c.count("icmp-echo-replies", 2)
    return c


def case_icmp_echo_addr(C, S):
    c = Case("icmp_echo_addr", "ICMP echo request to the port address gets a reply",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.step(*icmp_echo(C[0], LB_IP, 0x1234, 1, bytes(range(56))))
    c.step(*icmp_echo(C[0], LB_IP, 0x1234, 2, b"odd-length", ttl=1, tos=0xB8, flags=0))
    c.count("icmp-echo-replies", 2)
    return c


def case_no_vip(C, S):
    c = Case("no_vip", "traffic with no service and no connection is dropped as no-vip",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    c.drop(tcp_syn(C[0], 45000, dport=81), "no-vip", good=True)           # VIP, wrong port
    c.drop(udp_c2v(C[0], 45001, 80, b"udp to a tcp-only vip"), "no-vip", good=True)
    c.drop(tcp_syn(C[1], 45002, dst=NOBODY_IP), "no-vip", good=True)       # not owned
    c.drop(concrete(Ether(src=S[0].mac, dst=LB_MAC)                        # reply, no conn
                    / IP(src=S[0].ip, dst=C[0].ip, ttl=64, id=S[0].next_id())
                    / UDP(sport=5353, dport=33000) / Raw(b"stray")), "no-vip", good=True)
    f = TcpFlow(C[2], 45003, S[0], 8080, isn=11000)
    c.step(*f.c2v("S"))
    c.count("conns-new", 1)
    return c


def case_tcp_not_syn(C, S):
    c = Case("tcp_not_syn", "TCP without a connection that is not a plain SYN is dropped",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    for flags in ("A", "R", "FA", "SA", "PA"):
        c.drop(tcp_syn(C[0], 46000, flags=flags, seq=12000), "tcp-not-syn", good=True)
    f = TcpFlow(C[0], 46000, S[0], 8080, isn=12000)
    c.step(*f.c2v("S"))
    c.step(*f.s2c("SA"))
    c.step(*f.c2v("A"))
    c.count("conns-new", 1)
    return c


def case_wrr(C, S):
    c = Case("wrr", "wrr weights 4/3/2: nine new connections go A A B A B C A B C",
             svc_rules("wrr", "tcp", 80, S, "-m", 8080, weights=[4, 3, 2]), C + S)
    for i, server in enumerate("AABABCABC"):
        f = TcpFlow(C[i], 42000 + i, S["ABC".index(server)], 8080, isn=20000 + i)
        c.step(*f.c2v("S"))
    c.count("conns-new", 9)
    return c


def malformed_frames(C):
    """(reason, frame) for one frame of each malformed kind, all to VIP:80 from C[0] where
    that makes sense, so a missing check would forward them."""
    cl = C[0]
    syn = tcp_syn(cl, 47000)
    eth = syn[:14]
    out = [("runt", syn[:10])]
    out.append(("l2-not-ours", tcp_syn(cl, 47001, eth_dst="02:00:00:00:00:99")))
    out.append(("l2-unsupported", eth[:12] + b"\x88\xb5" + bytes(46)))
    out.append(("ip-truncated", syn[:14 + 10]))
    ihl15 = bytearray(syn[:14 + 40])   # IHL says 60 bytes, the frame holds 40
    ihl15[14] = 0x4F
    ihl15[16:18] = struct.pack("!H", 40)
    out.append(("ip-truncated", fix_ip_csum(ihl15)))
    b = bytearray(syn)
    b[14] = 0x65
    out.append(("ip-bad-version", fix_ip_csum(b)))
    b = bytearray(syn)
    b[14] = 0x44
    out.append(("ip-bad-ihl", fix_ip_csum(b)))
    for tot in (1000, 16):
        b = bytearray(syn)
        b[16:18] = struct.pack("!H", tot)
        out.append(("ip-bad-len", fix_ip_csum(b)))
    b = bytearray(syn)
    b[24] ^= 0x5A
    out.append(("ip-bad-csum", bytes(b)))
    out.append(("ip-options", concrete(
        Ether(src=cl.mac, dst=LB_MAC)
        / IP(src=cl.ip, dst=VIP, id=cl.next_id(), options=[IPOption_NOP()] * 4)
        / TCP(sport=47002, dport=80, flags="S", seq=1, window=64240))))
    out.append(("ip-fragment", concrete(
        Ether(src=cl.mac, dst=LB_MAC) / IP(src=cl.ip, dst=VIP, id=cl.next_id(), flags="MF")
        / TCP(sport=47003, dport=80, flags="S", seq=1, window=64240) / Raw(bytes(16)))))
    out.append(("ip-fragment", concrete(
        Ether(src=cl.mac, dst=LB_MAC) / IP(src=cl.ip, dst=VIP, id=cl.next_id(), frag=185,
                                           proto=6) / Raw(bytes(range(24))))))
    tcp_hdr = concrete(IP(src=cl.ip, dst=VIP) / TCP(sport=47004, dport=80, flags="S"))[20:]
    udp_hdr = concrete(IP(src=cl.ip, dst=VIP) / UDP(sport=47005, dport=80))[20:]
    for proto, l4 in ((6, tcp_hdr[:10]), (17, udp_hdr[:4])):
        out.append(("l4-truncated", concrete(
            Ether(src=cl.mac, dst=LB_MAC)
            / IP(src=cl.ip, dst=VIP, id=cl.next_id(), proto=proto) / Raw(l4))))
    for doff in (4, 15):
        out.append(("l4-truncated", concrete(
            Ether(src=cl.mac, dst=LB_MAC) / IP(src=cl.ip, dst=VIP, id=cl.next_id())
            / TCP(sport=47006 + doff, dport=80, flags="S", seq=1, dataofs=doff,
                  window=64240))))
    # A timestamp request (its times fixed: scapy defaults them to now) and a stray echo reply.
    for icmp in (ICMP(type=13, id=5, seq=5, ts_ori=1000, ts_rx=0, ts_tx=0),
                 ICMP(type=0, id=5, seq=5) / Raw(bytes(12))):
        out.append(("icmp-unsupported", concrete(
            Ether(src=cl.mac, dst=LB_MAC) / IP(src=cl.ip, dst=LB_IP, id=cl.next_id()) / icmp)))
    out.append(("l4-unsupported", concrete(
        Ether(src=cl.mac, dst=LB_MAC) / IP(src=cl.ip, dst=VIP, id=cl.next_id(), proto=47)
        / Raw(b"\x00\x00\x08\x00" + bytes(20)))))
    return out


def case_malformed(C, S):
    c = Case("malformed", "one frame of each malformed kind, each dropped and counted; "
             "a good SYN after them is forwarded",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    for reason, frame in malformed_frames(C):
        c.drop(frame, reason)
    f = TcpFlow(C[1], 47100, S[0], 8080, isn=13000)
    syn, syn_out = f.c2v("S")  # 54 bytes: an unpadded short frame is fine
    assert len(syn) == 54
    c.step(syn, syn_out)
    c.count("conns-new", 1)
    return c


# --- tunnels (-i) ------------------------------------------------------------------------

GUE_PORT = 6080
TUN_SRC_PREFIX = "198.19.254.0/23"  # a /23, so the chosen host part can carry into the 3rd byte


def ip_part(frame):
    """The IPv4 packet of an Ethernet frame, without any Ethernet padding."""
    tot = struct.unpack("!H", frame[16:18])[0]
    return frame[14:14 + tot]


def flow_hash_of(frame):
    """The flow hash of a client->VIP TCP/UDP frame (flow_hash.py)."""
    ip = ip_part(frame)
    sport, dport = struct.unpack("!HH", ip[20:24])
    return flow_hash(".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20])),
                     sport, dport, ip[9])


def edit_ip(frame, tos=None, df=None):
    """frame with its IPv4 TOS or DF bit changed (L4 checksums do not cover either)."""
    b = bytearray(frame)
    if tos is not None:
        b[15] = tos
    if df is not None:
        b[20] = (b[20] | 0x40) if df else (b[20] & ~0x40)
    return fix_ip_csum(b)


def tun_frame(frame, server, kind, h, src=LB_IP, csum=False):
    """What the LB sends for `frame` tunnelled to server: the whole inner IPv4 packet
    (Ethernet padding dropped) behind an outer IPv4 header from src to the server with the
    inner TOS and DF bit, TTL 64, id 0. "ipip": protocol 4. "gue": UDP from gue_sport(h) to
    GUE_PORT (checksum 0 unless csum) and a 4-byte GUE header (variant 0, protocol 4)."""
    inner = ip_part(frame)
    outer = IP(src=src, dst=server.ip, tos=inner[1], id=0, ttl=64,
               flags="DF" if inner[6] & 0x40 else 0)
    if kind == "ipip":
        pkt = outer / Raw(inner)
        pkt[IP].proto = 4
    else:
        pkt = outer / UDP(sport=gue_sport(h), dport=GUE_PORT) / Raw(b"\x00\x04\x00\x00" + inner)
        if not csum:
            pkt[UDP].chksum = 0
    return concrete(Ether(src=LB_MAC, dst=server.mac) / pkt)


def tun_method(kind, csum=False):
    if kind == "ipip":
        return "-i"
    return f"-i --tun-type gue --tun-port {GUE_PORT}" + (" --tun-csum" if csum else "")


def tun_step(c, frame, server, kind, csum=False, prefix=None):
    """Feed a client->VIP frame; it must leave tunnelled to server (outer source from the
    prefix when the port has tunnel_src, else the port's address)."""
    h = flow_hash_of(frame)
    src = tunnel_src(prefix, h) if prefix else LB_IP
    c.step(frame, tun_frame(frame, server, kind, h, src, csum))
    return src, gue_sport(h)


def tcp_flow_through_tunnel(c, flows, kind, csum=False):
    """SYN (with options), a padded ACK, data with TOS 0x28, data without DF, per flow."""
    for f in flows:
        syn, _ = f.c2v("S", options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None),
                                     ("WScale", 7)])
        tun_step(c, syn, f.server, kind, csum)
    for f in flows:
        f.sseq = 900001  # the servers' SYN-ACKs go straight to the clients
        ack, _ = f.c2v("A")
        tun_step(c, ack + bytes(6), f.server, kind, csum)  # 60 bytes: padding is not tunnelled
    for f in flows:
        data, _ = f.c2v("PA", b"GET /tunnel HTTP/1.1\r\nHost: vip\r\n\r\n")
        tun_step(c, edit_ip(data, tos=0x28), f.server, kind, csum)
        more, _ = f.c2v("PA", b"odd-length body")
        tun_step(c, edit_ip(more, df=False), f.server, kind, csum)
    c.count("conns-new", len(flows))


def case_tun_ipip(C, S):
    c = Case("tun_ipip", "TCP through IPIP tunnels: the whole packet behind an outer header "
             "from the port address; rr over A B",
             svc_rules("rr", "tcp", 80, S[:2], tun_method("ipip"), 80), C + S)
    tcp_flow_through_tunnel(c, [TcpFlow(C[0], 48000, S[0], 80, nat=False, isn=30000),
                                TcpFlow(C[1], 48001, S[1], 80, nat=False, isn=31000)], "ipip")
    return c


def case_tun_gue(C, S):
    c = Case("tun_gue", "TCP through GUE tunnels (variant 0, outer UDP checksum 0), "
             "per-flow UDP source port; rr over A B",
             svc_rules("rr", "tcp", 80, S[:2], tun_method("gue"), 80), C + S)
    tcp_flow_through_tunnel(c, [TcpFlow(C[0], 48100, S[0], 80, nat=False, isn=32000),
                                TcpFlow(C[1], 48101, S[1], 80, nat=False, isn=33000)], "gue")
    return c


def case_tun_gue_csum(C, S):
    c = Case("tun_gue_csum", "TCP through GUE tunnels with --tun-csum: the outer UDP checksum "
             "is filled; rr over A B",
             svc_rules("rr", "tcp", 80, S[:2], tun_method("gue", csum=True), 80), C + S)
    tcp_flow_through_tunnel(c, [TcpFlow(C[2], 48200, S[0], 80, nat=False, isn=34000),
                                TcpFlow(C[3], 48201, S[1], 80, nat=False, isn=35000)], "gue",
                            csum=True)
    return c


def case_tun_src_prefix(C, S):
    rules = (svc_rules("rr", "tcp", 80, S, tun_method("gue"), 80)
             + svc_rules("rr", "udp", 53, S[:1], tun_method("ipip"), 53))
    c = Case("tun_src_prefix", f"tunnel_src {TUN_SRC_PREFIX}: each flow gets its own outer "
             "source (and GUE source port), the same for all its packets",
             rules, C + S, port_opts=[f"tunnel_src = {TUN_SRC_PREFIX}"])
    flows = [TcpFlow(C[i], 49000 + 7 * i, S[i % 3], 80, nat=False, isn=36000 + i)
             for i in range(9)]
    chosen = [tun_step(c, f.c2v("S")[0], f.server, "gue", prefix=TUN_SRC_PREFIX)
              for f in flows]
    for f in flows[:3]:  # later packets of a flow keep its source and port
        f.sseq = 900001
        tun_step(c, f.c2v("A")[0], f.server, "gue", prefix=TUN_SRC_PREFIX)
    for i in range(4):
        udp = udp_c2v(C[i], 33100 + i, 53, b"tunnelled query %d" % i)
        chosen.append(tun_step(c, udp, S[0], "ipip", prefix=TUN_SRC_PREFIX))
    # The case only shows spreading if the flows really spread (and reach the carry).
    srcs = {s for s, _ in chosen}
    assert len(srcs) >= 9 and len({p for _, p in chosen[:9]}) == 9, chosen
    assert any(s.startswith("198.19.255.") for s in srcs), srcs
    c.count("conns-new", len(flows) + 4)
    return c


def icmp_msg(icmp_type, code, rest, quote):
    """An ICMP message: type, code, checksum, 4 bytes `rest` (a u32) and the quote."""
    m = struct.pack("!BBHI", icmp_type, code, 0, rest) + quote
    return m[:2] + struct.pack("!H", ~ones_sum(m) & 0xFFFF) + m[4:]


def frag_needed_from_vip(frame, client, mtu):
    """The LB's ICMP "fragmentation needed" to the client for a frame that does not fit:
    from the VIP, TOS 0xc0, TTL 64, id 0, DF clear, quoting the IP header and 8 bytes."""
    quote = ip_part(frame)[:28]
    return concrete(Ether(src=LB_MAC, dst=client.mac)
                    / IP(src=VIP, dst=client.ip, tos=0xC0, id=0, flags=0, ttl=64, proto=1)
                    / Raw(icmp_msg(3, 4, mtu, quote)))


def case_tun_too_big(C, S):
    rules = (svc_rules("rr", "tcp", 80, S[:1], tun_method("ipip"), 80)
             + svc_rules("rr", "tcp", 443, S[1:2], tun_method("gue"), 443))
    c = Case("tun_too_big", "mtu 1400: too big once encapsulated: dropped, frag-needed with "
             "mtu - 20 (IPIP) or - 32 (GUE) to the client; one that just fits goes", rules, C + S, port_opts=["mtu = 1400"])
    for f, kind, fit in ((TcpFlow(C[0], 50000, S[0], 80, nat=False, isn=40000), "ipip", 1380),
                         (TcpFlow(C[1], 50001, S[1], 443, nat=False, vport=443, isn=41000),
                          "gue", 1368)):
        tun_step(c, f.c2v("S")[0], f.server, kind)
        f.sseq = 900001
        tun_step(c, f.c2v("A")[0], f.server, kind)
        seq = f.cseq
        big, _ = f.c2v("PA", bytes(fit + 1 - 40))  # one byte too many, DF set
        c.drop(big, "too-big", frag_needed_from_vip(big, f.client, fit), good=True)
        f.cseq = seq
        just, _ = f.c2v("PA", bytes(fit - 40))     # the client's smaller retransmission
        assert len(tun_frame(just, f.server, kind, 0)) == 14 + 1400
        tun_step(c, just, f.server, kind)
        f.cseq = seq
        nodf, _ = f.c2v("PA", bytes(fit + 1 - 40))  # without DF it cannot go either:
        nodf = edit_ip(nodf, df=False)              # outer fragments cannot be decapsulated
        c.drop(nodf, "too-big", frag_needed_from_vip(nodf, f.client, fit), good=True)
    c.count("conns-new", 2)
    return c


# --- ICMP errors quoting a connection -------------------------------------------------------

def make_router():
    """A router on the LAN that reports errors about packets it could not forward."""
    r = Host("198.18.0.254", "02:00:00:00:00:fe")
    r._ip_id = 0x7000  # Host's default (from the last byte) would overflow 16 bits
    return r


def icmp_error(sender, dst, icmp_type, code, quote, rest=0, eth_dst=LB_MAC):
    """An ICMP error as a host or router sends it: TOS 0xc0, TTL 64, no DF."""
    return concrete(Ether(src=sender.mac, dst=eth_dst)
                    / IP(src=sender.ip, dst=dst, tos=0xC0, ttl=64, id=sender.next_id(), proto=1)
                    / Raw(icmp_msg(icmp_type, code, rest, quote)))


def icmp_rewritten(frame, eth_dst, quote, ip_src=None, ip_dst=None):
    """frame (an ICMP error) as the LB forwards it: new Ethernet addresses, outer addresses
    and quote; type, code, the rest of the header, TOS, TTL and id unchanged."""
    p = Ether(frame)
    ip = ip_part(frame)
    icmp_type, code, _, rest = struct.unpack("!BBHI", ip[20:28])
    return concrete(Ether(src=LB_MAC, dst=eth_dst)
                    / IP(src=ip_src or p[IP].src, dst=ip_dst or p[IP].dst, tos=p[IP].tos,
                         ttl=p[IP].ttl, id=p[IP].id, flags=p[IP].flags, proto=1)
                    / Raw(icmp_msg(icmp_type, code, rest, quote)))


def case_icmp_err_nat_reply(C, S):
    rules = (svc_rules("rr", "udp", 53, S[:1], "-m", 5353)
             + svc_rules("rr", "tcp", 80, S[1:2], "-m", 8080))
    router = make_router()
    c = Case("icmp_err_nat_reply", "ICMP errors about packets sent to a NAT real server reach "
             "the client quoting the VIP (port unreachable from it, frag-needed from a router)",
             rules, C + S)
    query = udp_c2v(C[0], 33200, 53, b"query to a closed port")
    to_a = rewrite(query, eth_src=LB_MAC, eth_dst=S[0].mac, ip_dst=S[0].ip, dport=5353)
    c.step(query, to_a)
    unreach = icmp_error(S[0], C[0].ip, 3, 3, ip_part(to_a))
    c.step(unreach, icmp_rewritten(unreach, C[0].mac, ip_part(query), ip_src=VIP))
    f = TcpFlow(C[1], 44100, S[1], 8080, isn=42000)
    syn, syn_out = f.c2v("S")
    c.step(syn, syn_out)
    c.step(*f.s2c("SA"))
    data, data_out = f.c2v("PA", b"x" * 1200)
    c.step(data, data_out)
    # a router between the LB and B: frag-needed to the client, quoting 28 bytes
    big = icmp_error(router, C[1].ip, 3, 4, ip_part(data_out)[:28], rest=1000)
    c.step(big, icmp_rewritten(big, C[1].mac, ip_part(data)[:28]))
    c.count("conns-new", 2)
    return c


def case_icmp_err_client_side(C, S):
    rules = (svc_rules("rr", "tcp", 80, S[:1], "-m", 8080)
             + svc_rules("rr", "tcp", 81, S[1:2], "-g", 81)
             + svc_rules("rr", "tcp", 82, S[2:3], tun_method("ipip"), 82))
    router = make_router()
    c = Case("icmp_err_client_side", "ICMP errors about VIP->client packets go to the real "
             "server: NAT with the quote rewritten, DR unchanged, TUN encapsulated",
             rules, C + S)
    nat = TcpFlow(C[0], 45100, S[0], 8080, isn=43000)
    dr = TcpFlow(C[1], 45101, S[1], 81, vport=81, nat=False, isn=44000)
    tun = TcpFlow(C[2], 45102, S[2], 82, vport=82, nat=False, isn=45000)
    c.step(*nat.c2v("S"))
    synack, synack_out = nat.s2c("SA", b"s" * 600)
    c.step(synack, synack_out)
    c.step(*dr.c2v("S"))
    tun_syn = tun.c2v("S")[0]
    tun_step(c, tun_syn, tun.server, "ipip")
    # NAT, whole quote: the server's own segment comes back to it
    e = icmp_error(router, VIP, 3, 4, ip_part(synack_out), rest=576)
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(synack), ip_dst=S[0].ip))
    # NAT, time exceeded quoting 28 bytes
    e = icmp_error(router, VIP, 11, 0, ip_part(synack_out)[:28])
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(synack)[:28], ip_dst=S[0].ip))
    # DR: the real server sent VIP:81 -> client itself; the error goes to it untouched
    dr_reply = concrete(IP(src=VIP, dst=C[1].ip, id=0x5151, flags="DF")
                        / TCP(sport=81, dport=45101, flags="SA", seq=900000, ack=44001,
                              window=65160) / Raw(b"d" * 600))
    e = icmp_error(router, VIP, 3, 4, dr_reply, rest=1280)
    c.step(e, rewrite(e, eth_src=LB_MAC, eth_dst=S[1].mac))
    # TUN: the error is tunnelled to the real server like the flow's packets
    tun_reply = concrete(IP(src=VIP, dst=C[2].ip, id=0x5252, flags="DF")
                         / TCP(sport=82, dport=45102, flags="SA", seq=900000, ack=45001,
                               window=65160))
    e = icmp_error(router, VIP, 3, 4, tun_reply[:28], rest=1280)
    c.step(e, tun_frame(e, S[2], "ipip", flow_hash_of(tun_syn)))
    c.count("conns-new", 3)
    return c


def case_icmp_err_bad(C, S):
    router = make_router()
    c = Case("icmp_err_bad", "ICMP errors with a short or malformed quote (icmp-quote-bad) "
             "or quoting no connection (icmp-quote-no-conn) are dropped; a good one passes",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    f = TcpFlow(C[0], 46100, S[0], 8080, isn=46000)
    syn, syn_out = f.c2v("S")
    c.step(syn, syn_out)
    synack, synack_out = f.s2c("SA")
    c.step(synack, synack_out)
    quote = ip_part(synack_out)
    c.drop(icmp_error(router, VIP, 3, 4, quote[:27], rest=1280), "icmp-quote-bad", good=True)
    c.drop(icmp_error(router, VIP, 3, 4, quote[:20], rest=1280), "icmp-quote-bad", good=True)
    opts = concrete(IP(src=VIP, dst=C[0].ip, options=[IPOption_NOP()] * 4)
                    / TCP(sport=80, dport=46100, flags="SA"))
    c.drop(icmp_error(router, VIP, 3, 4, opts[:32], rest=1280), "icmp-quote-bad", good=True)
    v6 = bytes([0x60]) + quote[1:28]
    c.drop(icmp_error(router, VIP, 3, 4, v6, rest=1280), "icmp-quote-bad", good=True)
    other = concrete(IP(src=VIP, dst=C[1].ip) / TCP(sport=80, dport=46101, flags="SA"))
    c.drop(icmp_error(router, VIP, 3, 4, other, rest=1280), "icmp-quote-no-conn", good=True)
    wrong_port = concrete(IP(src=VIP, dst=C[0].ip) / TCP(sport=81, dport=46100, flags="SA"))
    c.drop(icmp_error(router, VIP, 3, 4, wrong_port, rest=1280), "icmp-quote-no-conn",
           good=True)
    udp = concrete(IP(src=VIP, dst=C[0].ip) / UDP(sport=80, dport=46100) / Raw(b"udp"))
    c.drop(icmp_error(router, VIP, 3, 3, udp), "icmp-quote-no-conn", good=True)
    echo = concrete(IP(src=VIP, dst=C[0].ip) / ICMP(type=0, id=1, seq=1) / Raw(b"ping"))
    c.drop(icmp_error(router, VIP, 3, 4, echo, rest=1280), "icmp-quote-no-conn", good=True)
    # from the server side, quoting a client -> server packet of no connection
    stray = concrete(IP(src=C[2].ip, dst=S[0].ip) / TCP(sport=46102, dport=8080, flags="S"))
    c.drop(icmp_error(S[0], C[2].ip, 3, 3, stray), "icmp-quote-no-conn", good=True)
    e = icmp_error(router, VIP, 3, 4, quote, rest=1280)
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(synack), ip_dst=S[0].ip))
    c.count("conns-new", 1)
    return c


CASES = [case_tcp_nat, case_udp_nat, case_tcp_dr, case_arp_vip, case_arp_port_addr,
         case_arp_not_ours, case_arp_learn, case_arp_resolve, case_icmp_echo_vip,
         case_icmp_echo_addr, case_no_vip, case_tcp_not_syn, case_wrr, case_malformed,
         case_tun_ipip, case_tun_gue, case_tun_gue_csum, case_tun_src_prefix, case_tun_too_big,
         case_icmp_err_nat_reply, case_icmp_err_client_side, case_icmp_err_bad]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "cases"), help="cases directory")
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)  # a case removed from CASES must not linger
    os.makedirs(args.out)
    for make in CASES:
        clients, servers = make_hosts()  # fresh IP id counters: cases are independent
        make(clients, servers).write(args.out)
    print(f"gen_cases: wrote {len(CASES)} cases to {args.out}")


if __name__ == "__main__":
    main()
