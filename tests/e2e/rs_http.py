#!/usr/bin/python3
"""A real server for the end-to-end tests: answers every GET with its own name.

Usage: rs_http.py NAME ADDR PORT. Each request is logged to stderr as "<client address> GET"
so a test can check which client address reached the server (NAT must keep it).
GET /slow/N answers N numbered lines "NAME i", one every 50 ms: a download that stays
established for N / 20 seconds.
python's stock http.server would do, but its start-up looks up the bound address in DNS,
which takes the resolver's full timeout in a namespace without a name server.
"""
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
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
    if len(sys.argv) != 4:
        sys.exit("usage: rs_http.py NAME ADDR PORT")
    srv = Server((sys.argv[2], int(sys.argv[3])), Handler)
    srv.rs_name = sys.argv[1]
    srv.serve_forever()


if __name__ == "__main__":
    main()
