#!/usr/bin/python3
"""002_ttl_exceeded: a packet to be forwarded with TTL 1 (or 0) is dropped (ttl_exceeded) and
answered with ICMP time exceeded from the first address of the arrival interface, quoting the
packet as received, cut to 576 bytes in all; TTL 2 is forwarded with TTL 1. No ICMP error answers
an ICMP error or a non-first fragment; a first fragment is answered.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_TIME_EXCEEDED, arp_reply, arp_request, generate, icmp_error,  # noqa: E402
                    pad, routed)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"     # internal host
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external host


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def pc(ttl, ident, l4, payload=b"", tail=()):
        return Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=SRV, ttl=ttl, id=ident, *tail) / l4 / \
            Raw(payload)

    # Both hosts ask for the box: answered and learned (the errors have to reach them).
    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")

    # TTL 1: dropped, ICMP time exceeded back to the sender, the whole packet quoted.
    f = c.rx("internal", pc(1, 0x10, UDP(sport=33434, dport=33435), b"traceroute probe 1"),
             "dropped:ttl_exceeded")
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # From here on the frames of the internal host share bursts: nothing they trigger on one
    # interface depends on the order of processing inside a burst.
    # TTL 2: forwarded with TTL 1.
    f = c.rx("internal", pc(2, 0x11, UDP(sport=33434, dport=33436), b"traceroute probe 2"),
             "forwarded", same_burst=True)
    c.tx("external", routed(f, e, SRV_MAC))

    # TTL 0 is no better than 1.
    f = c.rx("internal", pc(0, 0x12, UDP(sport=33434, dport=33437), b"ttl zero"),
             "dropped:ttl_exceeded", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # An echo request is not an ICMP error: answered.
    f = c.rx("internal", pc(1, 0x13, ICMP(id=7, seq=1), bytes(range(56))),
             "dropped:ttl_exceeded", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # A padded minimum-size frame: the quote ends at the IP total length.
    f = c.rx("internal", pad(pc(1, 0x14, UDP(sport=1000, dport=2000), b"abcd")),
             "dropped:ttl_exceeded", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # A 1000-byte packet: the error carries its first 548 bytes (576 bytes in all).
    f = c.rx("internal", pc(1, 0x15, UDP(sport=1001, dport=2001), bytes(range(256)) * 3 +
                            bytes(range(204))),
             "dropped:ttl_exceeded", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # ICMP errors with TTL 1 are dropped without an answer (destination unreachable, time
    # exceeded).
    inner = IP(src=SRV, dst=PC, ttl=60, id=0x99) / UDP(sport=53, dport=5353) / Raw(b"inner")
    for ident, error in ((0x16, ICMP(type=3, code=3)), (0x17, ICMP(type=11, code=0))):
        c.rx("internal", pc(1, ident, error / inner), "dropped:ttl_exceeded", same_burst=True)

    # Fragments with TTL 1: the first is answered, a later one is not.
    first = c.rx("internal", Ether(dst=i, src=PC_MAC) /
                 IP(src=PC, dst=SRV, ttl=1, id=0x18, flags="MF", frag=0) /
                 UDP(sport=5004, dport=5004, len=528, chksum=0x1234) / Raw(bytes(range(200)) * 2),
                 "dropped:ttl_exceeded", same_burst=True)
    c.tx("internal", icmp_error(first, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")
    c.rx("internal", Ether(dst=i, src=PC_MAC) /
         IP(src=PC, dst=SRV, ttl=1, id=0x18, frag=51, proto=17) / Raw(b"\x55" * 120),
         "dropped:ttl_exceeded", same_burst=True)

    # The other way: the error comes from the external address and goes out externally.
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=PC, ttl=1, id=0x20) /
             TCP(sport=443, dport=40000, flags="SA", seq=5, ack=6), "dropped:ttl_exceeded")
    c.tx("external", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_EXT, e, SRV_MAC), "generated")
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=PC, ttl=2, id=0x21) /
             UDP(sport=443, dport=40000), "forwarded")
    c.tx("internal", routed(f, i, PC_MAC))


generate(build)
