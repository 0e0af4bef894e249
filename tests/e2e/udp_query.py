#!/usr/bin/python3
"""Send COUNT UDP queries to HOST:PORT, each from a fresh socket, and print one answer per line.

Usage: udp_query.py HOST PORT COUNT [REPEAT]. With REPEAT, each socket sends REPEAT queries
one after the other (all of them belong to one connection and must reach one server).

A fresh socket means a fresh source port, so the load balancer sees a new connection and
schedules it. A query that gets no answer is re-sent up to three times on the same socket
(the same connection: the first packet towards a real server may wait on ARP resolution);
"TIMEOUT" is printed if it never gets one.
"""
import socket
import sys


def query(s, host, port, tries=3):
    for _ in range(tries):
        s.sendto(b"who\n", (host, port))
        try:
            data, _ = s.recvfrom(2048)
            return data.decode(errors="replace").strip() or "EMPTY"
        except socket.timeout:
            continue
    return "TIMEOUT"


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: udp_query.py HOST PORT COUNT [REPEAT]")
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    repeat = int(sys.argv[4]) if len(sys.argv) == 5 else 1
    # Keep every socket open to the end so that no source port (no connection) is reused.
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.0)
        socks.append(s)
        for _ in range(repeat):
            print(query(s, host, port), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
