#!/usr/bin/python3
"""A TCP echo server and its client, for a session with the host's own address.

Usage:
  tcp_echo.py server ADDR PORT        echo every connection's bytes back until it closes
  tcp_echo.py client ADDR PORT BYTES CHUNK PAUSE_MS
                                      send BYTES pseudo-random bytes in CHUNK-byte writes,
                                      PAUSE_MS apart (an interactive session's pace), read
                                      them all back, and print "echoed BYTES sha256" when the
                                      bytes that came back are the bytes sent, else fail

The client gives up after 30 s without progress (the socket's timeout) and exits 1.
"""
import hashlib
import os
import socket
import sys
import threading
import time


def serve(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    print(f"listening on {addr}:{port}", flush=True)
    while True:
        c, peer = ls.accept()
        print(f"connection from {peer[0]}:{peer[1]}", flush=True)
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def echo(c):
    with c:
        while True:
            data = c.recv(65536)
            if not data:
                return
            c.sendall(data)


def client(addr, port, nbytes, chunk, pause_ms):
    data = os.urandom(nbytes)
    s = socket.create_connection((addr, port), timeout=30)
    got = bytearray()

    def reader():
        while len(got) < nbytes:
            b = s.recv(65536)
            if not b:
                return
            got.extend(b)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    for off in range(0, nbytes, chunk):
        s.sendall(data[off:off + chunk])
        if pause_ms:
            time.sleep(pause_ms / 1000)
    t.join(30)
    s.close()
    if bytes(got) != data:
        print(f"mismatch: sent {nbytes} bytes, got {len(got)} back", flush=True)
        return 1
    print(f"echoed {nbytes} {hashlib.sha256(data).hexdigest()}", flush=True)
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "server":
        serve(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 7 and sys.argv[1] == "client":
        return client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                      int(sys.argv[6]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
