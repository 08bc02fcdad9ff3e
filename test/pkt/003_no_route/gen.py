#!/usr/bin/python3
"""003_no_route: a box without default gateway. A packet to a network no route covers is dropped
(no_route) and answered with ICMP destination unreachable, net unreachable (type 3 code 0), from
the first address of the arrival interface; the additional route 172.20.0.0/16 via 10.1.0.1 still
works. No answer to ICMP errors or non-first fragments. TTL is checked before the route: TTL 1 to
an unknown network gets time exceeded.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_NET_UNREACHABLE, ICMP_TIME_EXCEEDED, arp_reply, arp_request,  # noqa: E402
                    generate, icmp_error, pad, routed)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"     # internal host
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external host
LAB_MAC, LAB_GW = "02:00:00:02:00:01", "10.1.0.1"    # gateway of 172.20.0.0/16


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def pc(dst, ident, l4, payload=b"", ttl=64):
        return Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=dst, ttl=ttl, id=ident) / l4 / \
            Raw(payload)

    # Neighbours: the internal host, the lab gateway and an external host ask for the box.
    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")
    c.rx("external", pad(arp_request(LAB_MAC, LAB_GW, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, LAB_MAC, LAB_GW), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")

    # No route to 8.8.8.8: net unreachable back to the sender.
    f = c.rx("internal", pc("8.8.8.8", 0x30, UDP(sport=40000, dport=53), b"query"),
             "dropped:no_route")
    c.tx("internal", icmp_error(f, ICMP_NET_UNREACHABLE, BOX_INT, i, PC_MAC), "generated")

    # The additional route works (via the lab gateway on the external port).
    f = c.rx("internal", pc("172.20.5.5", 0x31, TCP(sport=40001, dport=22, flags="S", seq=1)),
             "forwarded")
    c.tx("external", routed(f, e, LAB_MAC))

    # Next to it, 172.21.0.0/16 is not covered: an echo request is answered with the error.
    f = c.rx("internal", pc("172.21.0.1", 0x32, ICMP(id=9, seq=1), bytes(range(56))),
             "dropped:no_route")
    c.tx("internal", icmp_error(f, ICMP_NET_UNREACHABLE, BOX_INT, i, PC_MAC), "generated")

    # An ICMP error and a non-first fragment to nowhere: dropped without an answer.
    inner = IP(src="8.8.8.8", dst=PC, ttl=50) / UDP(sport=53, dport=40000) / Raw(b"answer")
    c.rx("internal", pc("8.8.8.8", 0x33, ICMP(type=3, code=3) / inner), "dropped:no_route",
         same_burst=True)
    c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst="8.8.8.8", id=0x34, frag=100,
                                                   proto=17) / Raw(b"\xaa" * 64),
         "dropped:no_route", same_burst=True)

    # A first fragment to nowhere is answered.
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) /
             IP(src=PC, dst="8.8.8.8", id=0x35, flags="MF") /
             UDP(sport=5004, dport=5004, len=1008, chksum=0x4321) / Raw(b"\x11" * 792),
             "dropped:no_route", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_NET_UNREACHABLE, BOX_INT, i, PC_MAC), "generated")

    # A big packet: the error quotes 548 bytes of it.
    f = c.rx("internal", pc("198.51.100.7", 0x36, UDP(sport=40002, dport=9), b"\x5a" * 1372),
             "dropped:no_route", same_burst=True)
    c.tx("internal", icmp_error(f, ICMP_NET_UNREACHABLE, BOX_INT, i, PC_MAC), "generated")

    # TTL before route: TTL 1 to an unknown network is "time exceeded", not "net unreachable".
    # (A burst of its own: the order of errors from different stages of one burst is open.)
    f = c.rx("internal", pc("8.8.8.8", 0x37, UDP(sport=33434, dport=33434), b"probe", ttl=1),
             "dropped:ttl_exceeded")
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, PC_MAC), "generated")

    # From the external side: the error comes from the external address.
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst="8.8.4.4", id=0x38) /
             TCP(sport=40003, dport=443, flags="S", seq=3), "dropped:no_route")
    c.tx("external", icmp_error(f, ICMP_NET_UNREACHABLE, BOX_EXT, e, SRV_MAC), "generated")


generate(build)
