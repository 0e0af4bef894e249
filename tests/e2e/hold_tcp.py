#!/usr/bin/python3
"""Open a TCP connection to HOST:PORT, print its local port, and hold it open SECONDS.

Usage: hold_tcp.py HOST PORT SECONDS. Nothing is sent: the handshake alone makes the
connection ESTABLISHED, and the real server (rs_http.py) waits for a request that never
comes, so neither side closes it until the time is up.
"""
import socket
import sys
import time


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: hold_tcp.py HOST PORT SECONDS")
    host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.create_connection((host, port), timeout=5)
    print(s.getsockname()[1], flush=True)
    time.sleep(secs)
    s.close()


if __name__ == "__main__":
    main()
