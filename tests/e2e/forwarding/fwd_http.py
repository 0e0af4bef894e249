#!/usr/bin/python3
"""A real server for the DR and TUN end-to-end tests, listening on every address (the VIP
is on its loopback): GET answers the server's name; PUT or POST answers
"<name> <bytes received> <sha256 of the body>", so an upload through the VIP can be
checked end to end.

Usage: fwd_http.py NAME PORT. It listens on IPv6 and IPv4 (one dual-stack socket). Each
request is logged to stderr as "<client address> <method>" (an IPv4 client as its dotted
quad): in DR and TUN the server must see the client's own address.
"""
import hashlib
import http.server
import socket
import socketserver
import sys

CHUNK = 65536


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, text):
        body = (text + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(self.server.rs_name)

    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        digest, got = hashlib.sha256(), 0
        while left > 0:
            chunk = self.rfile.read(min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            got += len(chunk)
            left -= len(chunk)
        self.reply("%s %d %s" % (self.server.rs_name, got, digest.hexdigest()))

    do_POST = do_PUT

    def log_message(self, fmt, *args):
        client = self.client_address[0]
        if client.startswith("::ffff:"):  # IPv4 through the dual-stack socket
            client = client[len("::ffff:"):]
        sys.stderr.write("%s %s\n" % (client, self.command))
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # HTTPServer.server_bind would look the address up in DNS, which has no server here.
        socketserver.TCPServer.server_bind(self)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fwd_http.py NAME PORT")
    srv = Server(("::", int(sys.argv[2])), Handler)
    srv.rs_name = sys.argv[1]
    srv.serve_forever()


if __name__ == "__main__":
    main()
