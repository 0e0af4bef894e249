#!/usr/bin/python3
"""Stand in for systemd's notification socket (sd_notify(3)): bind a datagram socket at SOCK
and append each message to OUT as "pid=PID STATE... check=RESULT", PID being the sender's
(from its credentials). CHECK is looked at when READY=1 arrives, to prove what was ready:
a Unix stream socket must accept a connection ("check=listening"), a regular file's contents
are written ("check=<first line>"), anything else gives "check=absent".
Usage: notify_listen.py SOCK OUT CHECK"""
import os
import socket
import struct
import sys

path, out, check = sys.argv[1:4]


def look(p):
    try:
        if os.path.isfile(p):
            with open(p) as f:
                return f.readline().strip() or "empty"
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(p)
        c.close()
        return "listening"
    except OSError:
        return "absent"


s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
with open(out, "a") as f:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        states = msg.decode(errors="replace").split("\n")
        line = "pid=%d %s" % (pid, " ".join(x for x in states if x))
        if "READY=1" in states:
            line += " check=" + look(check)
        f.write(line + "\n")
        f.flush()
