#!/usr/bin/python3
"""Open a TCP connection to HOST:PORT, print its local port, and hold it open SECONDS.

Usage: hold_tcp.py HOST PORT SECONDS [rst]. Nothing is sent: the handshake alone makes the
connection ESTABLISHED, and the real server (rs_http.py) waits for a request that never
comes, so neither side closes it until the time is up. With "rst" the connection ends with
a reset (SO_LINGER 0) instead of a FIN, so that a load balancer forgets it within seconds.
"""
import socket
import struct
import sys
import time


def main():
    if len(sys.argv) not in (4, 5) or (len(sys.argv) == 5 and sys.argv[4] != "rst"):
        sys.exit("usage: hold_tcp.py HOST PORT SECONDS [rst]")
    host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.create_connection((host, port), timeout=5)
    print(s.getsockname()[1], flush=True)
    time.sleep(secs)
    if len(sys.argv) == 5:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


if __name__ == "__main__":
    main()
