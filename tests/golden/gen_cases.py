#!/usr/bin/python3
"""Writes every golden pcap case of xvs under tests/golden/cases/ (or --out DIR).

Each case directory gets:
  dataplane.ini  xvs-dataplane config; run_case.sh fills in @TMP@ and @PREFIX@
  rules          xvsadm -R input (ipvsadm syntax)
  in.pcap        frames fed to the dataplane's net_pcap port
  expected.pcap  the frames the dataplane must send, in order, byte for byte
  expect         counters of the dataplane's exit summary ("key value" lines)
  rules.phase2, in.phase2.pcap
                 a case in two phases only: xvsadm -R input run once the first dataplane
                 has consumed in.pcap and exited, and the frames a second dataplane, which
                 takes over the first one's connections, is fed (run_case.sh)

Topology ("one-armed", everything on port p0 198.18.0.1/24, MAC 02:00:00:00:00:01):
  clients       198.18.0.10 .. .18   MAC 02:00:00:00:00:0a .. 12
  VIP           198.18.0.100
  real servers  198.18.0.21 .22 .23  MAC 02:00:00:00:00:15 16 17 (A, B, C);
                their gateway is the LB, so their replies go to the LB's MAC.

IPv6 cases use the same port dual-stack (2001:db8::1/64, VIP 2001:db8::100, clients
2001:db8::10 .. ::18, servers 2001:db8::21 .. ::23 with their IPv4 twins' MACs); see the
IPv6 section below.

Expected frames are built from the spec of the packet path, never from xvs output. The
output is deterministic: fixed addresses, sequence numbers, IP ids and pcap timestamps.
Run it again after changing a case and commit everything it writes.
"""

import argparse
import ipaddress
import os
import shutil
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from flow_hash import (flow_hash, flow_hash6, flow_label, gue_sport, steer_owner4,  # noqa: E402
                       steer_owner4_prefix, tunnel_src)
from golden_pcap import ipv4_header_csum, ones_sum, verify_checksums, write_pcap  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,  # noqa: E402
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN)
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.layers.sctp import (SCTP, SCTPChunkAbort, SCTPChunkCookieAck, SCTPChunkCookieEcho,  # noqa: E402
                               SCTPChunkData, SCTPChunkInit, SCTPChunkInitAck)
from scapy.packet import Raw  # noqa: E402

LB_MAC = "02:00:00:00:00:01"
LB_IP = "198.18.0.1"
VIP6_MARTIAN_ADDR = "2001:db8::100"
VIP6_MARTIAN = "[2001:db8::100]"
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
    """The frame as the LB forwards it: the given fields changed, the TTL one less (as every
    router and IPVS's forwarding methods do) and every checksum recomputed from scratch."""
    p = Ether(frame)
    if eth_src:
        p.src = eth_src
    if eth_dst:
        p.dst = eth_dst
    if IP in p:
        p[IP].ttl -= 1
        if ip_src:
            p[IP].src = ip_src
        if ip_dst:
            p[IP].dst = ip_dst
        del p[IP].chksum
        for l4 in (TCP, UDP, SCTP):
            if l4 in p:
                if sport is not None:
                    p[l4].sport = sport
                if dport is not None:
                    p[l4].dport = dport
                del p[l4].chksum
    return bytes(p)


def dec_ttl(frame):
    """An IPv4 or IPv6 frame with its TTL / hop limit one less (the IPv4 checksum redone), as
    the LB forwards it; Ethernet padding kept."""
    b = bytearray(frame)
    if b[12:14] == b"\x86\xdd":
        b[21] -= 1
        return bytes(b)
    b[22] -= 1
    ihl = (b[14] & 0x0F) * 4
    b[24:26] = b"\x00\x00"
    b[24:26] = struct.pack("!H", ipv4_header_csum(b[14:14 + ihl]))
    return bytes(b)


def fix_ip_csum(frame):
    """Recompute the IPv4 header checksum of a hand-edited frame (20-byte header)."""
    b = bytearray(frame)
    b[24:26] = struct.pack("!H", ipv4_header_csum(b[14:34]))
    return bytes(b)


class Case:
    """One golden case: rules, neighbours, input frames, expected output and counters."""

    def __init__(self, name, description, rules, neighbours, port_opts=(), dp_opts=(),
                 workers=1):
        self.name, self.description = name, description
        self.rules, self.neighbours = rules, neighbours
        self.port_opts = list(port_opts)  # extra "key = value" lines of [port p0]
        self.dp_opts = list(dp_opts)  # extra "key = value" lines of [dataplane]
        # With several workers, p0 has one RX and one TX queue per worker (queue q: in{q}.pcap,
        # out{q}.pcap; queue 0 has no number) and one more TX queue for the main lcore.
        self.workers = workers
        self.q_in = [[] for _ in range(workers)]
        self.q_out = [[] for _ in range(workers + (1 if workers > 1 else 0))]
        self.frames_in, self.frames_out, self.good_in = [], [], []
        self.counters = {}
        self.rules2, self.in2 = None, []  # the second phase (next_phase)

    def next_phase(self, rules):
        """The frames stepped from here on are fed to a second dataplane run (it takes over
        the first one's connections), after `xvsadm -R` of rules has changed the table."""
        assert self.workers == 1 and self.rules2 is None, self.name
        self.rules2 = list(rules)

    def step(self, frame_in, *frames_out, good=True, q_in=0, q_out=0):
        """Feed frame_in on RX queue q_in; the dataplane must send frames_out (in order) on TX
        queue q_out because of it."""
        self.frames_in.append(frame_in)
        self.good_in.append(good)
        self.frames_out.extend(frames_out)
        (self.in2 if self.rules2 is not None else self.q_in[q_in]).append(frame_in)
        self.q_out[q_out].extend(frames_out)

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
        for q, frames in enumerate(self.q_in):
            write_pcap(os.path.join(d, f"in{q or ''}.pcap"), frames)
        for q, frames in enumerate(self.q_out):
            write_pcap(os.path.join(d, f"expected{q or ''}.pcap"), frames)
        if self.rules2 is not None:
            with open(os.path.join(d, "rules.phase2"), "w") as f:
                f.write("".join(line + "\n" for line in self.rules2))
            write_pcap(os.path.join(d, "in.phase2.pcap"), self.in2)


def render_ini(case):
    lines = [
        f"; golden case {case.name}: {case.description}",
        "; written by tests/golden/gen_cases.py; run_case.sh fills in @TMP@ and @PREFIX@",
        "[dataplane]",
        # several workers: every lcore on CPU 0, taking turns (idle_sleep_us in dp_opts)
        "lcores = " + ("0" if case.workers == 1 else
                       ",".join(f"{i}@0" for i in range(case.workers + 1))),
        "file_prefix = @PREFIX@",
        "huge_dir = none",
        "memory = 256",
        "shm = @TMP@/shm",
        "conn_max = 4096",
    ]
    lines += case.dp_opts
    lines += [
        "",
        "[port p0]",
        "dev = net_pcap0,rx_pcap=@TMP@/in.pcap,tx_pcap=@TMP@/out.pcap" if case.workers == 1 else
        # inih reads 200 bytes a line: names relative to the run's directory (run_case.sh)
        "dev = net_pcap0," + ",".join(
            [f"rx_pcap=in{q or ''}.pcap" for q in range(len(case.q_in))]
            + [f"tx_pcap=out{q or ''}.pcap" for q in range(len(case.q_out))]),
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
    # Added last first: IPVS puts a new server at the head of the list, so the service's list
    # (the order rr and wrr walk) is servers[0], servers[1], ...
    for i, s in reversed(list(enumerate(servers))):
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


def case_nat_port_reuse(C, S):
    c = Case("nat_port_reuse", "a client port reused towards another service of the same "
             "server: the server's replies belong to the newest connection",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080) + svc_rules("rr", "tcp", 81, S[:1], "-m", 8080),
             C + S)
    script = [("c", "S", b""), ("s", "SA", b""), ("c", "A", b""),
              ("c", "PA", b"GET / HTTP/1.0\r\n\r\n"),
              ("s", "PA", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
              ("s", "FA", b""), ("c", "FA", b""), ("s", "A", b"")]
    # the first one closes (TIME_WAIT on both); the same client port then goes to port 81, which
    # NAT gives the same tuple at the server: A:8080 <- client:40000
    first = TcpFlow(C[0], 40000, S[0], 8080, vport=80, isn=1000)
    again = TcpFlow(C[0], 40000, S[0], 8080, vport=81, isn=9000)
    for f in (first, again):
        for side, flags, payload in script:
            c.step(*(f.c2v(flags, payload) if side == "c" else f.s2c(flags, payload)))
    c.count("conns-new", 2)
    return c


def sctp_association(c, c2v, to_server, s2c, client, cport, server, tags, cookie, data):
    """An SCTP association's start through NAT: INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK, then a
    DATA chunk from the client. tags: (the client's, the server's) verification tags; c2v,
    to_server and s2c build the frames of the case's family."""
    ctag, stag = tags
    f = c2v(client, cport, 0, SCTPChunkInit(init_tag=ctag, a_rwnd=65535, n_out_streams=1,
                                            n_in_streams=1, init_tsn=100))
    c.step(f, to_server(f, server))
    c.step(*s2c(server, client, cport, ctag,
                SCTPChunkInitAck(init_tag=stag, a_rwnd=65535, n_out_streams=1,
                                 n_in_streams=1, init_tsn=500)))
    f = c2v(client, cport, stag, SCTPChunkCookieEcho(cookie=cookie))
    c.step(f, to_server(f, server))
    c.step(*s2c(server, client, cport, ctag, SCTPChunkCookieAck()))
    f = c2v(client, cport, stag, SCTPChunkData(tsn=100, stream_id=0, stream_seq=0,
                                                proto_id=0, data=data))
    c.step(f, to_server(f, server))


def case_sctp_nat(C, S):
    c = Case("sctp_nat", "SCTP through NAT: INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK and DATA "
             "with the CRC32c redone, rr over A B; no association: sctp-not-init; bad CRC: l4-bad-csum",
             [f"-A --sctp-service {VIP}:3868 -s rr"]
             + [f"-a --sctp-service {VIP}:3868 -r {s.ip}:3869 -m -w 1" for s in reversed(S[:2])],
             C + S)

    def c2v(client, cport, tag, chunk):
        frame = concrete(Ether(src=client.mac, dst=LB_MAC)
                         / IP(src=client.ip, dst=VIP, ttl=64, id=client.next_id(), flags="DF")
                         / SCTP(sport=cport, dport=3868, tag=tag) / chunk)
        return frame

    def to_server(frame, server):
        return rewrite(frame, eth_src=LB_MAC, eth_dst=server.mac, ip_dst=server.ip, dport=3869)

    def s2c(server, client, cport, tag, chunk):
        frame = concrete(Ether(src=server.mac, dst=LB_MAC)
                         / IP(src=server.ip, dst=client.ip, ttl=64, id=server.next_id(), flags="DF")
                         / SCTP(sport=3869, dport=cport, tag=tag) / chunk)
        return frame, rewrite(frame, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP, sport=3868)

    for client, cport, server, ctag, stag in [(C[0], 36000, S[0], 0x1111, 0x2222),
                                              (C[1], 36001, S[1], 0x3333, 0x4444)]:
        sctp_association(c, c2v, to_server, s2c, client, cport, server, (ctag, stag),
                         b"cookie-%d" % cport, b"hello over sctp")
    stray = c2v(C[2], 36002, 0x5555, SCTPChunkData(tsn=1, data=b"no association"))
    c.drop(stray, "sctp-not-init", good=True)
    # a DATA of the first association with a corrupted CRC32c: NAT would give it a fresh one
    bad = bytearray(c2v(C[0], 36000, 0x2222, SCTPChunkData(tsn=101, stream_id=0, stream_seq=1,
                                                             proto_id=0, data=b"corrupted")))
    bad[14 + 20 + 8] ^= 0x01
    c.drop(bytes(bad), "l4-bad-csum")
    c.count("conns-new", 2)
    return c


def case_udp_ops(C, S):
    c = Case("udp_ops", "-o (one-packet scheduling): every UDP datagram of one flow is scheduled "
             "on its own; nothing is kept, so a NAT reply finds no connection",
             [f"-A -u {VIP}:53 -s rr -o"] + [f"-a -u {VIP}:53 -r {s.ip}:5353 -m -w 1"
                                              for s in reversed(S)], C + S)
    for i, server in enumerate("ABCA"):
        frame = udp_c2v(C[0], 34000, 53, b"query-%d" % i)
        srv = S["ABC".index(server)]
        c.step(frame, rewrite(frame, eth_src=LB_MAC, eth_dst=srv.mac, ip_dst=srv.ip, dport=5353))
    reply = concrete(Ether(src=S[0].mac, dst=LB_MAC)
                     / IP(src=S[0].ip, dst=C[0].ip, ttl=64, id=S[0].next_id())
                     / UDP(sport=5353, dport=34000) / Raw(b"answer"))
    c.drop(reply, "no-vip", good=True)
    c.count("conns-new", 4)
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


def case_arp_bad_sender(C, S):
    newcomer = Host("198.18.0.31", "02:00:00:00:00:1f")  # no static neighbour entry
    c = Case("arp_bad_sender", "ARP from a zero, broadcast or multicast sender MAC is "
             "arp-malformed and never learned: the reply to that client asks ARP afresh",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    for mac in (ZERO_MAC, BCAST_MAC, "01:00:5e:00:00:01"):
        c.drop(concrete(Ether(src=newcomer.mac, dst=BCAST_MAC)
                        / ARP(op=1, hwsrc=mac, psrc=newcomer.ip, hwdst=ZERO_MAC, pdst=VIP)),
               "arp-malformed", good=True)
    c.drop(concrete(Ether(src=newcomer.mac, dst=LB_MAC)        # an unsolicited "reply"
                    / ARP(op=2, hwsrc=ZERO_MAC, psrc=newcomer.ip, hwdst=LB_MAC, pdst=LB_IP)),
           "arp-malformed", good=True)
    f = TcpFlow(newcomer, 43100, S[0], 8080, isn=8100)
    c.step(*f.c2v("S"))
    who_has = concrete(Ether(src=LB_MAC, dst=BCAST_MAC)
                       / ARP(op=1, hwsrc=LB_MAC, psrc=LB_IP, hwdst=ZERO_MAC, pdst=newcomer.ip))
    syn_ack, _ = f.s2c("SA")
    c.step(syn_ack, who_has)  # held until the client's MAC is known: nothing to 00:00:00:00:00:00
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


def case_martian_src(C, S):
    c = Case("martian_src", "sources of ours (VIP, port address: land) or the subnet broadcast "
             "are martian-src; the same frames from a client pass", svc_rules("rr", "tcp", 80,
             S[:1], "-m", 8080) + [f"-A -t {VIP6_MARTIAN}:80 -s rr",
             f"-a -t {VIP6_MARTIAN}:80 -r {S[0].ip}:8080 -i"], C + S,
             port_opts=["addr = 2001:db8::1/64"])

    def spoofed(src, cport, dst=VIP, proto=TCP):
        l4 = TCP(sport=cport, dport=80, flags="S", seq=7000, window=64240) if proto is TCP \
            else ICMP(type=8, id=7, seq=1) / Raw(b"land")
        return concrete(Ether(src=C[0].mac, dst=LB_MAC)
                        / IP(src=src, dst=dst, ttl=64, id=C[0].next_id(), flags="DF") / l4)
    c.drop(spoofed(VIP, 80), "martian-src", good=True)             # land: VIP to itself
    c.drop(spoofed(LB_IP, 46001), "martian-src", good=True)         # the port's address
    c.drop(spoofed("198.18.0.255", 46002), "martian-src", good=True)  # the subnet's broadcast
    c.drop(spoofed(VIP, 0, proto=ICMP), "martian-src", good=True)   # echo to the VIP from it
    c.drop(spoofed(LB_IP, 0, dst=LB_IP, proto=ICMP), "martian-src", good=True)
    c.drop(concrete(Ether(src=C[0].mac, dst=LB_MAC)                 # IPv6 land to the VIP
                    / IPv6(src=VIP6_MARTIAN_ADDR, dst=VIP6_MARTIAN_ADDR, hlim=64)
                    / TCP(sport=80, dport=80, flags="S", seq=1, window=64240)),
           "martian-src", good=True)
    c.drop(concrete(Ether(src=C[0].mac, dst=LB_MAC)                 # from the port's IPv6
                    / IPv6(src="2001:db8::1", dst=VIP6_MARTIAN_ADDR, hlim=64)
                    / TCP(sport=46003, dport=80, flags="S", seq=1, window=64240)),
           "martian-src", good=True)
    f = TcpFlow(C[1], 46004, S[0], 8080, isn=12000)                # an honest client passes
    c.step(*f.c2v("S"))
    c.count("conns-new", 1)
    return c


def case_frame_hygiene(C, S):
    c = Case("frame_hygiene", "Ethernet padding after a NATed datagram is not sent on (both ways); "
             "a UDP length short of the IP payload is udp-bad-len",
             svc_rules("rr", "udp", 53, S[:1], "-m", 5353)
             + svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    pad = b"\x00" * 40
    q = udp_c2v(C[0], 47000, 53, b"q")  # 43 bytes: a NIC pads it to 60 or more
    c.step(q + pad, rewrite(q, eth_src=LB_MAC, eth_dst=S[0].mac, ip_dst=S[0].ip, dport=5353))
    a = concrete(Ether(src=S[0].mac, dst=LB_MAC)
                 / IP(src=S[0].ip, dst=C[0].ip, ttl=64, id=S[0].next_id())
                 / UDP(sport=5353, dport=47000) / Raw(b"a"))
    c.step(a + b"\xee" * 17, rewrite(a, eth_src=LB_MAC, eth_dst=C[0].mac, ip_src=VIP, sport=53))
    f = TcpFlow(C[1], 47001, S[0], 8080, isn=13000)
    syn, out = f.c2v("S")
    c.step(syn + b"\x00" * 6, out)  # 54 bytes padded to 60
    short = concrete(Ether(src=C[2].mac, dst=LB_MAC)
                     / IP(src=C[2].ip, dst=VIP, ttl=64, id=C[2].next_id())
                     / UDP(sport=47002, dport=53, len=9) / Raw(b"abcd"))
    c.drop(short, "udp-bad-len", good=False)
    c.count("conns-new", 2)
    return c


def time_exceeded(frame, sender, src):
    """The LB's ICMP "time exceeded in transit" to sender for a frame whose TTL ran out: from
    src (the VIP it was sent to, else the port's address), TOS 0xc0, TTL 64, id 0, DF clear,
    quoting the packet as it came, up to 576 bytes in all."""
    quote = ip_part(frame)[:576 - 28]
    return concrete(Ether(src=LB_MAC, dst=sender.mac)
                    / IP(src=src, dst=sender.ip, tos=0xC0, id=0, flags=0, ttl=64, proto=1)
                    / Raw(icmp_msg(11, 0, 0, quote)))


def with_ttl(frame, ttl):
    """An IPv4 frame with another TTL (the header checksum redone)."""
    b = bytearray(frame)
    b[22] = ttl
    return fix_ip_csum(b)


def case_ttl_expiry(C, S):
    C6, S6 = make_hosts6()
    rules = (svc_rules("rr", "tcp", 80, S[:1], "-m", 8080)
             + svc_rules("rr", "udp", 53, S[1:2], "-g", 53)
             + svc_rules6("rr", "tcp", 80, S6[2:3], "-m", 8080))
    c = Case("ttl_expiry", "TTL / hop limit 1 or 0: dropped, time exceeded to the sender (from "
             "the VIP or the port), 6 per sender at once; 2 leaves with 1; ICMP errors get none",
             rules, C + S + C6 + S6, port_opts=[PORT6])
    f = TcpFlow(C[0], 51000, S[0], 8080, isn=51000)
    syn, _ = f.c2v("S")
    syn = with_ttl(syn, 2)                                   # leaves with TTL 1
    c.step(syn, rewrite(syn, eth_src=LB_MAC, eth_dst=S[0].mac, ip_dst=S[0].ip, dport=8080))
    sa, _ = f.s2c("SA")
    sa = with_ttl(sa, 1)                                     # the server's reply runs out:
    c.drop(sa, "ttl-exceeded", time_exceeded(sa, S[0], LB_IP), good=True)  # from the port
    for client, ttl in ((C[1], 1), (C[2], 0)):
        g = TcpFlow(client, 51001, S[0], 8080, isn=52000)
        late = with_ttl(g.c2v("S", b"")[0], ttl)
        c.drop(late, "ttl-exceeded", time_exceeded(late, client, VIP), good=True)
    # DR: the same rule (IPVS decrements for every method); a UDP datagram of 600 bytes is
    # quoted up to 576 bytes in all
    q = with_ttl(udp_c2v(C[3], 51002, 53, b"d" * 572), 1)
    c.drop(q, "ttl-exceeded", time_exceeded(q, C[3], VIP), good=True)
    # one sender, eight more: five more errors (six at once per sender), then none
    for i in range(8):
        h = TcpFlow(C[4], 51010 + i, S[0], 8080, isn=53000 + i)
        late = with_ttl(h.c2v("S")[0], 1)
        if i < 6:
            c.drop(late, "ttl-exceeded", time_exceeded(late, C[4], VIP), good=True)
        else:
            c.drop(late, "ttl-exceeded", good=True)
    # an ICMP error about flow f whose TTL runs out here: dropped, no error about an error
    e = icmp_error(S[0], C[0].ip, 3, 3, ip_part(rewrite(syn, ip_dst=S[0].ip, dport=8080)))
    c.drop(with_ttl(e, 1), "ttl-exceeded", good=True)
    # IPv6: hop limit 1 to the VIP, time exceeded (code 0) from the VIP
    f6 = TcpFlow6(C6[5], 51020, S6[2], 8080, isn=54000)
    syn6 = bytearray(f6.c2v("S")[0])
    syn6[21] = 1
    syn6 = bytes(syn6)
    c.drop(syn6, "ttl-exceeded", icmp6_frame(LB_MAC, C6[5].mac, VIP6, C6[5].ip,
                                             icmp6_msg(VIP6, C6[5].ip, 3, 0, 0,
                                                       ip6_part(syn6)[:IP6_QUOTE_MAX])),
           good=True)
    c.count("conns-new", 1 + 2 + 1 + 8 + 1)
    return c


def case_hostile_drops(C, S):
    C6, S6 = make_hosts6()
    rules = ([f"-A -t {VIP}:81 -s rr", f"-a -t {VIP}:81 -r {S[0].ip}:81 -m -w 0",
              f"-A -t {VIP}:82 -s rr", f"-a -t {VIP}:82 -r 10.200.0.1:82 -m"]
             + svc_rules6("rr", "udp", 53, S6[:1], "-m", 5353))
    c = Case("hostile_drops", "a service whose only server has weight 0 is no-dest; a server "
             "no route reaches is no-route; IPv6 UDP without a checksum is udp6-no-csum (with one: NAT)",
             rules, C + S + C6 + S6, port_opts=[PORT6])
    f = TcpFlow(C[0], 52000, S[0], 81, vport=81, isn=61000)
    c.drop(f.c2v("S")[0], "no-dest", good=True)
    for client in C[1:3]:  # each connection is made, its packet has no way
        g = TcpFlow(client, 52001, S[0], 82, vport=82, isn=62000)
        c.drop(g.c2v("S")[0], "no-route", good=True)
    c.count("conns-new", 2)
    u = bytearray(udp6_c2v(C6[2], 52002, 53, b"no checksum"))
    u[14 + 40 + 6:14 + 40 + 8] = b"\x00\x00"
    c.drop(bytes(u), "udp6-no-csum", good=False)
    q = udp6_c2v(C6[3], 52003, 53, b"with a checksum")  # the same query, checksummed, goes
    c.step(q, rewrite6(q, eth_src=LB_MAC, eth_dst=S6[0].mac, ip_dst=S6[0].ip, dport=5353))
    c.count("conns-new", 1)
    return c


def case_table_full(C, S):
    c = Case("table_full", "conn_max 16: sixteen UDP flows answered (established) fill the "
             "table; a seventeenth is conn-table-full, nothing evicted", svc_rules("rr", "udp", 53,
             S[:1], "-m", 5353), C + S, dp_opts=["conn_max = 16"])
    for i in range(17):
        client = C[i % len(C)]
        q = udp_c2v(client, 53000 + i, 53, b"q%02d" % i)
        if i == 16:
            c.drop(q, "conn-table-full", good=True)
            break
        c.step(q, rewrite(q, eth_src=LB_MAC, eth_dst=S[0].mac, ip_dst=S[0].ip, dport=5353))
        a = concrete(Ether(src=S[0].mac, dst=LB_MAC)
                     / IP(src=S[0].ip, dst=client.ip, ttl=64, id=S[0].next_id())
                     / UDP(sport=5353, dport=53000 + i) / Raw(b"a%02d" % i))
        c.step(a, rewrite(a, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP, sport=53))
    c.count("conns-new", 16)
    return c


def case_dest_removed(C, S):
    c = Case("dest_removed", "A deleted between two dataplane runs: its connection's packets, "
             "both ways, are dest-removed; B's goes on; a new client gets B",
             svc_rules("rr", "tcp", 80, S[:2], "-m", 8080), C + S)
    a = TcpFlow(C[0], 54000, S[0], 8080, isn=21000)
    b = TcpFlow(C[1], 54001, S[1], 8080, isn=22000)
    c.step(*a.c2v("S"))
    c.step(*b.c2v("S"))
    c.step(*a.s2c("SA"))
    c.step(*b.s2c("SA"))
    # A leaves the service; its connection stays in the table (IPVS: expire_nodest_conn = 0)
    c.next_phase([f"-d -t {VIP}:80 -r {S[0].ip}:8080"])
    c.drop(a.c2v("A")[0], "dest-removed", good=True)
    c.drop(a.c2v("PA", b"GET / HTTP/1.0\r\n\r\n")[0], "dest-removed", good=True)
    c.drop(a.s2c("PA", b"HTTP/1.0 200 OK\r\n\r\n")[0], "dest-removed", good=True)
    c.step(*b.c2v("A"))
    c.step(*b.s2c("PA", b"B still serves"))
    d = TcpFlow(C[2], 54002, S[1], 8080, isn=23000)
    c.step(*d.c2v("S"))  # the only server left
    c.count("conns-new", 3)
    return c


def case_dest_removed_expire(C, S):
    c = Case("dest_removed_expire", "expire_nodest_conn = yes: the first packet of a deleted "
             "server's connection is dest-removed and ends it; the client's new SYN gets B",
             svc_rules("rr", "tcp", 80, S[:2], "-m", 8080), C + S,
             dp_opts=["expire_nodest_conn = yes"])
    a = TcpFlow(C[0], 54100, S[0], 8080, isn=24000)
    c.step(*a.c2v("S"))
    c.step(*a.s2c("SA"))
    c.next_phase([f"-d -t {VIP}:80 -r {S[0].ip}:8080"])
    c.drop(a.c2v("A")[0], "dest-removed", good=True)
    # the connection is gone: the client's next segment is no SYN, then it starts over
    c.drop(a.c2v("PA", b"GET / HTTP/1.0\r\n\r\n")[0], "tcp-not-syn", good=True)
    again = TcpFlow(C[0], 54100, S[1], 8080, isn=25000)
    c.step(*again.c2v("S"))
    c.step(*again.s2c("SA"))
    c.count("conns-new", 2)
    return c


def case_neigh_unresolved(C, S):
    c = Case("neigh_unresolved", "A is no static neighbour: 32 SYNs wait for its ARP reply (the "
             "hold queue's room), the 33rd is neigh-unresolved; the reply releases the 32",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S[1:])
    who_has = concrete(Ether(src=LB_MAC, dst=BCAST_MAC)
                       / ARP(op=1, hwsrc=LB_MAC, psrc=LB_IP, hwdst=ZERO_MAC, pdst=S[0].ip))
    held = []
    for i in range(33):
        f = TcpFlow(C[i % len(C)], 55000 + i, S[0], 8080, isn=30000 + i)
        syn, syn_out = f.c2v("S")
        if i == 32:
            c.drop(syn, "neigh-unresolved", good=True)  # the hold queue is full
        else:
            c.step(syn, *([who_has] if i == 0 else []))  # the first one asks, once
            held.append(syn_out)
    c.step(concrete(Ether(src=S[0].mac, dst=LB_MAC)
                    / ARP(op=2, hwsrc=S[0].mac, psrc=S[0].ip, hwdst=LB_MAC, pdst=LB_IP)),
           *held)  # in the order they came
    c.count("conns-new", 33)
    return c


def arp_frame(op, eth_src, eth_dst, sha, spa, tha, tpa):
    """An Ethernet ARP frame (42 bytes) packed by hand: for the thousands of frames of
    neigh_table_full, which scapy would take a long while to build."""
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    return (mac(eth_dst) + mac(eth_src) + struct.pack("!HHHBBH", 0x0806, 1, 0x0800, 6, 4, op)
            + mac(sha) + socket.inet_aton(spa) + mac(tha) + socket.inet_aton(tpa))


def case_neigh_table_full(C, S):
    c = Case("neigh_table_full", "8193 on-link senders ARP for the VIP: all answered, 8192 "
             "learned (a quarter of the table), the last one not: neigh-table-full",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S,
             port_opts=["addr = 10.1.0.1/16"])
    for i in range(8193):
        sender = Host("10.1.%d.%d" % (1 + i // 250, 1 + i % 250),
                      "02:00:0a:01:%02x:%02x" % (i >> 8, i & 0xff))
        req = arp_frame(1, sender.mac, BCAST_MAC, sender.mac, sender.ip, ZERO_MAC, VIP)
        rep = arp_frame(2, LB_MAC, sender.mac, LB_MAC, VIP, sender.mac, sender.ip)
        if i == 0:  # the same bytes as scapy's
            assert (req, rep) == (arp_request(sender, VIP), arp_reply_from_lb(sender, VIP))
        if i == 8192:
            c.drop(req, "neigh-table-full", rep, good=True)
        else:
            c.step(req, rep)
    c.count("arp-replies", 8193)
    return c


def case_tcp_not_syn(C, S):
    c = Case("tcp_not_syn", "TCP without a connection and without SYN (or with RST) is dropped; "
             "SYN+ACK schedules one, as IPVS does", svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S)
    for flags in ("A", "R", "FA", "PA", "SR"):
        c.drop(tcp_syn(C[0], 46000, flags=flags, seq=12000), "tcp-not-syn", good=True)
    f = TcpFlow(C[0], 46000, S[0], 8080, isn=12000)
    c.step(*f.c2v("S"))
    c.step(*f.s2c("SA"))
    c.step(*f.c2v("A"))
    # IPVS schedules on SYN+ACK too (no ACK check, for active FTP)
    g = TcpFlow(C[0], 46001, S[0], 8080, isn=13000)
    c.step(*g.c2v("SA"))
    c.count("conns-new", 2)
    return c


def case_tcp_sloppy(C, S):
    c = Case("tcp_sloppy", "sloppy_tcp = yes: an ACK with no connection schedules one; RST never does",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S, dp_opts=["sloppy_tcp = yes"])
    c.drop(tcp_syn(C[0], 46100, flags="R", seq=14000), "tcp-not-syn", good=True)
    f = TcpFlow(C[0], 46101, S[0], 8080, isn=14100)
    c.step(*f.c2v("PA"))
    c.step(*f.s2c("A"))
    c.count("conns-new", 1)
    return c


def case_mh_midflow(C, S):
    c = Case("mh_midflow", "a TCP segment of a flow first seen mid-stream is scheduled by mh and sh "
             "for DR and TUN servers; not by rr, not for NAT, never a RST",
             svc_rules("mh", "tcp", 80, S[:1], "-g", 80)
             + svc_rules("sh", "tcp", 83, S[1:2], tun_method("ipip"), 83)
             + svc_rules("mh", "tcp", 81, S[:1], "-m", 8081)
             + svc_rules("rr", "tcp", 82, S[:1], "-g", 82), C + S)
    # a flow ECMP moved here: its ACKs and data go on to the server mh picks, as a new entry
    a = TcpFlow(C[0], 47000, S[0], 80, nat=False, isn=40000)
    a.sseq = 900001
    c.step(*a.c2v("A"))
    c.step(*a.c2v("PA", b"more of a download already under way"))
    # the same through an IPIP tunnel with sh
    b = TcpFlow(C[1], 47001, S[1], 83, vport=83, nat=False, isn=41000)
    b.sseq = 900001
    tun_step(c, b.c2v("PA", b"mid-stream")[0], S[1], "ipip")
    tun_step(c, b.c2v("FA")[0], S[1], "ipip")
    c.drop(tcp_syn(C[2], 47002, flags="R", seq=42000), "tcp-not-syn", good=True)
    c.drop(tcp_syn(C[2], 47003, dport=81, flags="A", seq=42100), "tcp-not-syn", good=True)
    c.drop(tcp_syn(C[2], 47004, dport=82, flags="PA", seq=42200), "tcp-not-syn", good=True)
    c.count("conns-new", 2)
    c.count("conns-midflow", 2)
    return c


def case_mh_midflow_off(C, S):
    c = Case("mh_midflow_off", "consistent_midflow = no: mh drops a TCP segment without a "
             "connection and without SYN, as IPVS does; a SYN still schedules",
             svc_rules("mh", "tcp", 80, S[:1], "-g", 80), C + S,
             dp_opts=["consistent_midflow = no"])
    c.drop(tcp_syn(C[0], 47100, flags="A", seq=43000), "tcp-not-syn", good=True)
    c.drop(tcp_syn(C[0], 47101, flags="PA", seq=43100), "tcp-not-syn", good=True)
    f = TcpFlow(C[0], 47102, S[0], 80, nat=False, isn=43200)
    c.step(*f.c2v("S"))
    c.count("conns-new", 1)
    return c


def persist_rules(sched, vport, servers, rport, opts):
    """A persistent NAT service on the VIP (ipvsadm -R lines); the servers are added last
    first, so that IPVS's order (newest at the head) lists them as given."""
    rules = [f"-A -t {VIP}:{vport} -s {sched} {opts}"]
    rules += [f"-a -t {VIP}:{vport} -r {s.ip}:{rport} -m -w 1" for s in reversed(servers)]
    return rules


def case_persist(C, S):
    c = Case("persist", "-p 360: every connection of a client goes to the server of its first one "
             "(rr moves on only for new clients)", persist_rules("rr", 80, S, 8080, "-p 360"), C + S)
    # client -> server letter, in arrival order; rr picks A, B, C for the first three clients
    plan = [(0, "A"), (1, "B"), (0, "A"), (2, "C"), (1, "B"), (0, "A"), (3, "A")]
    for i, (cl, server) in enumerate(plan):
        f = TcpFlow(C[cl], 43000 + i, S["ABC".index(server)], 8080, isn=30000 + i)
        c.step(*f.c2v("S"))
        c.step(*f.s2c("SA"))
    c.count("conns-new", len(plan))
    return c


def case_persist_mask(C, S):
    c = Case("persist_mask", "-p -M 255.255.255.252: clients in one /30 share a server; "
             "-M 255.255.255.1 (not contiguous) groups by the last bit",
             persist_rules("rr", 80, S, 8080, "-p 360 -M 255.255.255.252")
             + persist_rules("rr", 81, S, 8080, "-p 360 -M 255.255.255.1"), C + S)
    # .10 and .11 share 198.18.0.8/30, .12 and .13 share .12/30, .16 is alone
    for i, (cl, server) in enumerate([(0, "A"), (1, "A"), (2, "B"), (3, "B"), (6, "C"), (0, "A")]):
        f = TcpFlow(C[cl], 44000 + i, S["ABC".index(server)], 8080, isn=31000 + i)
        c.step(*f.c2v("S"))
    # mask .1: even last octets (.10, .12, .14) are one group, odd ones (.11, .13) another
    for i, (cl, server) in enumerate([(0, "A"), (2, "A"), (1, "B"), (4, "A"), (3, "B")]):
        f = TcpFlow(C[cl], 44100 + i, S["ABC".index(server)], 8080, vport=81, isn=31100 + i)
        c.step(*f.c2v("S"))
    c.count("conns-new", 11)
    return c


def case_persist_port0(C, S):
    c = Case("persist_port0", "a port-0 persistent service takes every port; real servers on "
             "port 0 keep the packet's port; one template per client covers all ports",
             persist_rules("rr", 0, S[:2], 0, "-p 600"), C + S)
    for i, (cl, port, server) in enumerate([(0, 80, "A"), (0, 443, "A"), (1, 443, "B"),
                                            (0, 8443, "A"), (1, 22, "B")]):
        f = TcpFlow(C[cl], 45000 + i, S["ABC".index(server)], port, vport=port, isn=32000 + i)
        c.step(*f.c2v("S"))
        c.step(*f.s2c("SA"))
    c.count("conns-new", 5)
    return c


def case_fwmark(C, S):
    """Mark rules (xvsadm --add-mark) select firewall-mark services; a proto/addr/port service
    takes its packets first; a fwmark service's template (IP, client, mark) serves TCP and UDP."""
    A, B, Cs = S
    rules = [f"-A -f 1 -s rr -p 600"]
    rules += [f"-a -f 1 -r {s.ip} -m -w 1" for s in (B, A)]          # list: A, B
    rules += ["-A -f 2 -s rr", f"-a -f 2 -r {Cs.ip}:8080 -m -w 1",
              f"-A -t {VIP}:81 -s rr", f"-a -t {VIP}:81 -r {Cs.ip}:8081 -m -w 1",
              f"--add-mark --proto tcp --dst {VIP}/32 --dport 80:81 --mark 1",
              f"--add-mark --proto udp --dst {VIP} --dport 53 --mark 1",
              f"--add-mark --proto tcp --dst 198.18.0.96/29 --dport 8000:8999 --mark 2",
              f"--add-mark --dst {VIP}/32 --dport 9000 --mark 3"]       # mark 3: no service
    c = Case("fwmark", "mark rules pick fwmark services (NAT; TCP and UDP share the -p template); "
             "a -t service wins over a rule; no rule or no service: no-vip", rules, C + S)

    def udp(client, cport, server, vport, payload):
        frame = udp_c2v(client, cport, vport, payload)
        c.step(frame, rewrite(frame, eth_src=LB_MAC, eth_dst=server.mac, ip_dst=server.ip))
        reply = concrete(Ether(src=server.mac, dst=LB_MAC)
                         / IP(src=server.ip, dst=client.ip, ttl=64, id=server.next_id())
                         / UDP(sport=vport, dport=cport) / Raw(b"re:" + payload))
        c.step(reply, rewrite(reply, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP))

    def tcp(client, cport, server, rport, vport, isn):
        f = TcpFlow(client, cport, server, rport, vport=vport, isn=isn)
        c.step(*f.c2v("S"))
        c.step(*f.s2c("SA"))

    tcp(C[0], 50000, A, 80, 80, 50000)       # mark 1, new client: rr picks A; port 0 keeps 80
    udp(C[0], 50001, A, 53, b"q0")           # mark 1 by the UDP rule: the same template, A
    tcp(C[1], 50003, B, 80, 80, 50003)       # a new client: B
    udp(C[1], 50004, B, 53, b"q1")           # its template: B
    tcp(C[0], 50005, Cs, 8081, 81, 50005)    # port 81: the -t service, before any mark rule
    tcp(C[2], 50006, Cs, 8080, 8443, 50006)  # mark 2 through a /29 rule: C, port 8080
    c.drop(tcp_syn(C[2], 50007, dport=82), "no-vip", good=True)      # no rule for tcp 82
    c.drop(udp_c2v(C[3], 50008, 80, b"udp80"), "no-vip", good=True)  # rule 1 is tcp only
    c.drop(tcp_syn(C[3], 50009, dport=9000), "no-vip", good=True)    # mark 3 has no service
    tcp(C[0], 50010, A, 80, 80, 50010)       # the template still leads to A
    c.count("conns-new", 7)
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
    inner TOS and DF bit, the inner TTL (one less, inside and out), id 0. "ipip": protocol 4.
    "gue": UDP from gue_sport(h) to GUE_PORT (checksum 0 unless csum) and a 4-byte GUE header
    (variant 0, protocol 4)."""
    inner = ip_part(dec_ttl(frame))
    outer = IP(src=src, dst=server.ip, tos=inner[1], id=0, ttl=inner[8],
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
    from the VIP, TOS 0xc0, TTL 64, id 0, DF clear, quoting the IP header (its TTL already
    one less) and 8 bytes."""
    quote = ip_part(dec_ttl(frame))[:28]
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
    and quote; type, code, the rest of the header, TOS and id unchanged, TTL one less."""
    p = Ether(frame)
    ip = ip_part(frame)
    icmp_type, code, _, rest = struct.unpack("!BBHI", ip[20:28])
    return concrete(Ether(src=LB_MAC, dst=eth_dst)
                    / IP(src=ip_src or p[IP].src, dst=ip_dst or p[IP].dst, tos=p[IP].tos,
                         ttl=p[IP].ttl - 1, id=p[IP].id, flags=p[IP].flags, proto=1)
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
    c.step(unreach, icmp_rewritten(unreach, C[0].mac, ip_part(dec_ttl(query)), ip_src=VIP))
    f = TcpFlow(C[1], 44100, S[1], 8080, isn=42000)
    syn, syn_out = f.c2v("S")
    c.step(syn, syn_out)
    c.step(*f.s2c("SA"))
    data, data_out = f.c2v("PA", b"x" * 1200)
    c.step(data, data_out)
    # a router between the LB and B: frag-needed to the client, quoting 28 bytes
    big = icmp_error(router, C[1].ip, 3, 4, ip_part(data_out)[:28], rest=1000)
    c.step(big, icmp_rewritten(big, C[1].mac, ip_part(dec_ttl(data))[:28]))
    c.count("conns-new", 2)
    return c


def case_icmp_err_relay(C, S):
    rules = svc_rules("rr", "udp", 53, S[:1], "-m", 5353)
    router = make_router()
    c = Case("icmp_err_relay", "an ICMP error quoting a connection but addressed elsewhere is "
             "dropped: xvs relays errors only to the party the quote names",
             rules, C + S)
    query = udp_c2v(C[0], 33300, 53, b"query")
    to_a = rewrite(query, eth_src=LB_MAC, eth_dst=S[0].mac, ip_dst=S[0].ip, dport=5353)
    c.step(query, to_a)
    # from the real server, quoting what it got from us, but sent to another host (C[1])
    stray = icmp_error(S[0], C[1].ip, 3, 3, ip_part(to_a) + bytes(300))
    c.drop(stray, "icmp-quote-bad", good=True)
    # from a router, quoting VIP -> client, but sent to a port address instead of the VIP
    reply = concrete(Ether(src=S[0].mac, dst=LB_MAC)
                     / IP(src=S[0].ip, dst=C[0].ip, ttl=64, id=S[0].next_id())
                     / UDP(sport=5353, dport=33300) / Raw(b"answer"))
    back = rewrite(reply, eth_src=LB_MAC, eth_dst=C[0].mac, ip_src=VIP, sport=53)
    c.step(reply, back)
    wrong = icmp_error(router, LB_IP, 3, 4, ip_part(back), rest=1000)
    c.drop(wrong, "icmp-quote-bad", good=True)
    # the genuine error still goes through
    unreach = icmp_error(S[0], C[0].ip, 3, 3, ip_part(to_a))
    c.step(unreach, icmp_rewritten(unreach, C[0].mac, ip_part(dec_ttl(query)), ip_src=VIP))
    c.count("conns-new", 1)
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
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(dec_ttl(synack)), ip_dst=S[0].ip))
    # NAT, time exceeded quoting 28 bytes
    e = icmp_error(router, VIP, 11, 0, ip_part(synack_out)[:28])
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(dec_ttl(synack))[:28], ip_dst=S[0].ip))
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
    c.step(e, icmp_rewritten(e, S[0].mac, ip_part(dec_ttl(synack)), ip_dst=S[0].ip))
    c.count("conns-new", 1)
    return c


# --- IPv6 -----------------------------------------------------------------------------------
#
# The same one-armed topology, dual-stack: the port also owns 2001:db8::1/64, the VIP is
# 2001:db8::100, clients 2001:db8::10 .. ::18 and real servers A/B/C 2001:db8::21 .. ::23
# with the MACs of their IPv4 twins, and 2001:db8::fe a router. IPv4 stays where a case mixes
# families (4in6, 6in4).

LB6 = "2001:db8::1"
VIP6 = "2001:db8::100"
NOBODY6 = "2001:db8::200"
PORT6 = f"addr = {LB6}/64"
ALL_NODES = "ff02::1"
ALL_NODES_MAC = "33:33:00:00:00:01"
IP6_QUOTE_MAX = 1280 - 40 - 8  # an ICMPv6 error quotes at most this much (RFC 4443 2.4 c)


class Host6(Host):
    """An IPv6 client or real server (IPv6 has no IP id)."""

    def __init__(self, ip, mac):  # pylint: disable=super-init-not-called
        self.ip, self.mac, self._ip_id = ip, mac, 0


def make_hosts6():
    clients = [Host6(f"2001:db8::{10 + i}", "02:00:00:00:00:%02x" % (0x0A + i)) for i in range(9)]
    servers = [Host6(f"2001:db8::{21 + i}", "02:00:00:00:00:%02x" % (0x15 + i)) for i in range(3)]
    return clients, servers


def make_router6():
    return Host6("2001:db8::fe", "02:00:00:00:00:fe")


def bracket(ip):
    return f"[{ip}]" if ":" in ip else ip


def svc_rules6(sched, proto, vport, servers, method, rport, vip=VIP6):
    """ipvsadm -R lines for one service on an IPv6 VIP (servers of either family)."""
    flag = "-t" if proto == "tcp" else "-u"
    rules = [f"-A {flag} {bracket(vip)}:{vport} -s {sched}"]
    for s in reversed(servers):  # added last first: the list is servers[0], ... (svc_rules)
        rules.append(f"-a {flag} {bracket(vip)}:{vport} -r {bracket(s.ip)}:{rport} {method} -w 1")
    return rules


def ip6_addr(ip):
    return socket.inet_pton(socket.AF_INET6, ip)


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def ip6_part(frame):
    """The IPv6 packet of an Ethernet frame (header and payload)."""
    return frame[14:14 + 40 + struct.unpack("!H", frame[18:20])[0]]


def ip_packet(frame):
    """The IP packet of a frame of either family, without Ethernet padding."""
    return ip6_part(frame) if frame[12:14] == b"\x86\xdd" else ip_part(frame)


def icmp6_msg(src, dst, icmp_type, code, rest, body):
    """An ICMPv6 message from src to dst: type, code, checksum over the pseudo-header,
    4 bytes `rest` (a u32) and the body."""
    m = struct.pack("!BBHI", icmp_type, code, 0, rest) + body
    pseudo = ip6_addr(src) + ip6_addr(dst) + struct.pack("!IxxxB", len(m), 58)
    return m[:2] + struct.pack("!H", ~ones_sum(pseudo + m) & 0xFFFF) + m[4:]


def icmp6_frame(eth_src, eth_dst, src, dst, msg, hlim=64, tc=0, fl=0):
    return concrete(Ether(src=eth_src, dst=eth_dst)
                    / IPv6(src=src, dst=dst, hlim=hlim, tc=tc, fl=fl, nh=58) / Raw(msg))


def rewrite6(frame, eth_src=None, eth_dst=None, ip_src=None, ip_dst=None, sport=None,
             dport=None):
    """An IPv6 frame with the given fields changed and its L4 checksum recomputed."""
    p = Ether(frame)
    p[IPv6].hlim -= 1
    if eth_src:
        p.src = eth_src
    if eth_dst:
        p.dst = eth_dst
    if ip_src:
        p[IPv6].src = ip_src
    if ip_dst:
        p[IPv6].dst = ip_dst
    for l4 in (TCP, UDP, SCTP):
        if l4 in p:
            if sport is not None:
                p[l4].sport = sport
            if dport is not None:
                p[l4].dport = dport
            if ip_src or ip_dst or sport is not None or dport is not None:
                del p[l4].chksum
    return bytes(p)


class TcpFlow6(TcpFlow):
    """TcpFlow over IPv6. Clients and servers set a traffic class and flow label of their
    own, which NAT and DR leave alone."""

    def __init__(self, client, cport, server, rport, vport=80, nat=True, isn=1000, tc=0,
                 fl=0, vip=VIP6):
        super().__init__(client, cport, server, rport, vport=vport, nat=nat, isn=isn)
        self.tc, self.fl, self.vip = tc, fl, vip

    def c2v(self, flags, payload=b"", options=None):
        ack = self.sseq if "A" in flags else 0
        pkt = (Ether(src=self.client.mac, dst=LB_MAC)
               / IPv6(src=self.client.ip, dst=self.vip, hlim=64, tc=self.tc, fl=self.fl)
               / TCP(sport=self.cport, dport=self.vport, flags=flags, seq=self.cseq, ack=ack,
                     window=64240, options=options or []))
        if payload:
            pkt = pkt / Raw(payload)
        self.cseq = self._advance(self.cseq, flags, payload)
        frame = concrete(pkt)
        if self.nat:
            return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=self.server.mac,
                                   ip_dst=self.server.ip, dport=self.rport)
        return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=self.server.mac)

    def s2c(self, flags, payload=b""):
        assert self.nat, "DR replies do not pass through the LB"
        pkt = (Ether(src=self.server.mac, dst=LB_MAC)
               / IPv6(src=self.server.ip, dst=self.client.ip, hlim=64, fl=0x5E4F)
               / TCP(sport=self.rport, dport=self.cport, flags=flags, seq=self.sseq,
                     ack=self.cseq, window=65160))
        if payload:
            pkt = pkt / Raw(payload)
        self.sseq = self._advance(self.sseq, flags, payload)
        frame = concrete(pkt)
        return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=self.client.mac, ip_src=self.vip,
                               sport=self.vport)


def udp6_c2v(client, cport, vport, payload, vip=VIP6):
    return concrete(Ether(src=client.mac, dst=LB_MAC)
                    / IPv6(src=client.ip, dst=vip, hlim=64)
                    / UDP(sport=cport, dport=vport) / Raw(payload))


def tcp6_syn(client, cport, dst=VIP6, dport=80, seq=7000, flags="S", eth_dst=LB_MAC, src=None):
    return concrete(Ether(src=client.mac, dst=eth_dst)
                    / IPv6(src=src or client.ip, dst=dst, hlim=64)
                    / TCP(sport=cport, dport=dport, flags=flags, seq=seq,
                          ack=(seq * 3 if "A" in flags else 0), window=64240))


def flow_hash_any(frame):
    """The flow hash of a client->VIP TCP/UDP frame of either family (flow_hash.py)."""
    if frame[12:14] != b"\x86\xdd":
        return flow_hash_of(frame)
    ip = ip6_part(frame)
    sport, dport = struct.unpack("!HH", ip[40:44])
    return flow_hash6(str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40])),
                      sport, dport, ip[6])


def tun_any_frame(frame, server, kind, h, src, csum=False):
    """`frame`'s IP packet (either family) tunnelled to server (either family), from src.
    IPv6 outer: the inner traffic class, flow label h & 0xfffff, the inner hop limit (one
    less, inside and out), next header
    41 (inner IPv6) or 4 (inner IPv4) for IPIP, UDP with a checksum for GUE. IPv4 outer: as
    tun_frame, an inner IPv6 packet counting as DF clear; protocol 41 for IPv6. GUE's header
    names the inner protocol (4 or 41)."""
    inner = ip_packet(dec_ttl(frame))
    v6_inner = inner[0] >> 4 == 6
    ttl = inner[7] if v6_inner else inner[8]
    inner_proto = 41 if v6_inner else 4
    tos = ((inner[0] & 0x0F) << 4 | inner[1] >> 4) if v6_inner else inner[1]
    gue = bytes([0, inner_proto, 0, 0])
    if ":" in server.ip:
        outer = IPv6(src=src, dst=server.ip, tc=tos, fl=flow_label(h), hlim=ttl)
        if kind == "ipip":
            pkt = outer / Raw(inner)
            pkt[IPv6].nh = inner_proto
        else:
            pkt = outer / UDP(sport=gue_sport(h), dport=GUE_PORT) / Raw(gue + inner)
    else:
        df = not v6_inner and inner[6] & 0x40
        outer = IP(src=src, dst=server.ip, tos=tos, id=0, ttl=ttl, flags="DF" if df else 0)
        if kind == "ipip":
            pkt = outer / Raw(inner)
            pkt[IP].proto = inner_proto
        else:
            pkt = outer / UDP(sport=gue_sport(h), dport=GUE_PORT) / Raw(gue + inner)
            if not csum:
                pkt[UDP].chksum = 0
    return concrete(Ether(src=LB_MAC, dst=server.mac) / pkt)


def tun_any_step(c, frame, server, kind, csum=False, prefix=None):
    """Feed a client->VIP frame; it must leave tunnelled to server. The outer source: the
    port's IPv6 address for an IPv6 server; for an IPv4 one the tunnel_src choice or the
    port's IPv4 address."""
    h = flow_hash_any(frame)
    if ":" in server.ip:
        src = LB6
    else:
        src = tunnel_src(prefix, h) if prefix else LB_IP
    c.step(frame, tun_any_frame(frame, server, kind, h, src, csum))
    return src, gue_sport(h)


def dr6_flows(C6, S6, n, vport=80, isn=60000):
    return [TcpFlow6(C6[i], 51000 + i, S6[i % len(S6)], vport, vport=vport, nat=False,
                     isn=isn + 1000 * i, tc=0x28 if i % 2 else 0, fl=0x12345 + i)
            for i in range(n)]


def tcp_through_any_tunnel(c, flows, kind, csum=False, prefix=None):
    """SYN with options, ACK, data (the second with another traffic class), per flow."""
    for f in flows:
        syn, _ = f.c2v("S", options=[("MSS", 1440), ("SAckOK", b""), ("NOP", None),
                                     ("WScale", 7)])
        tun_any_step(c, syn, f.server, kind, csum, prefix)
    for f in flows:
        f.sseq = 900001  # the servers' SYN-ACKs go straight to the clients
        tun_any_step(c, f.c2v("A")[0], f.server, kind, csum, prefix)
    for f in flows:
        tun_any_step(c, f.c2v("PA", b"GET /tunnel6 HTTP/1.1\r\nHost: vip\r\n\r\n")[0], f.server,
                     kind, csum, prefix)
        f.tc = 0xB8
        tun_any_step(c, f.c2v("PA", b"odd-length body")[0], f.server, kind, csum, prefix)
    c.count("conns-new", len(flows))


def case_tcp6_nat(C, S):
    C6, S6 = make_hosts6()
    c = Case("tcp6_nat", "IPv6 TCP through NAT both ways: handshake, data, FIN close; rr "
             "over A B C; traffic class and flow label kept, hop limit one less",
             svc_rules6("rr", "tcp", 80, S6, "-m", 8080), C6 + S6, port_opts=[PORT6])
    flows = [TcpFlow6(C6[0], 40000, S6[0], 8080, isn=1000, tc=0x28, fl=0xABCDE),
             TcpFlow6(C6[1], 40001, S6[1], 8080, isn=2000),
             TcpFlow6(C6[2], 40002, S6[2], 8080, isn=3000, fl=1),
             TcpFlow6(C6[0], 40003, S6[0], 8080, isn=4000, fl=0xFFFFF)]
    for f in flows:
        c.step(*f.c2v("S", options=[("MSS", 1440), ("SAckOK", b""), ("WScale", 7)]))
    script = [("s", "SA", b""), ("c", "A", b""), ("c", "PA", b"GET / HTTP/1.0\r\n\r\n"),
              ("s", "PA", b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello6"),
              ("c", "A", b""), ("c", "FA", b""), ("s", "FA", b""), ("c", "A", b"")]
    for side, flags, payload in script:
        for f in flows:
            c.step(*(f.c2v(flags, payload) if side == "c" else f.s2c(flags, payload)))
    c.count("conns-new", len(flows))
    return c


def case_sctp6_nat(C, S):
    C6, S6 = make_hosts6()
    c = Case("sctp6_nat", "IPv6 SCTP through NAT: INIT to DATA both ways with the CRC32c redone, "
             "rr over A B; an ABORT ends one association",
             [f"-A --sctp-service {bracket(VIP6)}:3868 -s rr"]
             + [f"-a --sctp-service {bracket(VIP6)}:3868 -r {bracket(s.ip)}:3869 -m -w 1"
                for s in reversed(S6[:2])],
             C6 + S6, port_opts=[PORT6])

    def c2v(client, cport, tag, chunk):
        return concrete(Ether(src=client.mac, dst=LB_MAC)
                        / IPv6(src=client.ip, dst=VIP6, hlim=64, fl=0x12345)
                        / SCTP(sport=cport, dport=3868, tag=tag) / chunk)

    def to_server(frame, server):
        return rewrite6(frame, eth_src=LB_MAC, eth_dst=server.mac, ip_dst=server.ip, dport=3869)

    def s2c(server, client, cport, tag, chunk):
        frame = concrete(Ether(src=server.mac, dst=LB_MAC)
                         / IPv6(src=server.ip, dst=client.ip, hlim=63)
                         / SCTP(sport=3869, dport=cport, tag=tag) / chunk)
        return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP6, sport=3868)

    for client, cport, server, ctag, stag in [(C6[0], 37000, S6[0], 0x6111, 0x6222),
                                              (C6[1], 37001, S6[1], 0x6333, 0x6444)]:
        sctp_association(c, c2v, to_server, s2c, client, cport, server, (ctag, stag),
                         b"cookie6-%d" % cport, b"hello over sctp6")
        c.step(*s2c(server, client, cport, ctag,
                    SCTPChunkData(tsn=500, stream_id=0, stream_seq=0, proto_id=0,
                                  data=b"and back")))
    # the first association is aborted by its client: the ABORT still reaches the server
    f = c2v(C6[0], 37000, 0x6222, SCTPChunkAbort())
    c.step(f, to_server(f, S6[0]))
    stray = c2v(C6[2], 37002, 0x6555, SCTPChunkData(tsn=1, data=b"no association"))
    c.drop(stray, "sctp-not-init", good=True)
    c.count("conns-new", 2)
    return c


def case_persist6(C, S):
    C6, S6 = make_hosts6()
    rules = [f"-A -t {bracket(VIP6)}:80 -s rr -p 360 -M 125"]
    rules += [f"-a -t {bracket(VIP6)}:80 -r {bracket(s.ip)}:8080 -m -w 1" for s in reversed(S6)]
    c = Case("persist6", "IPv6 -p -M 125: clients ::10 and ::11 share a /125 and a server, "
             "::18 is in the next one; rr moves on only for a new prefix", rules, C6 + S6,
             port_opts=[PORT6])
    for i, (cl, server) in enumerate([(0, "A"), (1, "A"), (8, "B"), (0, "A"), (8, "B"), (2, "A")]):
        f = TcpFlow6(C6[cl], 41000 + i, S6["ABC".index(server)], 8080, isn=5000 + i)
        c.step(*f.c2v("S"))
        c.step(*f.s2c("SA"))
    c.count("conns-new", 6)
    return c


def udp6_zero_sum_payload(client, cport, server, rport):
    """A 4-byte payload whose datagram, rewritten to server:rport, sums to a checksum of
    0: sent as 0xffff (a UDP checksum over IPv6 is never 0)."""
    for tail in range(0x10000):
        payload = b"zz" + struct.pack("!H", tail)
        out = concrete(IPv6(src=client.ip, dst=server.ip, hlim=64)
                       / UDP(sport=cport, dport=rport, chksum=0) / Raw(payload))
        pseudo = ip6_addr(client.ip) + ip6_addr(server.ip) + struct.pack("!IxxxB", 12, 17)
        if ones_sum(pseudo + out[40:]) == 0xFFFF:
            return payload
    raise AssertionError("no payload sums to 0")


def case_udp6_nat(C, S):
    C6, S6 = make_hosts6()
    c = Case("udp6_nat", "IPv6 UDP requests and replies through NAT, rr over A B; a "
             "rewritten checksum of 0 leaves as 0xffff",
             svc_rules6("rr", "udp", 53, S6[:2], "-m", 5353), C6 + S6, port_opts=[PORT6])

    def request(client, cport, server, payload):
        frame = udp6_c2v(client, cport, 53, payload)
        return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=server.mac, ip_dst=server.ip,
                               dport=5353)

    def reply(client, cport, server, payload):
        frame = concrete(Ether(src=server.mac, dst=LB_MAC)
                         / IPv6(src=server.ip, dst=client.ip, hlim=63)
                         / UDP(sport=5353, dport=cport) / Raw(payload))
        return frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=client.mac, ip_src=VIP6, sport=53)

    c.step(*request(C6[0], 33000, S6[0], b"query6-a-1"))
    c.step(*request(C6[1], 33001, S6[1], b"query6-b-1"))
    c.step(*reply(C6[1], 33001, S6[1], b"answer6-b-1 with a longer payload"))
    c.step(*reply(C6[0], 33000, S6[0], b"answer6-a-1"))
    c.step(*request(C6[0], 33000, S6[0], b"query6-a-2, same flow: same server"))
    zero = udp6_zero_sum_payload(C6[2], 33002, S6[0], 5353)
    frame, out = request(C6[2], 33002, S6[0], zero)
    assert out[14 + 40 + 6:14 + 40 + 8] == b"\xff\xff", out.hex()
    c.step(frame, out)
    c.count("conns-new", 3)
    return c


def case_tcp6_dr(C, S):
    C6, S6 = make_hosts6()
    c = Case("tcp6_dr", "IPv6 TCP through DR: only the Ethernet addresses change; rr over A B",
             svc_rules6("rr", "tcp", 80, S6[:2], "-g", 80), C6 + S6, port_opts=[PORT6])
    a, b = dr6_flows(C6, S6[:2], 2)
    c.step(*a.c2v("S", options=[("MSS", 1440), ("SAckOK", b""), ("NOP", None), ("WScale", 7)]))
    c.step(*b.c2v("S"))
    a.sseq = b.sseq = 900001
    for f in (a, b):
        c.step(*f.c2v("A"))
    c.step(*a.c2v("PA", b"GET /dr6 HTTP/1.1\r\nHost: vip\r\n\r\n"))
    c.step(*b.c2v("PA", b"GET /other HTTP/1.1\r\n\r\n"))
    c.step(*a.c2v("FA"))
    c.step(*a.c2v("A"))
    c.count("conns-new", 2)
    return c


def case_tun6_ipip(C, S):
    C6, S6 = make_hosts6()
    c = Case("tun6_ipip", "IPv6 TCP through IPIP (6in6, next header 41): outer from the port "
             "address, inner traffic class, flow label from the flow hash; rr over A B",
             svc_rules6("rr", "tcp", 80, S6[:2], tun_method("ipip"), 80), C6 + S6,
             port_opts=[PORT6])
    tcp_through_any_tunnel(c, dr6_flows(C6, S6[:2], 2, isn=61000), "ipip")
    return c


def case_tun6_gue(C, S):
    C6, S6 = make_hosts6()
    c = Case("tun6_gue", "IPv6 TCP through GUE (6in6): outer UDP checksum although "
             "--tun-nocsum, GUE protocol 41, per-flow port and flow label; rr over A B",
             svc_rules6("rr", "tcp", 80, S6[:2], tun_method("gue"), 80), C6 + S6,
             port_opts=[PORT6])
    tcp_through_any_tunnel(c, dr6_flows(C6, S6[:2], 2, isn=62000), "gue")
    return c


def case_tun_4in6(C, S):
    _, S6 = make_hosts6()
    rules = ([f"-A -t {VIP}:80 -s rr"]
             + [f"-a -t {VIP}:80 -r [{s.ip}]:80 -i -w 1" for s in reversed(S6[:2])]
             + [f"-A -t {VIP}:443 -s rr",
                f"-a -t {VIP}:443 -r [{S6[2].ip}]:443 {tun_method('gue')} -w 1"])
    c = Case("tun_4in6", "IPv4 service, IPv6 tunnel servers: IPIP (next header 4) over A B "
             "and GUE (protocol 4, UDP checksum) to C; TOS becomes the traffic class",
             rules, C + S6, port_opts=[PORT6])
    flows = [TcpFlow(C[0], 52000, S6[0], 80, nat=False, isn=63000),
             TcpFlow(C[1], 52001, S6[1], 80, nat=False, isn=64000)]
    for f in flows:
        tun_any_step(c, f.c2v("S", options=[("MSS", 1460)])[0], f.server, "ipip")
    for f in flows:
        f.sseq = 900001
        tun_any_step(c, edit_ip(f.c2v("A")[0], tos=0x28), f.server, "ipip")
        tun_any_step(c, edit_ip(f.c2v("PA", b"4in6 data")[0], df=False), f.server, "ipip")
    g = TcpFlow(C[2], 52002, S6[2], 443, vport=443, nat=False, isn=65000)
    tun_any_step(c, g.c2v("S")[0], g.server, "gue")
    g.sseq = 900001
    tun_any_step(c, edit_ip(g.c2v("PA", b"gue 4in6")[0], tos=0x10), g.server, "gue")
    udp = udp_c2v(C[3], 33300, 80, b"no service for UDP: dropped")
    c.drop(udp, "no-vip", good=True)
    c.count("conns-new", 3)
    return c


def case_tun_6in4(C, S):
    C6, _ = make_hosts6()
    rules = (svc_rules6("rr", "tcp", 80, S[:2], tun_method("gue"), 80)
             + svc_rules6("rr", "tcp", 443, S[2:3], tun_method("gue", csum=True), 443))
    c = Case("tun_6in4", f"IPv6 service, IPv4 GUE servers (protocol 41): outer source per flow "
             f"from tunnel_src {TUN_SRC_PREFIX} by the IPv6 flow hash; with and without csum",
             rules, C6 + S, port_opts=[PORT6, f"tunnel_src = {TUN_SRC_PREFIX}"])
    flows = [TcpFlow6(C6[i], 53000 + i, S[i % 2], 80, nat=False, isn=66000 + 1000 * i,
                      tc=0x48 if i == 1 else 0, fl=0x777 * i) for i in range(4)]
    chosen = []
    for f in flows:
        chosen.append(tun_any_step(c, f.c2v("S")[0], f.server, "gue", prefix=TUN_SRC_PREFIX))
    for f in flows[:2]:
        f.sseq = 900001
        tun_any_step(c, f.c2v("PA", b"6in4 data")[0], f.server, "gue", prefix=TUN_SRC_PREFIX)
    g = TcpFlow6(C6[5], 53005, S[2], 443, vport=443, nat=False, isn=70000)
    chosen.append(tun_any_step(c, g.c2v("S")[0], g.server, "gue", csum=True,
                               prefix=TUN_SRC_PREFIX))
    g.sseq = 900001
    tun_any_step(c, g.c2v("A")[0], g.server, "gue", csum=True, prefix=TUN_SRC_PREFIX)
    assert len({s for s, _ in chosen}) == len(chosen), chosen
    c.count("conns-new", len(flows) + 1)
    return c


# --- neighbour discovery -------------------------------------------------------------------------

def solicited_node(ip):
    """The solicited-node group of ip and its MAC."""
    last = ip6_addr(ip)[13:]
    group = str(ipaddress.IPv6Address(b"\xff\x02" + bytes(9) + b"\x01\xff" + last))
    return group, "33:33:ff:" + ":".join("%02x" % b for b in last)


def nd_opt(kind, mac):
    return bytes([kind, 1]) + mac_bytes(mac)


def ns_frame(sender, target, src=None, dst=None, eth_dst=None, opts=None, hlim=255, code=0):
    """A neighbour solicitation for target from sender: to the solicited-node group unless
    dst is given, with sender's SLL option unless opts says otherwise."""
    group, group_mac = solicited_node(target)
    src = sender.ip if src is None else src
    dst = dst or group
    if opts is None:
        opts = nd_opt(1, sender.mac)
    msg = icmp6_msg(src, dst, 135, code, 0, ip6_addr(target) + opts)
    return icmp6_frame(sender.mac, eth_dst or (group_mac if dst == group else LB_MAC), src, dst,
                       msg, hlim=hlim)


def na_from_lb(target, dst, eth_dst, flags=0x60):
    """The LB's advertisement for an owned target: from the target, hop limit 255, the
    flags (solicited + override, or override alone for a DAD probe) and our MAC as TLL."""
    msg = icmp6_msg(target, dst, 136, 0, flags << 24, ip6_addr(target) + nd_opt(2, LB_MAC))
    return icmp6_frame(LB_MAC, eth_dst, target, dst, msg, hlim=255)


def na_frame(sender, dst, eth_dst=LB_MAC, flags=0x60, hlim=255, opts=None):
    opts = nd_opt(2, sender.mac) if opts is None else opts
    msg = icmp6_msg(sender.ip, dst, 136, 0, flags << 24, ip6_addr(sender.ip) + opts)
    return icmp6_frame(sender.mac, eth_dst, sender.ip, dst, msg, hlim=hlim)


def ns_from_lb(target):
    """The LB's solicitation for a next hop: from the port address, to the solicited-node
    group, hop limit 255, our MAC as SLL."""
    group, group_mac = solicited_node(target)
    msg = icmp6_msg(LB6, group, 135, 0, 0, ip6_addr(target) + nd_opt(1, LB_MAC))
    return icmp6_frame(LB_MAC, group_mac, LB6, group, msg, hlim=255)


def case_nd_ns(C, S):
    C6, S6 = make_hosts6()
    c = Case("nd_ns", "NS for the port address and the VIP (multicast and unicast) get NAs with "
             "S+O and our MAC; NS for a free or a server's address: arp-not-ours",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    c.step(ns_frame(C6[0], LB6), na_from_lb(LB6, C6[0].ip, C6[0].mac))
    c.step(ns_frame(C6[1], VIP6), na_from_lb(VIP6, C6[1].ip, C6[1].mac))
    c.step(ns_frame(C6[2], VIP6, dst=VIP6), na_from_lb(VIP6, C6[2].ip, C6[2].mac))
    c.step(ns_frame(C6[3], LB6, dst=LB6, opts=b""), na_from_lb(LB6, C6[3].ip, C6[3].mac))
    c.drop(ns_frame(C6[0], NOBODY6), "arp-not-ours", good=True)
    c.drop(ns_frame(C6[1], S6[0].ip), "arp-not-ours", good=True)
    c.drop(ns_frame(C6[2], "2001:db8:1::1"), "arp-not-ours", good=True)
    c.count("arp-replies", 4)
    return c


def case_nd_dad(C, S):
    C6, S6 = make_hosts6()
    c = Case("nd_dad", "duplicate-address probes (NS from ::, no SLL) for the VIP and the port "
             "address are answered to all-nodes, override flag only",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    for target in (VIP6, LB6):
        c.step(ns_frame(C6[4], target, src="::", opts=b""),
               na_from_lb(target, ALL_NODES, ALL_NODES_MAC, flags=0x20))
    c.drop(ns_frame(C6[4], VIP6, src="::"), "nd-malformed", good=True)  # SLL from ::
    c.drop(ns_frame(C6[4], NOBODY6, src="::", opts=b""), "arp-not-ours", good=True)
    c.count("arp-replies", 2)
    return c


def case_nd_learn(C, S):
    C6, S6 = make_hosts6()
    newcomer = Host6("2001:db8::30", "02:00:00:00:00:1e")  # no static neighbour entry
    c = Case("nd_learn", "the sender of an NS for the VIP is learned: the server's reply to it "
             "goes to the learned MAC",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    c.step(ns_frame(newcomer, VIP6), na_from_lb(VIP6, newcomer.ip, newcomer.mac))
    f = TcpFlow6(newcomer, 43000, S6[0], 8080, isn=8000)
    c.step(*f.c2v("S"))
    c.step(*f.s2c("SA"))
    c.count("arp-replies", 1)
    c.count("conns-new", 1)
    return c


def case_nd_resolve(C, S):
    C6, S6 = make_hosts6()
    c = Case("nd_resolve", "unresolved IPv6 server: one NS to its solicited-node group, frames "
             "held until its NA, then sent in order",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6[1:], port_opts=[PORT6])
    f = TcpFlow6(C6[0], 44000, S6[0], 8080, isn=9000)
    syn, syn_out = f.c2v("S")
    c.step(syn, ns_from_lb(S6[0].ip))  # held, and the next hop is asked for
    c.step(syn)                         # held too; within a second no second NS
    c.step(na_frame(S6[0], LB6))        # solicited advertisement with S6[0]'s MAC
    c.step(syn, syn_out, syn_out, syn_out)
    c.count("conns-new", 1)
    return c


def case_nd_malformed(C, S):
    C6, S6 = make_hosts6()
    c = Case("nd_malformed", "NS/NA with a hop limit other than 255, a code, a short body, a "
             "multicast target or options that do not add up: nd-malformed",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    cl = C6[0]
    sll = nd_opt(1, cl.mac)
    c.drop(ns_frame(cl, VIP6, hlim=254), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, hlim=64), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, code=1), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, opts=b"\x01\x00" + bytes(6)), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, opts=sll + b"\x01\x02" + bytes(6)), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, opts=sll + b"\x0e"), "nd-malformed", good=True)
    c.drop(ns_frame(cl, VIP6, opts=b"\x01\x01" + mac_bytes(cl.mac)[:4]), "nd-malformed",
           good=True)
    group, group_mac = solicited_node(VIP6)
    short = icmp6_msg(cl.ip, group, 135, 0, 0, ip6_addr(VIP6)[:12])
    c.drop(icmp6_frame(cl.mac, group_mac, cl.ip, group, short, hlim=255), "nd-malformed",
           good=True)
    c.drop(ns_frame(cl, "ff02::1:ff00:100"), "nd-malformed", good=True)  # multicast target
    c.drop(na_frame(S6[0], LB6, hlim=64), "nd-malformed", good=True)
    c.drop(na_frame(S6[0], LB6, opts=b"\x02\x00" + bytes(6)), "nd-malformed", good=True)
    c.step(ns_frame(cl, VIP6), na_from_lb(VIP6, cl.ip, cl.mac))
    c.count("arp-replies", 1)
    return c


# --- ICMPv6 echo and packet too big ----------------------------------------------------------

def icmp6_echo(client, dst, ident, seq, payload, hlim=57, tc=0, fl=0):
    req = icmp6_frame(client.mac, LB_MAC, client.ip, dst,
                      icmp6_msg(client.ip, dst, 128, 0, ident << 16 | seq, payload),
                      hlim=hlim, tc=tc, fl=fl)
    rep = icmp6_frame(LB_MAC, client.mac, dst, client.ip,
                      icmp6_msg(dst, client.ip, 129, 0, ident << 16 | seq, payload),
                      hlim=64, tc=tc, fl=fl)
    return req, rep


def case_icmp6_echo(C, S):
    C6, S6 = make_hosts6()
    c = Case("icmp6_echo", "ICMPv6 echo requests to the VIP and the port address get replies "
             "(hop limit 64); to a free address no-vip; a stray reply icmp-unsupported",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    c.step(*icmp6_echo(C6[0], VIP6, 0x77, 1, bytes(range(48)), tc=0x10, fl=0x2468A))
    c.step(*icmp6_echo(C6[1], VIP6, 0x78, 9, b"xvs-echo6" * 7, hlim=255))
    c.step(*icmp6_echo(C6[0], LB6, 0x1234, 1, bytes(range(56))))
    c.step(*icmp6_echo(C6[0], LB6, 0x1234, 2, b"odd-length", hlim=1, tc=0xB8))
    c.drop(icmp6_echo(C6[2], NOBODY6, 5, 5, b"nobody")[0], "no-vip", good=True)
    stray = icmp6_frame(C6[2].mac, LB_MAC, C6[2].ip, VIP6,
                        icmp6_msg(C6[2].ip, VIP6, 129, 0, 5 << 16 | 5, b"stray"))
    c.drop(stray, "icmp-unsupported", good=True)
    c.count("icmp-echo-replies", 4)
    return c


def ptb_from_vip(frame, client, mtu, vip=VIP6):
    """The LB's "packet too big" to the client: from the VIP, hop limit 64, traffic class
    and flow label 0, the MTU that fits, quoting as much as keeps the error in 1280 bytes."""
    quote = ip_packet(dec_ttl(frame))[:IP6_QUOTE_MAX]
    return icmp6_frame(LB_MAC, client.mac, vip, client.ip,
                       icmp6_msg(vip, client.ip, 2, 0, mtu, quote))


def frag_needed_any(frame, client, mtu):
    return frag_needed_from_vip(frame, client, mtu)


def too_big_steps(c, f, kind, fit, over_hdr):
    """For flow f through `kind`: SYN and ACK pass; a segment whose IP packet is fit + 1
    bytes is refused (PTB or frag-needed with `fit`), one of fit bytes passes."""
    tun_any_step(c, f.c2v("S")[0], f.server, kind)
    f.sseq = 900001
    tun_any_step(c, f.c2v("A")[0], f.server, kind)
    seq = f.cseq
    big = f.c2v("PA", bytes(fit + 1 - over_hdr))[0]
    err = (ptb_from_vip(big, f.client, fit) if big[12:14] == b"\x86\xdd"
           else frag_needed_from_vip(big, f.client, fit))
    c.drop(big, "too-big", err, good=True)
    f.cseq = seq
    just = f.c2v("PA", bytes(fit - over_hdr))[0]
    assert len(ip_packet(just)) == fit
    tun_any_step(c, just, f.server, kind)
    return big, err


def case_tun6_too_big(C, S):
    C6, S6 = make_hosts6()
    rules = (svc_rules6("rr", "tcp", 80, S6[:1], tun_method("ipip"), 80)
             + svc_rules6("rr", "tcp", 443, S6[1:2], tun_method("gue"), 443)
             + svc_rules6("rr", "tcp", 8443, S[2:3], tun_method("gue"), 8443)
             + [f"-A -t {VIP}:80 -s rr", f"-a -t {VIP}:80 -r [{S6[2].ip}]:80 -i -w 1"])
    c = Case("tun6_too_big", "mtu 1400: one byte too big gets packet too big from the VIP "
             "with mtu - 40 (6in6 IPIP), - 52 (GUE), - 32 (6in4 GUE), frag-needed - 40 (4in6)",
             rules, C + C6 + S6 + S, port_opts=["mtu = 1400", PORT6])
    for f, kind, fit in ((TcpFlow6(C6[0], 54000, S6[0], 80, nat=False, isn=71000), "ipip", 1360),
                         (TcpFlow6(C6[1], 54001, S6[1], 443, vport=443, nat=False, isn=72000),
                          "gue", 1348),
                         (TcpFlow6(C6[2], 54002, S[2], 8443, vport=8443, nat=False,
                                   isn=73000), "gue", 1368)):
        _, err = too_big_steps(c, f, kind, fit, 60)
        assert len(err) == 14 + 1280, len(err)  # quote cut to keep the error in 1280 bytes
    f = TcpFlow(C[3], 54003, S6[2], 80, nat=False, isn=74000)
    too_big_steps(c, f, "ipip", 1360, 40)
    c.count("conns-new", 4)
    return c


def case_tun6_too_big_min(C, S):
    C6, S6 = make_hosts6()
    c = Case("tun6_too_big_min", "mtu 1280 with 6in6 GUE (fits 1228): a 1229-byte packet is "
             "quoted whole, a 1233-byte one cut to 1232 bytes (an error of 1280)",
             svc_rules6("rr", "tcp", 80, S6[:1], tun_method("gue"), 80), C6 + S6,
             port_opts=["mtu = 1280", PORT6])
    f = TcpFlow6(C6[0], 55000, S6[0], 80, nat=False, isn=75000)
    big, err = too_big_steps(c, f, "gue", 1228, 60)
    assert len(err) == 14 + 48 + 1229
    seq = f.cseq
    bigger = f.c2v("PA", bytes(1233 - 60))[0]
    err = ptb_from_vip(bigger, f.client, 1228)
    assert len(err) == 14 + 1280
    c.drop(bigger, "too-big", err, good=True)
    f.cseq = seq
    c.count("conns-new", 1)
    return c


# --- ICMPv6 errors quoting a connection -----------------------------------------------------

def icmp6_error(sender, dst, icmp_type, code, quote, rest=0, eth_dst=LB_MAC):
    return icmp6_frame(sender.mac, eth_dst, sender.ip, dst,
                       icmp6_msg(sender.ip, dst, icmp_type, code, rest, quote))


def icmp6_rewritten(frame, eth_dst, quote, ip_src=None, ip_dst=None):
    """An ICMPv6 error as the LB forwards it: new Ethernet addresses, outer addresses and
    quote, the checksum over the new pseudo-header, the hop limit one less; the rest as it
    came."""
    ip = ip6_part(frame)
    src = ip_src or str(ipaddress.IPv6Address(ip[8:24]))
    dst = ip_dst or str(ipaddress.IPv6Address(ip[24:40]))
    icmp_type, code, _, rest = struct.unpack("!BBHI", ip[40:48])
    tc = (ip[0] & 0x0F) << 4 | ip[1] >> 4
    fl = struct.unpack("!I", ip[0:4])[0] & 0xFFFFF
    return icmp6_frame(LB_MAC, eth_dst, src, dst, icmp6_msg(src, dst, icmp_type, code, rest, quote),
                       hlim=ip[7] - 1, tc=tc, fl=fl)


def case_icmp6_err_nat_reply(C, S):
    C6, S6 = make_hosts6()
    router = make_router6()
    rules = (svc_rules6("rr", "udp", 53, S6[:1], "-m", 5353)
             + svc_rules6("rr", "tcp", 80, S6[1:2], "-m", 8080))
    c = Case("icmp6_err_nat_reply", "ICMPv6 errors about packets sent to a NAT server reach the "
             "client quoting the VIP (port unreachable from it, packet too big from a router)",
             rules, C6 + S6, port_opts=[PORT6])
    query = udp6_c2v(C6[0], 33200, 53, b"query to a closed port")
    to_a = rewrite6(query, eth_src=LB_MAC, eth_dst=S6[0].mac, ip_dst=S6[0].ip, dport=5353)
    c.step(query, to_a)
    e = icmp6_error(S6[0], C6[0].ip, 1, 4, ip6_part(to_a))
    c.step(e, icmp6_rewritten(e, C6[0].mac, ip6_part(dec_ttl(query)), ip_src=VIP6))
    f = TcpFlow6(C6[1], 44100, S6[1], 8080, isn=42000)
    c.step(*f.c2v("S"))
    c.step(*f.s2c("SA"))
    data, data_out = f.c2v("PA", b"x" * 1300)
    c.step(data, data_out)
    for qlen in (IP6_QUOTE_MAX, 48, 60):  # cut in the payload, after the ports, in the TCP header
        e = icmp6_error(router, C6[1].ip, 2, 0, ip6_part(data_out)[:qlen], rest=1280)
        c.step(e, icmp6_rewritten(e, C6[1].mac, ip6_part(dec_ttl(data))[:qlen]))
    e = icmp6_error(router, C6[1].ip, 3, 0, ip6_part(data_out)[:IP6_QUOTE_MAX])
    c.step(e, icmp6_rewritten(e, C6[1].mac, ip6_part(dec_ttl(data))[:IP6_QUOTE_MAX]))
    c.count("conns-new", 2)
    return c


def case_icmp6_err_client_side(C, S):
    C6, S6 = make_hosts6()
    router = make_router6()
    rules = (svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080)
             + svc_rules6("rr", "tcp", 81, S6[1:2], "-g", 81)
             + svc_rules6("rr", "tcp", 82, S6[2:3], tun_method("ipip"), 82))
    c = Case("icmp6_err_client_side", "ICMPv6 errors about VIP->client packets go to the real "
             "server: NAT with the quote rewritten, DR unchanged, TUN encapsulated (6in6)",
             rules, C6 + S6, port_opts=[PORT6])
    nat = TcpFlow6(C6[0], 45100, S6[0], 8080, isn=43000)
    dr = TcpFlow6(C6[1], 45101, S6[1], 81, vport=81, nat=False, isn=44000)
    tun = TcpFlow6(C6[2], 45102, S6[2], 82, vport=82, nat=False, isn=45000)
    c.step(*nat.c2v("S"))
    synack, synack_out = nat.s2c("SA", b"s" * 600)
    c.step(synack, synack_out)
    c.step(*dr.c2v("S"))
    tun_syn = tun.c2v("S")[0]
    tun_any_step(c, tun_syn, tun.server, "ipip")
    e = icmp6_error(router, VIP6, 2, 0, ip6_part(synack_out), rest=1280)
    c.step(e, icmp6_rewritten(e, S6[0].mac, ip6_part(dec_ttl(synack)), ip_dst=S6[0].ip))
    e = icmp6_error(router, VIP6, 3, 0, ip6_part(synack_out)[:48])
    c.step(e, icmp6_rewritten(e, S6[0].mac, ip6_part(dec_ttl(synack))[:48], ip_dst=S6[0].ip))
    e = icmp6_error(router, VIP6, 1, 0, ip6_part(synack_out)[:70])
    c.step(e, icmp6_rewritten(e, S6[0].mac, ip6_part(dec_ttl(synack))[:70], ip_dst=S6[0].ip))
    dr_reply = concrete(IPv6(src=VIP6, dst=C6[1].ip, hlim=64)
                        / TCP(sport=81, dport=45101, flags="SA", seq=900000, ack=44001,
                              window=65160) / Raw(b"d" * 600))
    e = icmp6_error(router, VIP6, 2, 0, dr_reply, rest=1280)
    c.step(e, rewrite6(e, eth_src=LB_MAC, eth_dst=S6[1].mac))
    tun_reply = concrete(IPv6(src=VIP6, dst=C6[2].ip, hlim=64)
                         / TCP(sport=82, dport=45102, flags="SA", seq=900000, ack=45001,
                               window=65160))
    e = icmp6_error(router, VIP6, 1, 3, tun_reply)
    c.step(e, tun_any_frame(e, S6[2], "ipip", flow_hash_any(tun_syn), LB6))
    c.count("conns-new", 3)
    return c


def case_icmp6_err_bad(C, S):
    C6, S6 = make_hosts6()
    router = make_router6()
    c = Case("icmp6_err_bad", "ICMPv6 errors with a bad checksum, a short or non-IPv6 quote, "
             "or quoting no connection are dropped and counted; a good one passes",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    f = TcpFlow6(C6[0], 46100, S6[0], 8080, isn=46000)
    c.step(*f.c2v("S"))
    synack, synack_out = f.s2c("SA")
    c.step(synack, synack_out)
    quote = ip6_part(synack_out)
    bad = bytearray(icmp6_error(router, VIP6, 2, 0, quote, rest=1280))
    bad[14 + 40 + 2] ^= 0x5A
    c.drop(bytes(bad), "icmp-bad-csum")
    bad = bytearray(icmp6_error(router, VIP6, 1, 4, quote))
    bad[-1] ^= 0x01  # a quoted byte changed after the checksum was made
    c.drop(bytes(bad), "icmp-bad-csum")
    c.drop(icmp6_error(router, VIP6, 2, 0, quote[:47], rest=1280), "icmp-quote-bad", good=True)
    c.drop(icmp6_error(router, VIP6, 2, 0, quote[:40], rest=1280), "icmp-quote-bad", good=True)
    v4 = concrete(IP(src=LB_IP, dst=C[0].ip) / TCP(sport=80, dport=46100, flags="SA"))
    c.drop(icmp6_error(router, VIP6, 1, 0, v4 + bytes(16)), "icmp-quote-bad", good=True)
    other = concrete(IPv6(src=VIP6, dst=C6[1].ip) / TCP(sport=80, dport=46100, flags="SA"))
    c.drop(icmp6_error(router, VIP6, 1, 0, other), "icmp-quote-no-conn", good=True)
    wrong = concrete(IPv6(src=VIP6, dst=C6[0].ip) / TCP(sport=81, dport=46100, flags="SA"))
    c.drop(icmp6_error(router, VIP6, 1, 0, wrong), "icmp-quote-no-conn", good=True)
    udp = concrete(IPv6(src=VIP6, dst=C6[0].ip) / UDP(sport=80, dport=46100) / Raw(b"udp"))
    c.drop(icmp6_error(router, VIP6, 1, 4, udp), "icmp-quote-no-conn", good=True)
    echo = icmp6_echo(C6[0], VIP6, 1, 1, b"ping")[1][14:]
    c.drop(icmp6_error(router, VIP6, 2, 0, echo, rest=1280), "icmp-quote-no-conn", good=True)
    stray = concrete(IPv6(src=C6[2].ip, dst=S6[0].ip) / TCP(sport=46102, dport=8080, flags="S"))
    c.drop(icmp6_error(S6[0], C6[2].ip, 1, 4, stray), "icmp-quote-no-conn", good=True)
    e = icmp6_error(router, VIP6, 2, 0, quote, rest=1280)
    c.step(e, icmp6_rewritten(e, S6[0].mac, ip6_part(dec_ttl(synack)), ip_dst=S6[0].ip))
    c.count("conns-new", 1)
    return c


# --- hostile IPv6 headers -------------------------------------------------------------------

def syn6_with(client, cport, ext, dst=VIP6, src=None):
    """A SYN to dst:80 behind the extension headers ext (scapy layers, or None)."""
    pkt = IPv6(src=src or client.ip, dst=dst, hlim=64)
    if ext is not None:
        pkt = pkt / ext
    return concrete(Ether(src=client.mac, dst=LB_MAC) / pkt
                    / TCP(sport=cport, dport=80, flags="S", seq=5000 + cport, window=64240))


def dstopts(n):
    """n destination-options headers (8 bytes each, PadN)."""
    chain = IPv6ExtHdrDestOpt()
    for _ in range(n - 1):
        chain = chain / IPv6ExtHdrDestOpt()
    return chain


def raw_ip6(client, nh, payload, plen=None, first=0x60):
    hdr = bytes([first, 0, 0, 0]) + struct.pack("!HBB", len(payload) if plen is None else plen,
                                                nh, 64)
    return (mac_bytes(LB_MAC) + mac_bytes(client.mac) + b"\x86\xdd" + hdr + ip6_addr(client.ip)
            + ip6_addr(VIP6) + payload)


def case_ip6_ext(C, S):
    C6, S6 = make_hosts6()
    c = Case("ip6_ext", "IPv6 extension headers: allowed chains are walked and forwarded; too "
             "many, truncated, misplaced hop-by-hop, routing with segments left dropped",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    cl = C6[0]
    tcp = concrete(IPv6(src=cl.ip, dst=VIP6) / TCP(sport=47000, dport=80, flags="S"))[40:]
    good = [IPv6ExtHdrHopByHop(), dstopts(8),
            IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=0)
            / IPv6ExtHdrDestOpt(options=[PadN(optdata=bytes(12))]),
            IPv6ExtHdrDestOpt(options=[PadN(optdata=bytes(252))])]
    for i, ext in enumerate(good):
        frame = syn6_with(cl, 47100 + i, ext)
        c.step(frame, rewrite6(frame, eth_src=LB_MAC, eth_dst=S6[0].mac, ip_dst=S6[0].ip,
                               dport=8080))
    c.drop(syn6_with(cl, 47200, dstopts(9)), "ip6-bad-ext", good=True)
    c.drop(syn6_with(cl, 47201, IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop()), "ip6-bad-ext",
           good=True)
    c.drop(syn6_with(cl, 47202, IPv6ExtHdrHopByHop() / IPv6ExtHdrHopByHop()), "ip6-bad-ext",
           good=True)
    c.drop(syn6_with(cl, 47203, IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=1)),
           "ip6-bad-ext")
    # a destination-options header claiming 24 bytes where 16 are left
    c.drop(raw_ip6(cl, 60, bytes([6, 2, 1, 4]) + bytes(12)), "ip6-bad-ext")
    # the payload ends 4 bytes into an extension header
    c.drop(raw_ip6(cl, 0, bytes([6, 0, 1, 2])), "ip6-bad-ext")
    # 7 headers each pointing at the next and an 8th that runs past the payload
    c.drop(raw_ip6(cl, 60, b"".join(bytes([60, 0, 1, 4]) + bytes(4) for _ in range(7))
                   + bytes([6, 0, 1, 4])), "ip6-bad-ext")
    c.drop(syn6_with(cl, 47204, IPv6ExtHdrFragment(offset=0, m=1, id=7)), "ip-fragment")
    c.drop(syn6_with(cl, 47205, IPv6ExtHdrFragment(offset=0, m=0, id=8)), "ip-fragment")
    c.drop(raw_ip6(cl, 44, bytes([6, 0, 0x05, 0x38, 0, 0, 0, 9]) + tcp[:16]), "ip-fragment")
    c.drop(syn6_with(cl, 47206, IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=9)), "ip-fragment")
    c.count("conns-new", len(good))
    return c


def case_ip6_malformed(C, S):
    C6, S6 = make_hosts6()
    c = Case("ip6_malformed", "malformed IPv6 (truncated, bad version or length, short L4, "
             "unknown next header) and martian sources are dropped; a good SYN passes",
             svc_rules6("rr", "tcp", 80, S6[:1], "-m", 8080), C6 + S6, port_opts=[PORT6])
    cl = C6[0]
    syn = tcp6_syn(cl, 48000)
    c.drop(syn[:14 + 30], "ip-truncated")
    c.drop(syn[:14] + b"\x40" + syn[15:], "ip-bad-version")
    c.drop(syn[:18] + struct.pack("!H", 21) + syn[20:], "ip-bad-len")
    tcp = syn[14 + 40:]
    c.drop(raw_ip6(cl, 6, tcp[:10]), "l4-truncated")
    c.drop(raw_ip6(cl, 6, tcp[:12] + bytes([0xF0]) + tcp[13:]), "l4-truncated")
    c.drop(raw_ip6(cl, 17, struct.pack("!HHHH", 48001, 53, 40, 0) + b"short"), "l4-truncated")
    c.drop(raw_ip6(cl, 58, b"\x80\x00\x00"), "l4-truncated")
    c.drop(raw_ip6(cl, 59, b""), "l4-unsupported")
    c.drop(raw_ip6(cl, 47, b"\x00\x00\x86\xdd" + bytes(20)), "l4-unsupported")
    v4_58 = concrete(Ether(src=C[0].mac, dst=LB_MAC)
                     / IP(src=C[0].ip, dst=VIP, id=C[0].next_id(), proto=58)
                     / Raw(icmp6_msg(LB6, VIP6, 128, 0, 0, b"v4")))
    c.drop(v4_58, "l4-unsupported")
    for src in ("ff02::1", "::1", "ff05::2"):
        c.drop(tcp6_syn(cl, 48002, src=src), "ip-bad-addr", good=True)
    c.drop(tcp6_syn(cl, 48003, dport=81), "no-vip", good=True)
    c.drop(tcp6_syn(cl, 48004, dst=NOBODY6), "no-vip", good=True)
    c.drop(udp6_c2v(cl, 48005, 80, b"udp to a tcp-only vip"), "no-vip", good=True)
    rs = icmp6_frame(cl.mac, "33:33:00:00:00:02", cl.ip, "ff02::2",
                     icmp6_msg(cl.ip, "ff02::2", 133, 0, 0, nd_opt(1, cl.mac)), hlim=255)
    c.drop(rs, "no-vip", good=True)
    c.drop(tcp6_syn(cl, 48006, flags="A"), "tcp-not-syn", good=True)
    c.drop(tcp6_syn(cl, 48007, eth_dst="02:00:00:00:00:99"), "l2-not-ours", good=True)
    f = TcpFlow6(C6[1], 48100, S6[0], 8080, isn=13000)
    c.step(*f.c2v("S"))
    c.count("conns-new", 1)
    return c


STEER_SEED = 42


def case_nat_two_queues(C, S):
    c = Case("nat_two_queues", "NAT over two workers: replies on the other queue, new flows handed over",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080), C + S,
             dp_opts=[f"steering_seed = {STEER_SEED}", "idle_sleep_us = 20"], workers=2)
    # Flow a is owned by worker 0 (the client's address and port, dp_steer.h): its client's
    # packets come in on queue 0 and stay; the real server's replies come in on queue 1 and
    # worker 1 hands them to worker 0, which sends them after its own queue's frames. Flow b
    # is owned by worker 1 but comes in entirely on queue 0: worker 0 hands every frame over,
    # in order, and worker 1 sends them on its TX queue.
    port_a = next(p for p in range(41000, 42000) if steer_owner4(STEER_SEED, 2, C[0].ip, p) == 0)
    port_b = next(p for p in range(42000, 43000) if steer_owner4(STEER_SEED, 2, C[1].ip, p) == 1)
    a = TcpFlow(C[0], port_a, S[0], 8080, isn=1000)
    b = TcpFlow(C[1], port_b, S[0], 8080, isn=2000)
    c.step(*a.c2v("S", options=[("MSS", 1460)]))
    c.step(*b.c2v("S", options=[("MSS", 1460)]), q_out=1)
    c.count("handoff-out")
    replies = []
    for side, flags, payload in [("s", "SA", b""), ("c", "A", b""),
                                 ("c", "PA", b"GET / HTTP/1.0\r\n\r\n"),
                                 ("s", "PA", b"HTTP/1.0 200 OK\r\n\r\nhello"), ("c", "A", b"")]:
        if side == "c":
            c.step(*a.c2v(flags, payload))
        else:
            replies.append(a.s2c(flags, payload))
        c.step(*(b.c2v(flags, payload) if side == "c" else b.s2c(flags, payload)), q_out=1)
        c.count("handoff-out")
    for frame_in, frame_out in replies:
        c.step(frame_in, frame_out, q_in=1)
        c.count("handoff-out")
    c.count("handoff-in", c.counters["handoff-out"])
    c.count("conns-new", 2)
    return c


def case_nat_port_reuse_workers(C, S):
    c = Case("nat_port_reuse_workers", "a client port reused towards a persistent service of the "
             "same server, its connection on another worker: the SYN-ACK goes there",
             svc_rules("rr", "tcp", 80, S[:1], "-m", 8080)
             + [f"-A -t {VIP}:81 -s rr -p 300", f"-a -t {VIP}:81 -r {S[0].ip}:8080 -m -w 1"], C + S,
             dp_opts=[f"steering_seed = {STEER_SEED}", "idle_sleep_us = 20"], workers=2)
    # A client whose address (the persistent service's prefix, /32) worker 1 owns, and a port of
    # it that worker 0 owns: the non-persistent connection to :80 lives on worker 0 and closes
    # (TIME_WAIT there); the same port to :81 belongs to worker 1, where NAT gives it the same
    # tuple at the server. Everything comes in on queue 0. The server's SYN-ACK finds the
    # closed entry on worker 0, which ends it and hands the SYN-ACK on to worker 1.
    client = next(h for h in C if steer_owner4_prefix(STEER_SEED, 2, h.ip) == 1)
    port = next(p for p in range(43000, 44000) if steer_owner4(STEER_SEED, 2, client.ip, p) == 0)
    first = TcpFlow(client, port, S[0], 8080, vport=80, isn=1000)
    for side, flags, payload in [("c", "S", b""), ("s", "SA", b""), ("c", "A", b""),
                                 ("c", "PA", b"GET / HTTP/1.0\r\n\r\n"),
                                 ("s", "PA", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                                 ("s", "FA", b""), ("c", "FA", b""), ("s", "A", b"")]:
        c.step(*(first.c2v(flags, payload) if side == "c" else first.s2c(flags, payload)))
    again = TcpFlow(client, port, S[0], 8080, vport=81, isn=9000)
    c.step(*again.c2v("S"), q_out=1)
    c.step(*again.s2c("SA"), q_out=1)
    c.step(*again.c2v("A"), q_out=1)
    c.count("handoff-out", 3)
    c.count("handoff-in", 3)
    c.count("conns-new", 2)
    return c


CASES6 = [case_tcp6_nat, case_udp6_nat, case_tcp6_dr, case_persist6, case_sctp6_nat, case_tun6_ipip, case_tun6_gue,
          case_tun_4in6, case_tun_6in4, case_nd_ns, case_nd_dad, case_nd_learn, case_nd_resolve,
          case_nd_malformed, case_icmp6_echo, case_tun6_too_big, case_tun6_too_big_min,
          case_icmp6_err_nat_reply, case_icmp6_err_client_side, case_icmp6_err_bad,
          case_ip6_ext, case_ip6_malformed]


CASES = [case_tcp_nat, case_nat_port_reuse, case_udp_nat, case_tcp_dr, case_arp_vip, case_arp_port_addr,
         case_arp_not_ours, case_arp_learn, case_arp_bad_sender, case_arp_resolve, case_icmp_echo_vip,
         case_icmp_echo_addr, case_no_vip, case_martian_src, case_frame_hygiene, case_ttl_expiry, case_hostile_drops, case_table_full,
         case_dest_removed, case_dest_removed_expire, case_neigh_unresolved, case_neigh_table_full,
         case_tcp_not_syn, case_tcp_sloppy, case_mh_midflow, case_mh_midflow_off, case_persist, case_persist_mask,
         case_persist_port0, case_udp_ops, case_sctp_nat, case_wrr, case_fwmark, case_malformed,
         case_tun_ipip, case_tun_gue, case_tun_gue_csum, case_tun_src_prefix, case_tun_too_big,
         case_icmp_err_nat_reply, case_icmp_err_relay, case_icmp_err_client_side, case_icmp_err_bad,
         case_nat_two_queues, case_nat_port_reuse_workers] + CASES6


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
