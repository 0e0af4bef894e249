#!/usr/bin/python3
"""Long-lived flows for the dataplane restart test: a slow TCP download and a numbered UDP stream.

Usage:
  slow_stream.py tcp-server NAME ADDR PORT BYTES RATE
        every connection gets BYTES pseudo-random bytes (seed 7) at RATE bytes/s, then a close
  slow_stream.py tcp-client ADDR PORT BYTES PROGRESS
        download, writing the bytes received so far to the file PROGRESS as they come; print
        "bytes N sha256 OK|BAD" at the end (OK: exactly the server's BYTES bytes)
  slow_stream.py udp-server NAME ADDR PORT
        answer every datagram with "NAME <its payload>"
  slow_stream.py udp-client ADDR PORT RATE STOPFILE PROGRESS
        one socket (one connection) sends datagrams numbered 0, 1, ... at RATE per second
        until the file STOPFILE exists, then waits 1 s for the last answers; writes the
        answers so far to PROGRESS; prints one JSON object: sent, answered, lost, the
        servers that answered, and the longest silence between two answers (gap_ms)
"""
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time

SEED = 7


def payload(n):
    return random.Random(SEED).randbytes(n)


def tcp_server(name, addr, port, nbytes, rate):
    data = payload(nbytes)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)

    def serve(c):
        chunk = max(1, rate // 50)  # 50 writes a second
        t0 = time.monotonic()
        sent = 0
        try:
            while sent < nbytes:
                n = c.send(data[sent:sent + chunk])
                sent += n
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            c.shutdown(socket.SHUT_WR)
            c.settimeout(30)
            while c.recv(4096):
                pass
        except OSError as e:
            print(f"{name}: connection ended after {sent} bytes: {e}", flush=True)
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def tcp_client(addr, port, nbytes, progress):
    s = socket.create_connection((addr, port), timeout=30)
    h = hashlib.sha256()
    got = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b)
        got += len(b)
        with open(progress + ".tmp", "w") as f:
            f.write(str(got))
        os.replace(progress + ".tmp", progress)
    s.close()
    ok = got == nbytes and h.hexdigest() == hashlib.sha256(payload(nbytes)).hexdigest()
    print(f"bytes {got} sha256 {'OK' if ok else 'BAD'}")


def udp_server(name, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        b, peer = s.recvfrom(2048)
        s.sendto(name.encode() + b" " + b, peer)


def udp_client(addr, port, rate, stopfile, progress):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.settimeout(0.2)
    answers = {}  # seq -> (server, time)
    servers = set()
    sent = 0
    done = threading.Event()

    def receive():
        last_note = 0
        while not done.is_set() or time.monotonic() < done_at[0]:
            try:
                b = s.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                continue  # ICMP errors while nothing forwards
            name, _, seq = b.decode().partition(" ")
            answers[int(seq)] = (name, time.monotonic())
            servers.add(name)
            if time.monotonic() - last_note > 0.05:
                last_note = time.monotonic()
                with open(progress + ".tmp", "w") as f:
                    f.write(str(len(answers)))
                os.replace(progress + ".tmp", progress)

    done_at = [float("inf")]
    t = threading.Thread(target=receive)
    t.start()
    t0 = time.monotonic()
    while not os.path.exists(stopfile):
        try:
            s.send(str(sent).encode())
        except OSError:
            pass
        sent += 1
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    done_at[0] = time.monotonic() + 1.0
    done.set()
    t.join()
    times = sorted(tm for _, tm in answers.values())
    gap = max((b - a for a, b in zip(times, times[1:])), default=0.0)
    print(json.dumps({"sent": sent, "answered": len(answers), "lost": sent - len(answers),
                      "servers": sorted(servers), "gap_ms": round(gap * 1000)}))


def main():
    a = sys.argv[1:]
    if a[:1] == ["tcp-server"] and len(a) == 6:
        tcp_server(a[1], a[2], int(a[3]), int(a[4]), int(a[5]))
    elif a[:1] == ["tcp-client"] and len(a) == 5:
        tcp_client(a[1], int(a[2]), int(a[3]), a[4])
    elif a[:1] == ["udp-server"] and len(a) == 4:
        udp_server(a[1], a[2], int(a[3]))
    elif a[:1] == ["udp-client"] and len(a) == 6:
        udp_client(a[1], int(a[2]), int(a[3]), a[4], a[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
