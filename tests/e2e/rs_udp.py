#!/usr/bin/python3
"""A real server's UDP service for the e2e tests: answers every datagram with its name.

Usage: rs_udp.py NAME ADDR PORT. One process, one socket, every datagram answered (a
fork-per-datagram server can lose the race between the datagram and its child's exit).
"""
import socket
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: rs_udp.py NAME ADDR PORT")
    name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    answer = (name + "\n").encode()
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(answer, peer)


if __name__ == "__main__":
    main()
