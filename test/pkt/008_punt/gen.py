#!/usr/bin/python3
"""008_punt: traffic for the box itself is handed, unchanged, to the exception path of the
interface it arrived on (expect-IF.punt.pcap): ping, TCP SYN and UDP to each of its addresses
(both internal ones and the external one, also the external address asked from inside and the
internal one from outside), a ping with TTL 1 (local delivery comes before the TTL check), and
pings to the directed broadcasts of the internal and the external network. ARP replies addressed
to the box are consumed and copied there as well. Nothing is transmitted but the ARP reply to
a request for the box.

All frames are at least 60 bytes long, so "unchanged" does not depend on what the box does with
Ethernet padding.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import BROADCAST, arp_reply, arp_request, generate, pad  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_INT2, BOX_EXT = "192.168.1.1", "192.168.2.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"     # internal host
PC2_MAC, PC2 = "02:00:00:01:01:0a", "192.168.2.10"   # internal host, second network
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external host
SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
               ("WScale", 7)]


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    ping_data = Raw(bytes(range(56)))

    def ping(l2_dst, l2_src, src, dst, ident, ttl=64):
        return Ether(dst=l2_dst, src=l2_src) / IP(src=src, dst=dst, id=ident, ttl=ttl) / \
            ICMP(id=ident, seq=1) / ping_data

    def syn(l2_dst, l2_src, src, dst, port, ident):
        return Ether(dst=l2_dst, src=l2_src) / IP(src=src, dst=dst, id=ident, flags="DF") / \
            TCP(sport=50000 + ident, dport=port, flags="S", seq=1000 * ident, window=64240,
                options=SYN_OPTIONS)

    punt_in = [
        ("internal", ping(i, PC_MAC, PC, BOX_INT, 1)),
        ("internal", syn(i, PC_MAC, PC, BOX_INT, 22, 2)),
        ("internal", syn(i, PC_MAC, PC, BOX_INT, 443, 3)),
        ("internal", ping(i, PC2_MAC, PC2, BOX_INT2, 4)),
        ("internal", syn(i, PC2_MAC, PC2, BOX_INT2, 22, 5)),
        ("internal", ping(i, PC_MAC, PC, BOX_EXT, 6)),
        ("internal", ping(i, PC_MAC, PC, BOX_INT, 7, ttl=1)),
        ("internal", ping(BROADCAST, PC_MAC, PC, "192.168.1.255", 8)),
        ("external", ping(e, SRV_MAC, SRV, BOX_EXT, 9)),
        ("external", syn(e, SRV_MAC, SRV, BOX_EXT, 443, 10)),
        ("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=BOX_EXT, id=11) /
         UDP(sport=500, dport=500) / Raw(b"\x00" * 8 + b"IKE_SA_INIT request...")),
        ("external", ping(e, SRV_MAC, SRV, BOX_INT, 12)),
        ("external", ping(BROADCAST, SRV_MAC, SRV, "10.1.255.255", 13)),
    ]
    last = None
    for name, frame in punt_in:
        frame = bytes(frame)
        assert len(frame) >= 60
        c.rx(name, frame, "punted", same_burst=(name == last))
        c.punt(name, frame)
        last = name

    # A request for the box is answered (not punted); a reply to the box is consumed and
    # copied to the exception path.
    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")
    r = c.rx("external", arp_reply(SRV_MAC, SRV, e, BOX_EXT), "consumed")
    c.punt("external", r)


generate(build)
