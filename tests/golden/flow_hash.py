"""xvs's per-flow choices for tunnels, written from the packet-path contract
(docs/dataplane.md, "Forwarding") so the golden cases can say which outer source address
and GUE source port a flow must get, without asking xvs.

The flow hash h of a client->VIP packet is CRC32-C (Castagnoli, reflected polynomial
0x82F63B78, no final inversion) over two 8-byte words, as DPDK's rte_hash_crc_8byte
computes it: first a = src << 32 | dst, then b = sport << 32 | dport << 16 | proto,
starting from 0x5a17c0de. Addresses and ports are the packet's network-order bytes read
as little-endian integers (x86), and each word is fed least significant byte first, so
a is the bytes dst, src and b is proto, 0, dport, sport, 0, 0. IPv6 (flow_hash6) starts
from 0x6a17c0de and feeds the 16 bytes of the source, the 16 of the destination, then b.
"""

import ipaddress
import struct

CRC32C_POLY = 0x82F63B78
FLOW_HASH_SEED = 0x5A17C0DE


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (CRC32C_POLY if c & 1 else 0)
        t.append(c)
    return t


_T = _table()


def crc32c_bytes(data, crc):
    """CRC32-C of data starting from crc, with neither initial nor final inversion."""
    for b in data:
        crc = (crc >> 8) ^ _T[(crc ^ b) & 0xFF]
    return crc


def crc32c_u64(x, crc):
    """rte_hash_crc_8byte(x, crc): the 8 bytes of x, least significant first."""
    return crc32c_bytes(struct.pack("<Q", x), crc)


def _le32(ip):
    return struct.unpack("<I", ipaddress.IPv4Address(ip).packed)[0]


def _le16(port):
    return struct.unpack("<H", struct.pack("!H", port))[0]


def flow_hash(src, dst, sport, dport, proto):
    """h of the client->VIP packet src:sport -> dst:dport (dotted quads, host-order ports)."""
    a = _le32(src) << 32 | _le32(dst)
    b = _le16(sport) << 32 | _le16(dport) << 16 | proto
    return crc32c_u64(b, crc32c_u64(a, FLOW_HASH_SEED))


def tunnel_src(prefix, h):
    """Outer source for hash h from tunnel_src = prefix ("P/len", len <= 30): the host part
    1 + h mod (2^(32-len) - 2) added to P, so never the network or broadcast address."""
    net = ipaddress.IPv4Network(prefix)
    assert net.prefixlen <= 30, "the contract covers prefixes up to /30"
    host = 1 + h % (net.num_addresses - 2)
    return str(net.network_address + host)


def gue_sport(h):
    """GUE's outer UDP source port for hash h: 49152 + a 14-bit mix of h."""
    return 0xC000 | ((h ^ (h >> 16)) & 0x3FFF)


FLOW_HASH6_SEED = 0x6A17C0DE


def flow_hash6(src, dst, sport, dport, proto):
    """h of an IPv6 client->VIP packet: CRC32-C from 0x6a17c0de over the source address's
    16 bytes, then the destination's (each address as two 8-byte words in packet order,
    which on x86 is just its bytes in order), then the same port/protocol word as IPv4."""
    h = crc32c_bytes(ipaddress.IPv6Address(src).packed, FLOW_HASH6_SEED)
    h = crc32c_bytes(ipaddress.IPv6Address(dst).packed, h)
    b = _le16(sport) << 32 | _le16(dport) << 16 | proto
    return crc32c_u64(b, h)


def flow_label(h):
    """The flow label of an IPv6 outer header for hash h: its low 20 bits."""
    return h & 0xFFFFF


# --- the worker that owns a connection (dataplane/dp_steer.h), with [dataplane] steering_seed

_M64 = (1 << 64) - 1


def _steer_mix(x):
    x ^= x >> 32
    x = (x * 0xD6E8FEB86659FD93) & _M64
    x ^= x >> 32
    x = (x * 0xD6E8FEB86659FD93) & _M64
    return x ^ (x >> 32)


def steer_owner4(seed, nb_workers, client_ip, client_port):
    """The owner worker of IPv4 client_ip:client_port when the secret comes from seed: the
    secret's first word is mix(seed ^ 0x243f6a8885a308d3); the hash is mix of the address
    (network-order bytes read little-endian) shifted left 16, OR the port (network-order
    bytes read little-endian), XOR that word; its high 32 bits scale onto the workers."""
    k0 = _steer_mix(seed ^ 0x243F6A8885A308D3)
    a = int.from_bytes(ipaddress.IPv4Address(client_ip).packed, "little")
    p = int.from_bytes(struct.pack("!H", client_port), "little")
    h = _steer_mix(((a << 16) | p) ^ k0)
    return ((h >> 32) * nb_workers) >> 32


def steer_owner4_prefix(seed, nb_workers, masked_ip):
    """The owner worker of a persistent service's IPv4 client prefix (the masked address):
    mix of the address (network-order bytes read little-endian) shifted left 16, XOR the
    secret's second word, mix(seed ^ 0x13198a2e03707344); scaled onto the workers as above."""
    k1 = _steer_mix(seed ^ 0x13198A2E03707344)
    a = int.from_bytes(ipaddress.IPv4Address(masked_ip).packed, "little")
    h = _steer_mix((a << 16) ^ k1)
    return ((h >> 32) * nb_workers) >> 32
