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

from golden_pcap import ipv4_header_csum, verify_checksums, write_pcap  # noqa: E402
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

    def __init__(self, name, description, rules, neighbours):
        self.name, self.description = name, description
        self.rules, self.neighbours = rules, neighbours
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


CASES = [case_tcp_nat, case_udp_nat, case_tcp_dr, case_arp_vip, case_arp_port_addr,
         case_arp_not_ours, case_arp_learn, case_arp_resolve, case_icmp_echo_vip,
         case_icmp_echo_addr, case_no_vip, case_tcp_not_syn, case_wrr, case_malformed]


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
