#!/usr/bin/python3
"""Long downloads for the scale-out tests: many TCP flows from one client, each one served by
one real server that numbers its lines, so that a flow that broke, stalled or changed
servers is seen.

Usage:
  ecmp_flows.py server NAME ADDR PORT LINES INTERVAL
        every connection gets LINES lines "NAME i\\n" (i = 0 .. LINES-1), one every INTERVAL
        seconds, then a close; logs "<client address> <client port>" per connection to stderr
  ecmp_flows.py client ADDR PORT FIRST_SPORT N LINES READY TIMEOUT
        N downloads at once, from source ports FIRST_SPORT .. FIRST_SPORT+N-1; once every one
        has its first line, writes READY (JSON: source port -> server name); at the end prints
        one JSON object per flow and line: sport, server, lines (received in order),
        complete (all LINES lines, in order, from one server), error
"""
import json
import os
import socket
import socketserver
import sys
import threading
import time


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sys.stderr.write("%s %d\n" % self.client_address[:2])
        sys.stderr.flush()
        srv = self.server
        try:
            for i in range(srv.lines):
                self.request.sendall(("%s %d\n" % (srv.name, i)).encode())
                time.sleep(srv.interval)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(name, addr, port, lines, interval):
    srv = Server((addr, port), Handler)
    srv.name, srv.lines, srv.interval = name, lines, interval
    srv.serve_forever()


class Flow:
    def __init__(self, sport):
        self.sport, self.server, self.lines, self.error = sport, None, 0, ""
        self.bad = False
        self.first = threading.Event()

    def run(self, addr, port, want, deadline):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", self.sport))
            s.settimeout(max(1.0, deadline - time.time()))
            s.connect((addr, port))
            buf = b""
            while time.time() < deadline:
                s.settimeout(max(0.1, deadline - time.time()))
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.line(line.decode(errors="replace"))
            else:
                self.error = "timed out"
            s.close()
        except OSError as e:
            self.error = str(e)
        if self.lines != want and not self.error:
            self.error = "closed after %d lines" % self.lines
        self.first.set()

    def line(self, text):
        name, _, num = text.partition(" ")
        if self.server is None:
            self.server = name
            self.first.set()
        if name != self.server or num != str(self.lines):
            self.bad = True
            self.error = self.error or "line %d was %r" % (self.lines, text)
        self.lines += 1


def client(addr, port, first_sport, n, want, ready, timeout):
    deadline = time.time() + timeout
    flows = [Flow(first_sport + i) for i in range(n)]
    threads = [threading.Thread(target=f.run, args=(addr, port, want, deadline)) for f in flows]
    for t in threads:
        t.start()
    for f in flows:
        f.first.wait(max(0.0, deadline - time.time()))
    tmp = ready + ".tmp"
    with open(tmp, "w") as out:
        json.dump({str(f.sport): f.server for f in flows}, out)
    os.rename(tmp, ready)
    for t in threads:
        t.join()
    for f in flows:
        print(json.dumps({"sport": f.sport, "server": f.server, "lines": f.lines,
                          "complete": f.lines == want and not f.bad and not f.error,
                          "error": f.error}))


def main():
    a = sys.argv[1:]
    if len(a) == 6 and a[0] == "server":
        serve(a[1], a[2], int(a[3]), int(a[4]), float(a[5]))
    elif len(a) == 8 and a[0] == "client":
        client(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6], float(a[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
