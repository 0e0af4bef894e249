#!/usr/bin/python3
"""Tests the golden harness itself, without any xvs binary: the committed cases are what
gen_cases.py writes today, each case's expected output passes the checker, and the checker
fails on a missing, extra or altered frame, on a bad checksum, and on wrong counters.

usage: selftest.py        (exit 0 pass, 1 fail; prints 'N passed, N failed')
"""

import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from check_case import check_case, extra_queues, parse_expect, tshark_checksums  # noqa: E402
from golden_pcap import (ipv4_header_csum, ones_sum, read_pcap, verify_checksums,  # noqa: E402
                         write_pcap)

CASES_DIR = os.path.join(HERE, "cases")
results = {"passed": 0, "failed": 0}


def expect_true(cond, what):
    results["passed" if cond else "failed"] += 1
    if not cond:
        print(f"FAIL: {what}")


def case_names():
    return sorted(d for d in os.listdir(CASES_DIR) if os.path.isdir(os.path.join(CASES_DIR, d)))


def summary_for(case_dir, **override):
    """An exit summary as the dataplane would print it for a correct run of the case."""
    with open(os.path.join(case_dir, "expect")) as f:
        want = parse_expect(f.read())
    want.update(override)
    lines = [f"xvs-dataplane: stats rx={want.pop('rx')} tx={want.pop('tx')}"]
    lines += [f"xvs-dataplane: {k} {v}" for k, v in want.items()]
    return "\n".join(lines) + "\n"


def test_regenerates_identically():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cases")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_cases.py"), "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        expect_true(sorted(os.listdir(out)) == case_names(),
                    "gen_cases.py writes exactly the committed case directories")
        for name in sorted(os.listdir(out)):
            for fname in sorted(os.listdir(os.path.join(out, name))):
                with open(os.path.join(out, name, fname), "rb") as a:
                    fresh = a.read()
                committed = os.path.join(CASES_DIR, name, fname)
                same = os.path.exists(committed) and open(committed, "rb").read() == fresh
                expect_true(same, f"{name}/{fname} is what gen_cases.py writes (regenerate?)")


def test_meson_lists_every_case():
    with open(os.path.join(HERE, "meson.build")) as f:
        listed = set(re.findall(r"'(\w+)'", f.read()))
    for name in case_names():
        expect_true(name in listed, f"tests/golden/meson.build runs case {name}")


def queue_outputs(d):
    """The expected frames of the case's extra TX queues (several workers), by queue."""
    return {q: read_pcap(os.path.join(d, f"expected{q}.pcap")) for q in extra_queues(d)}


def test_expected_passes(name):
    d = os.path.join(CASES_DIR, name)
    frames = read_pcap(os.path.join(d, "expected.pcap"))
    errors = check_case(d, frames, summary_for(d), queue_outputs(d))
    expect_true(not errors, f"{name}: expected.pcap as output passes: {errors[:3]}")


def test_checker_catches_queues(name):
    """Several workers: a frame missing from, or moved between, extra TX queues fails."""
    d = os.path.join(CASES_DIR, name)
    queues = queue_outputs(d)
    frames = read_pcap(os.path.join(d, "expected.pcap"))
    for q, got in queues.items():
        if not got:
            continue
        moved = dict(queues)
        moved[q] = got[:-1]
        expect_true(bool(check_case(d, frames, summary_for(d), moved)),
                    f"{name}: checker catches a frame missing on TX queue {q}")
        expect_true(bool(check_case(d, frames + got[-1:], summary_for(d), moved)),
                    f"{name}: checker catches a frame sent on queue 0 instead of {q}")
        expect_true(bool(check_case(d, frames, summary_for(d), {})),
                    f"{name}: checker catches a missing TX queue {q} output")


def test_checker_catches(name):
    d = os.path.join(CASES_DIR, name)
    frames = read_pcap(os.path.join(d, "expected.pcap"))
    good = summary_for(d)

    queues = queue_outputs(d)

    def fails(out, summary, what):
        expect_true(bool(check_case(d, out, summary, queues)), f"{name}: checker catches {what}")

    fails(frames[:-1], good, "a missing frame")
    fails(frames + [frames[0]], good, "an extra frame")
    fails(frames[1:] + frames[:1] if len(frames) > 1 else [], good, "reordered frames")
    flipped = bytearray(frames[-1])
    flipped[-1] ^= 0x01
    fails(frames[:-1] + [bytes(flipped)], good, "a changed byte")
    fails(frames, good.replace("xvs-dataplane: stats", "xvs-dataplane: nothing"),
          "a missing exit summary")
    fails(frames, good + "xvs-dataplane: drop no-route 1\n", "an unexpected drop")
    with open(os.path.join(d, "expect")) as f:
        want = parse_expect(f.read())
    for key in want:
        fails(frames, summary_for(d, **{key: want[key] + 1}), f"a wrong '{key}' counter")


def ipv4_frames():
    """Every IPv4 frame of every case's expected output."""
    for name in case_names():
        for frame in read_pcap(os.path.join(CASES_DIR, name, "expected.pcap")):
            if frame[12:14] == b"\x08\x00":
                yield name, frame


def test_checksum_verifier():
    protos = set()
    for name, frame in ipv4_frames():
        expect_true(not verify_checksums(frame), f"{name}: a good frame verifies")
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[14 + 9]
        protos.add(proto)
        b = bytearray(frame)
        b[24] ^= 0xFF
        expect_true(bool(verify_checksums(bytes(b))), f"{name}: a bad IPv4 checksum is caught")
        # Change the L4 checksum (IPIP: the inner header's) but keep the IPv4 header valid.
        off = 14 + ihl + {6: 16, 17: 6, 1: 2, 4: 10, 132: 8}[proto]
        b = bytearray(frame)
        b[off] ^= 0x10
        expect_true(bool(verify_checksums(bytes(b))),
                    f"{name}: a bad L4 checksum (proto {proto}) is caught")
        if proto in (1, 4, 132) or (proto == 17 and frame[14 + ihl + 6:14 + ihl + 8] == b"\0\0"):
            continue  # no L4 checksum over the addresses (ICMP, IPIP, SCTP, UDP without one)
        # Rewrite an address without fixing the L4 checksum: what a forgetful NAT does.
        b = bytearray(frame)
        b[30:34] = bytes([198, 18, 0, 99])
        b[24:26] = struct.pack("!H", ipv4_header_csum(b[14:14 + ihl]))
        expect_true(bool(verify_checksums(bytes(b))),
                    f"{name}: a stale L4 checksum after an address rewrite (proto {proto}) "
                    "is caught")
    if shutil.which("tshark"):  # the second opinion must also be able to say no
        for name in case_names():
            path = os.path.join(CASES_DIR, name, "expected.pcap")
            expect_true(not tshark_checksums(path), f"{name}: tshark finds the checksums good")
        with tempfile.TemporaryDirectory() as tmp:
            frames = read_pcap(os.path.join(CASES_DIR, "tcp_nat", "expected.pcap"))
            bad = bytearray(frames[0])
            bad[14 + 20 + 16] ^= 0x10
            path = os.path.join(tmp, "bad.pcap")
            write_pcap(path, [frames[1], bytes(bad)])
            expect_true(tshark_checksums(path) == ["frame 1: tshark: tcp.checksum.status is bad"],
                        f"tshark catches a bad TCP checksum: {tshark_checksums(path)}")
    expect_true(protos == {1, 4, 6, 17, 132},
                f"the cases cover ICMP, IPIP, TCP, UDP and SCTP output: {protos}")
    test_nested_checksums()


def with_icmp_csum(b, ihl):
    """b (bytearray of a frame) with its ICMP checksum recomputed."""
    tot = struct.unpack("!H", b[16:18])[0]
    icmp = 14 + ihl
    b[icmp + 2:icmp + 4] = b"\0\0"
    b[icmp + 2:icmp + 4] = struct.pack("!H", ~ones_sum(bytes(b[icmp:14 + tot])) & 0xFFFF)
    return bytes(b)


def test_nested_checksums():
    """What a tunnel carries and what an ICMP error quotes is checked too: a bad inner or
    quoted checksum is caught although the outer ones are right."""
    kinds = set()
    for name, frame in ipv4_frames():
        ihl = (frame[14] & 0x0F) * 4
        proto, l4 = frame[14 + 9], 14 + ihl
        b = bytearray(frame)
        if proto == 4:
            b[l4 + 20 + 16 if frame[l4 + 9] == 6 else l4 + 10] ^= 0x10  # inner TCP/IP checksum
            kinds.add("ipip")
        elif proto == 17 and frame[l4 + 8:l4 + 12] == b"\x00\x04\x00\x00":
            b[l4 + 12 + 10] ^= 0x10  # inner IPv4 header checksum
            if frame[l4 + 6:l4 + 8] != b"\0\0":
                continue  # the outer UDP checksum would catch it anyway
            kinds.add("gue")
        elif proto == 1 and frame[l4] in (3, 11):
            b[l4 + 8 + 10] ^= 0x10  # quoted IPv4 header checksum, ICMP checksum redone
            b = bytearray(with_icmp_csum(b, ihl))
            kinds.add("icmp quote")
        else:
            continue
        expect_true(bool(verify_checksums(bytes(b))),
                    f"{name}: a bad checksum inside the packet is caught")
    expect_true(kinds == {"ipip", "gue", "icmp quote"},
                f"the cases have IPIP, GUE and ICMP-error output: {kinds}")


def main():
    test_regenerates_identically()
    test_meson_lists_every_case()
    for name in case_names():
        test_expected_passes(name)
        test_checker_catches(name)
        test_checker_catches_queues(name)
    test_checksum_verifier()
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
