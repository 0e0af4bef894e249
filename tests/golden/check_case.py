#!/usr/bin/python3
"""Judges one golden run: the dataplane's output pcap against the case's expected.pcap
(frame by frame, byte for byte, timestamps ignored), every output frame's checksums
recomputed from scratch, and the exit summary against the case's `expect` file.

usage: check_case.py CASE_DIR OUT_PCAP SUMMARY_FILE...   (exit 0 pass, 1 fail)

A case with two phases (two dataplane runs, run_case.sh) has a summary file per run: the
counters are their sums.

A case with several workers has a TX queue per worker and one for the main lcore: the output
of queue q (q >= 1) is out{q}.pcap beside OUT_PCAP and must equal expected{q}.pcap.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from golden_pcap import read_pcap, verify_checksums  # noqa: E402

SUMMARY_PREFIX = "xvs-dataplane: "
MAX_FRAME_REPORTS = 5   # enough to see a pattern without burying it


def dissect(frame):
    """scapy's dissection of a frame, or None when scapy cannot make sense of it."""
    import scapy.layers.inet  # noqa: F401  (binds IPv4/TCP/UDP/ICMP under Ethernet)
    import scapy.layers.inet6  # noqa: F401  (and IPv6/ICMPv6)
    from scapy.layers.l2 import Ether
    try:
        return Ether(frame)
    except Exception:
        return None


def describe(frame):
    """scapy's view of a frame, for humans reading a failure."""
    p = dissect(frame)
    return p.show(dump=True) if p is not None else "(scapy could not dissect it)\n"


def field_diff(expected, actual):
    """'Layer.field: expected X, got Y' for each dissected field that differs."""
    e, a = dissect(expected), dissect(actual)
    out = []
    while e is not None and a is not None and e.name == a.name:
        for f in e.fields_desc:
            ev, av = e.getfieldval(f.name), a.getfieldval(f.name)
            if ev == av:
                continue
            if f.name == "load":
                out.append(f"{e.name}.load: payload differs ({len(ev)} vs {len(av)} bytes)")
            else:
                out.append(f"{e.name}.{f.name}: expected {f.i2repr(e, ev)}, got {f.i2repr(a, av)}")
        e, a = e.payload or None, a.payload or None
    if (e is None) != (a is None) or (e is not None and e.name != a.name):
        out.append(f"layers differ: expected {e.name if e else 'nothing'}, "
                   f"got {a.name if a else 'nothing'}")
    return out


def hexdump(frame):
    return "\n".join("  %04x  %s" % (i, frame[i:i + 16].hex(" "))
                     for i in range(0, len(frame), 16))


def summary_line(frame):
    p = dissect(frame)
    return p.summary() if p is not None else frame[:32].hex()


def compare_frames(expected, actual):
    """Errors for every difference between the expected and actual frame lists."""
    errors, reported = [], 0
    for i in range(max(len(expected), len(actual))):
        if i >= len(actual):
            errors.append(f"frame {i}: missing; expected {len(expected[i])} bytes: "
                          f"{summary_line(expected[i])}")
            continue
        if i >= len(expected):
            errors.append(f"frame {i}: unexpected extra frame ({len(actual[i])} bytes): "
                          f"{summary_line(actual[i])}")
            continue
        e, a = expected[i], actual[i]
        if e == a:
            continue
        first = next((k for k in range(min(len(e), len(a))) if e[k] != a[k]), min(len(e), len(a)))
        msg = (f"frame {i}: differs (expected {len(e)} bytes, got {len(a)}; "
               f"first difference at byte {first})")
        if reported < MAX_FRAME_REPORTS:
            msg += "".join("\n  " + d for d in field_diff(e, a))
            msg += ("\n--- expected ---\n" + describe(e) + hexdump(e)
                    + "\n--- got ---\n" + describe(a) + hexdump(a))
        reported += 1
        errors.append(msg)
    if len(expected) != len(actual):
        errors.append(f"expected {len(expected)} frames, got {len(actual)}")
    return errors


def check_checksums(frames):
    errors = []
    for i, frame in enumerate(frames):
        for problem in verify_checksums(frame):
            errors.append(f"frame {i}: {problem}")
    return errors


def tshark_checksums(path):
    """A second opinion on the checksums from Wireshark's dissectors, when tshark is
    installed: errors for every checksum it finds bad (status 0)."""
    if not shutil.which("tshark"):
        return []
    fields = ["ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
              "icmp.checksum.status", "icmpv6.checksum.status"]
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.check_checksum:TRUE",
           "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=/t", "-e", "frame.number"]
    for f in fields:
        cmd += ["-e", f]
    cmd += ["-e", "icmpv6.type"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return [f"tshark failed on {path}: {r.stderr.strip()[-300:]}"]
    errors = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        # An ICMPv6 error quotes as much of a packet as fits in 1280 bytes: tshark sums a
        # quote that was cut short as if it were whole, so its TCP/UDP verdicts on a quote
        # mean nothing (golden_pcap checks the quotes it can).
        quote = len(cols) > len(fields) + 1 and cols[-1].split(",")[0] in ("1", "2", "3", "4")
        for name, value in zip(fields, cols[1:]):
            if quote and name in ("tcp.checksum.status", "udp.checksum.status"):
                continue
            if "0" in value.split(","):
                errors.append(f"frame {int(cols[0]) - 1}: tshark: {name} is bad")
    return errors


def parse_expect(text):
    """`expect` lines are "KEY... VALUE"; # starts a comment."""
    want = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        *key, value = line.split()
        if not key or not value.isdigit():
            raise ValueError(f"expect line {n}: want 'KEY VALUE', got {line!r}")
        want[" ".join(key)] = int(value)
    return want


def parse_summary(text):
    """The dataplane's exit summary as {key: count}: 'stats rx=N tx=N' gives rx and tx,
    'drop NAME N' gives 'drop NAME', 'NAME N' gives NAME. None when there is no stats line.
    Several runs' summaries, one after the other, give their sums."""
    got, seen_stats = {}, False
    for line in text.splitlines():
        if not line.startswith(SUMMARY_PREFIX):
            continue
        words = line[len(SUMMARY_PREFIX):].split()
        if words and words[0] == "stats":
            seen_stats = True
            for w in words[1:]:
                m = re.fullmatch(r"([\w-]+)=(\d+)", w)
                if m:
                    got[m.group(1)] = got.get(m.group(1), 0) + int(m.group(2))
        elif len(words) >= 2 and words[-1].isdigit():
            key = " ".join(words[:-1])
            got[key] = got.get(key, 0) + int(words[-1])
    return got if seen_stats else None


def compare_counters(want, got):
    if got is None:
        return ["the dataplane printed no 'xvs-dataplane: stats' exit summary"]
    errors = []
    for key, value in want.items():
        if key in ("rx", "tx") and key not in got:
            errors.append(f"exit summary lacks {key}")
        elif got.get(key, 0) != value:
            errors.append(f"counter '{key}': expected {value}, got {got.get(key, 0)}")
    for key, value in got.items():
        if key.startswith("drop ") and value and key not in want:
            errors.append(f"counter '{key}': expected 0, got {value}")
    return errors


def extra_queues(case_dir):
    """The numbers q >= 1 of the case's expected{q}.pcap files."""
    qs = []
    for name in os.listdir(case_dir):
        m = re.fullmatch(r"expected(\d+)\.pcap", name)
        if m:
            qs.append(int(m.group(1)))
    return sorted(qs)


def check_case(case_dir, out_frames, summary_text, queue_frames=None):
    """All the errors of one run (empty list: the case passes). queue_frames: {q: frames}
    of the extra TX queues."""
    expected = read_pcap(os.path.join(case_dir, "expected.pcap"))
    with open(os.path.join(case_dir, "expect")) as f:
        want = parse_expect(f.read())
    errors = compare_frames(expected, out_frames)
    errors += check_checksums(out_frames)
    for q in extra_queues(case_dir):
        got = (queue_frames or {}).get(q)
        if got is None:
            errors.append(f"TX queue {q}: no output pcap")
            continue
        errors += [f"TX queue {q}: {e}" for e in
                   compare_frames(read_pcap(os.path.join(case_dir, f"expected{q}.pcap")), got)]
        errors += check_checksums(got)
    errors += compare_counters(want, parse_summary(summary_text))
    return errors


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    case_dir, out_pcap, summary_files = sys.argv[1], sys.argv[2], sys.argv[3:]
    name = os.path.basename(os.path.normpath(case_dir))
    try:
        out_frames = read_pcap(out_pcap)
    except (OSError, ValueError) as e:
        print(f"golden {name}: FAIL: cannot read the output pcap: {e}")
        return 1
    queue_frames = {}
    for q in extra_queues(case_dir):
        path = os.path.join(os.path.dirname(out_pcap), f"out{q}.pcap")
        if os.path.exists(path):
            queue_frames[q] = read_pcap(path)
    summary, errors = "", []
    for path in summary_files:
        with open(path) as f:
            text = f.read()
        if len(summary_files) > 1 and parse_summary(text) is None:
            errors.append(f"{os.path.basename(path)}: that run printed no exit summary")
        summary += text
    errors += check_case(case_dir, out_frames, summary, queue_frames)
    errors += tshark_checksums(out_pcap)
    if errors:
        print(f"golden {name}: FAIL ({len(errors)} problems)")
        for e in errors:
            print("  " + e.replace("\n", "\n    "))
        return 1
    print(f"golden {name}: ok ({len(out_frames)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
