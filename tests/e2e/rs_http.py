#!/usr/bin/python3
"""A real server for the end-to-end tests: answers every GET with its own name.

Usage: rs_http.py NAME ADDR PORT [CONTROL_FILE]. Each request is logged to stderr as
"<client address> GET" so a test can check which client address reached the server (NAT
must keep it).
GET /slow/N answers N numbered lines "NAME i", one every 50 ms: a download that stays
established for N / 20 seconds.
CONTROL_FILE, while it exists, makes the server misbehave on every request: "503" answers
503 Service Unavailable, "hang" holds the connection without a word until the file goes
away (at most 30 s), then closes it. Health-check tests use it to take a server down.
python's stock http.server would do, but its start-up looks up the bound address in DNS,
which takes the resolver's full timeout in a namespace without a name server.
"""
import http.server
import sys
import time


def control(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except (OSError, TypeError):
        return ""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mode = control(self.server.control)
        if mode == "hang":
            deadline = time.monotonic() + 30
            while control(self.server.control) == "hang" and time.monotonic() < deadline:
                time.sleep(0.05)
            self.close_connection = True
            return
        if mode == "503":
            body = (self.server.rs_name + " 503\n").encode()
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/slow/"):
            return self.slow(int(self.path[len("/slow/"):]))
        body = (self.server.rs_name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def slow(self, n):
        lines = ["%s %d\n" % (self.server.rs_name, i) for i in range(n)]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(sum(len(x) for x in lines)))
        self.end_headers()
        for x in lines:
            self.wfile.write(x.encode())
            self.wfile.flush()
            time.sleep(0.05)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], self.command))
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        # Skip HTTPServer.server_bind: it only adds the DNS lookup of server_name.
        http.server.socketserver.TCPServer.server_bind(self)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: rs_http.py NAME ADDR PORT [CONTROL_FILE]")
    srv = Server((sys.argv[2], int(sys.argv[3])), Handler)
    srv.rs_name = sys.argv[1]
    srv.control = sys.argv[4] if len(sys.argv) == 5 else None
    srv.serve_forever()


if __name__ == "__main__":
    main()
