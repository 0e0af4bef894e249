#!/usr/bin/python3
"""Ask once who has each TARGET on IFACE and count who answers.

Usage: arp_count.py IFACE SRC_IP WINDOW_S TARGET...

Sends one broadcast ARP request per target from IFACE's own MAC and SRC_IP (an address of
the subnet that IFACE's own kernel does not use, so that none of its own requests' answers
are counted), waits (at most
5 s) until every target has answered at least once, then keeps listening WINDOW_S seconds
more: a second owner of an address answers within microseconds or milliseconds of the
first, so a duplicate shows up in that window. Prints one line per target:
"TARGET ANSWERS MAC[,MAC...]" (ANSWERS 0 and MAC "-" when nobody answered).
"""
import sys
import threading
import time

from scapy.all import ARP, AsyncSniffer, Ether, conf, get_if_hwaddr, sendp


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    iface, ip, window, targets = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
    conf.verb = 0
    mac = get_if_hwaddr(iface)
    ready = threading.Event()
    seen = []
    sn = AsyncSniffer(iface=iface, filter="arp", store=False, prn=seen.append,
                      started_callback=ready.set)
    sn.start()
    if not ready.wait(5):
        sys.exit("arp_count.py: the capture did not start")
    for t in targets:
        sendp(Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) /
              ARP(op=1, hwsrc=mac, psrc=ip, pdst=t), iface=iface)

    def answers():
        out = {t: [] for t in targets}
        for p in list(seen):
            a = p.getlayer(ARP)
            if a is not None and a.op == 2 and a.pdst == ip and a.psrc in out:
                out[a.psrc].append(a.hwsrc)
        return out

    end = time.monotonic() + 5
    while time.monotonic() < end and not all(answers().values()):
        time.sleep(0.05)
    time.sleep(window)
    sn.stop()
    for t, macs in answers().items():
        print(f"{t} {len(macs)} {','.join(macs) or '-'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
