"""Pcap files and checksums for the golden cases, written from scratch so that the checks
do not depend on xvs, on a scapy version's pcap writer, or on each other's mistakes."""

import struct

# Fixed capture clock for generated files: regenerating a case must give identical bytes.
PCAP_T0 = 1700000000
PCAP_SNAPLEN = 65535
LINKTYPE_ETHERNET = 1

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",  # microseconds, little endian
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",  # nanoseconds (DPDK's net_pcap writes these)
    b"\xa1\xb2\x3c\x4d": ">",
}


def write_pcap(path, frames):
    """Write frames (bytes) to a classic Ethernet pcap, one millisecond apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, PCAP_SNAPLEN,
                            LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", PCAP_T0 + i // 1000, (i % 1000) * 1000,
                                len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """Return the frames of a pcap file as a list of bytes; timestamps are ignored.
    Raises ValueError on anything but a whole, untruncated Ethernet capture."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes, not a pcap file")
    order = _MAGICS.get(data[:4])
    if order is None:
        raise ValueError(f"{path}: unknown pcap magic {data[:4].hex()}")
    linktype = struct.unpack(order + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    frames, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError(f"{path}: truncated record header at offset {off}")
        _, _, caplen, origlen = struct.unpack(order + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError(f"{path}: truncated record at offset {off}")
        if caplen != origlen:
            raise ValueError(f"{path}: frame {len(frames)} captured {caplen} of {origlen} bytes")
        frames.append(data[off:off + caplen])
        off += caplen
    return frames


def ones_sum(data):
    """16-bit ones' complement sum (RFC 1071), folded, of data padded to even length."""
    if len(data) % 2:
        data = data + b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ipv4_header_csum(header):
    """The checksum field value for an IPv4 header (its checksum bytes are ignored)."""
    h = bytes(header[:10]) + b"\x00\x00" + bytes(header[12:])
    return (~ones_sum(h)) & 0xFFFF


ICMP_ERRORS = (3, 4, 5, 11, 12)   # the ICMP types that quote a datagram
ICMP6_ERRORS = (1, 2, 3, 4)        # the ICMPv6 types that quote a packet
GUE_V0_IPIP = b"\x00\x04\x00\x00"  # a 4-byte GUE header, variant 0, protocol 4
GUE_V0_IPV6 = b"\x00\x29\x00\x00"  # the same carrying IPv6 (protocol 41)
IP6_EXT = (0, 43, 60)              # hop-by-hop, routing, destination options


def _crc32c(data):
    """CRC32-C (Castagnoli, reflected 0x82F63B78), register started at ~0 and inverted at
    the end: SCTP's checksum (RFC 9260, Appendix A)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _sctp_problem(l4, where):
    """SCTP: the CRC32c over the packet with the checksum field zeroed, stored least
    significant byte first (as Linux stores it). None when it verifies."""
    if len(l4) < 16:
        return where + "SCTP header truncated"
    want = _crc32c(l4[:8] + b"\0\0\0\0" + l4[12:])
    if struct.unpack("<I", l4[8:12])[0] != want:
        return where + "SCTP CRC32c 0x%08x, should be 0x%08x" % (
            struct.unpack("<I", l4[8:12])[0], want)
    return None


def verify_checksums(frame):
    """Check an Ethernet frame's IPv4 header checksum and its TCP/UDP/ICMP/SCTP checksum from
    scratch, and the same of what it carries: the inner packet of an IPIP or GUE tunnel
    and the datagram an ICMP error quotes (its IP header, and its TCP/UDP checksum when
    the quote holds all of it). Returns a list of problems (empty when the frame is fine
    or neither IPv4 nor IPv6). IPv6 the same way: TCP, UDP (which must have a checksum) and
    ICMPv6 checksums over the IPv6 pseudo-header, tunnels in either family, ICMPv6 quotes."""
    if len(frame) < 14:
        return []
    if frame[12:14] == b"\x08\x00":
        return _verify_ipv4(frame[14:], "", quoted=False)
    if frame[12:14] == b"\x86\xdd":
        return _verify_ipv6(frame[14:], "", quoted=False)
    return []


def _verify_ipv4(ip, where, quoted):
    """Problems of one IPv4 packet; `where` prefixes them ("inner ", "quoted "). A quoted
    datagram may be cut short: then only what it holds in full is checked."""
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return [] if quoted else [where + "IPv4 frame without a valid IPv4 header"]
    ihl = (ip[0] & 0x0F) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    if ihl < 20 or len(ip) < ihl or tot < ihl or (tot > len(ip) and not quoted):
        return [where + f"IPv4 header lengths inconsistent (ihl {ihl}, total {tot}, "
                f"have {len(ip)})"]
    problems = []
    if ones_sum(ip[:ihl]) != 0xFFFF:
        problems.append(where + "IPv4 header checksum 0x%04x, should be 0x%04x"
                        % (struct.unpack("!H", ip[10:12])[0], ipv4_header_csum(ip[:ihl])))
    if tot > len(ip):
        return problems  # a quote of the header and the first bytes: nothing else to sum
    frag = struct.unpack("!H", ip[6:8])[0]
    if frag & 0x3FFF:
        return problems + [where + "IPv4 fragment in the output"]
    proto, l4 = ip[9], ip[ihl:tot]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(l4))
    if proto == 6:
        if len(l4) < 20:
            problems.append(where + "TCP header truncated")
        elif ones_sum(pseudo + l4) != 0xFFFF:
            problems.append(where + "TCP checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[16:18]))
    elif proto == 17:
        if len(l4) < 8:
            problems.append(where + "UDP header truncated")
        elif struct.unpack("!H", l4[4:6])[0] != len(l4):
            problems.append(where + "UDP length field disagrees with the IPv4 total length")
        elif l4[6:8] != b"\x00\x00" and ones_sum(pseudo + l4) != 0xFFFF:
            # A zero UDP checksum means "none" (RFC 768); the byte comparison still
            # catches a zero where the expected frame has a checksum.
            problems.append(where + "UDP checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[6:8]))
        elif not where and l4[8:12] == GUE_V0_IPIP:
            problems += _verify_ipv4(l4[12:], "inner ", quoted=False)
        elif not where and l4[8:12] == GUE_V0_IPV6:
            problems += _verify_ipv6(l4[12:], "inner ", quoted=False)
    elif proto == 1:
        if len(l4) < 8:
            problems.append(where + "ICMP header truncated")
        elif ones_sum(l4) != 0xFFFF:
            problems.append(where + "ICMP checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[2:4]))
        elif l4[0] in ICMP_ERRORS and "quoted" not in where:
            problems += _verify_ipv4(l4[8:], where + "quoted ", quoted=True)
    elif proto == 132:
        bad = _sctp_problem(l4, where)
        if bad:
            problems.append(bad)
    elif proto == 4 and not where:
        problems += _verify_ipv4(l4, "inner ", quoted=False)
    elif proto == 41 and not where:
        problems += _verify_ipv6(l4, "inner ", quoted=False)
    return problems


def _ip6_l4(ip, end):
    """(protocol, offset) of the upper-layer header of an IPv6 packet, past its extension
    headers; protocol 44 for a fragment, None when the chain runs past `end`."""
    nh, off = ip[6], 40
    while nh in IP6_EXT:
        if off + 8 > end:
            return None, off
        nh, off = ip[off], off + (ip[off + 1] + 1) * 8
    return (nh, off) if off <= end else (None, off)


def _verify_ipv6(ip, where, quoted):
    """Problems of one IPv6 packet (see _verify_ipv4). There is no header checksum: what is
    checked is the payload length and the upper-layer checksum over the pseudo-header."""
    if len(ip) < 40 or ip[0] >> 4 != 6:
        return [] if quoted else [where + "IPv6 frame without a valid IPv6 header"]
    end = 40 + struct.unpack("!H", ip[4:6])[0]
    if end > len(ip):
        # a quote of the packet's first bytes: nothing to sum
        return [] if quoted else [where + f"IPv6 payload length {end - 40} exceeds the "
                                  f"{len(ip) - 40} bytes present"]
    if end < len(ip) and not quoted:
        return [where + f"{len(ip) - end} bytes after the IPv6 payload"]
    proto, off = _ip6_l4(ip, end)
    if proto is None:
        return [where + "IPv6 extension headers run past the payload"]
    if proto == 44:
        return [where + "IPv6 fragment in the output"]
    l4 = ip[off:end]
    pseudo = ip[8:40] + struct.pack("!IxxxB", len(l4), proto)
    problems = []
    if proto == 6:
        if len(l4) < 20:
            problems.append(where + "TCP header truncated")
        elif ones_sum(pseudo + l4) != 0xFFFF:
            problems.append(where + "TCP checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[16:18]))
    elif proto == 17:
        if len(l4) < 8:
            problems.append(where + "UDP header truncated")
        elif struct.unpack("!H", l4[4:6])[0] != len(l4):
            problems.append(where + "UDP length field disagrees with the IPv6 payload length")
        elif l4[6:8] == b"\x00\x00":
            problems.append(where + "UDP over IPv6 without a checksum (RFC 8200 8.1)")
        elif ones_sum(pseudo + l4) != 0xFFFF:
            problems.append(where + "UDP checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[6:8]))
        elif not where and l4[8:12] == GUE_V0_IPIP:
            problems += _verify_ipv4(l4[12:], "inner ", quoted=False)
        elif not where and l4[8:12] == GUE_V0_IPV6:
            problems += _verify_ipv6(l4[12:], "inner ", quoted=False)
    elif proto == 58:
        if len(l4) < 8:
            problems.append(where + "ICMPv6 header truncated")
        elif ones_sum(pseudo + l4) != 0xFFFF:
            problems.append(where + "ICMPv6 checksum 0x%04x does not verify"
                            % struct.unpack("!H", l4[2:4]))
        elif l4[0] in ICMP6_ERRORS and "quoted" not in where:
            problems += _verify_ipv6(l4[8:], where + "quoted ", quoted=True)
    elif proto == 132:
        bad = _sctp_problem(l4, where)
        if bad:
            problems.append(bad)
    elif proto == 4 and not where:
        problems += _verify_ipv4(l4, "inner ", quoted=False)
    elif proto == 41 and not where:
        problems += _verify_ipv6(l4, "inner ", quoted=False)
    return problems
