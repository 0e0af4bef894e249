#!/usr/bin/python3
"""Count the IPv4 packets and their IP bytes in a capture, per direction relative to HOST.

Usage: count_ip.py PCAP HOST. Prints "TO_PKTS TO_BYTES FROM_PKTS FROM_BYTES": packets whose
destination is HOST and packets whose source is HOST, bytes being the IP total length (what
xvs counts as InBytes/OutBytes).
"""
import sys

from scapy.all import IP, PcapReader


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: count_ip.py PCAP HOST")
    host = sys.argv[2]
    to_p = to_b = from_p = from_b = 0
    with PcapReader(sys.argv[1]) as r:
        for pkt in r:
            if IP not in pkt:
                continue
            ip = pkt[IP]
            if ip.dst == host:
                to_p += 1
                to_b += ip.len
            elif ip.src == host:
                from_p += 1
                from_b += ip.len
    print(to_p, to_b, from_p, from_b)


if __name__ == "__main__":
    main()
