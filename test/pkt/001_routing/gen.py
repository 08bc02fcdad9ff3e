#!/usr/bin/python3
"""001_routing: forwarding internal <-> external on mGuard 2 of chapter 2, the additional internal
route 192.168.1.0/24 via mGuard 1 (10.1.0.1, back out of the internal port), the default gateway,
next hops resolved through the hold queue (packet first, ARP reply later) and pre-learned ones
(from an ARP request for the box and from an ARP reply), Ethernet padding removed, IP options,
TOS, ID and DF kept.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPOption_NOP, IPOption_EOL, Raw  # noqa: E402

BOX_INT, BOX_EXT = "10.1.0.254", "172.16.0.2"
PC_MAC, PC = "02:00:00:01:00:64", "10.1.0.100"       # office computer
PC2_MAC, PC2 = "02:00:00:01:00:65", "10.1.0.101"     # second office computer
MG1_MAC, MG1 = "02:00:00:01:00:01", "10.1.0.1"       # mGuard 1, gateway of 192.168.1.0/24
GW_MAC, GW = "02:00:00:02:00:01", "172.16.0.1"       # uplink router, default gateway
WEB, CLIENT = "203.0.113.10", "203.0.113.20"         # hosts beyond the default gateway
PLC = "192.168.1.10"                                 # behind mGuard 1


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    payload = Raw(bytes(range(32)))

    # The uplink router asks for the box: answered, and the router becomes a known neighbour.
    c.rx("external", pad(arp_request(GW_MAC, GW, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, GW_MAC, GW), "generated")

    # Office computer -> Internet through the default gateway (pre-learned: sent at once).
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=WEB, id=1) /
             ICMP(id=0x1234, seq=1) / payload, "forwarded")
    c.tx("external", routed(f, e, GW_MAC))

    # The answer: the office computer is not known yet -> ARP request, the packet waits ...
    answer = c.rx("external", Ether(dst=e, src=GW_MAC) / IP(src=WEB, dst=PC, ttl=54, id=2) /
                  ICMP(type=0, id=0x1234, seq=1) / payload, "forwarded")
    c.tx("internal", arp_request(i, BOX_INT, PC), "generated")
    # ... until the reply (addressed to the box, so also copied to the exception path).
    r = c.rx("internal", arp_reply(PC_MAC, PC, i, BOX_INT), "consumed")
    c.punt("internal", r)
    c.tx("internal", routed(answer, i, PC_MAC))

    # Internet client -> PLC: additional internal route via mGuard 1, not known yet. Two packets
    # in one burst wait behind one ARP request and leave in order when mGuard 1 answers.
    syn = c.rx("external", Ether(dst=e, src=GW_MAC) / IP(src=CLIENT, dst=PLC, ttl=60, id=0x100) /
               TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460)]),
               "forwarded")
    c.tx("internal", arp_request(i, BOX_INT, MG1), "generated")
    udp = c.rx("external", Ether(dst=e, src=GW_MAC) / IP(src=CLIENT, dst=PLC, ttl=60, id=0x101) /
               UDP(sport=40001, dport=502) / Raw(b"modbus request"), "forwarded",
               same_burst=True)
    r = c.rx("internal", arp_reply(MG1_MAC, MG1, i, BOX_INT), "consumed")
    c.punt("internal", r)
    c.tx("internal", routed(syn, i, MG1_MAC))
    c.tx("internal", routed(udp, i, MG1_MAC))

    # Office computer -> PLC: in and out of the internal port (the chapter 2 route), and the
    # PLC's answer back from mGuard 1 to the office computer.
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=PLC, id=3) /
             TCP(sport=50000, dport=80, flags="S", seq=7), "forwarded")
    c.tx("internal", routed(f, i, MG1_MAC))
    f = c.rx("internal", Ether(dst=i, src=MG1_MAC) / IP(src=PLC, dst=PC, ttl=63, id=4) /
             TCP(sport=80, dport=50000, flags="SA", seq=99, ack=8), "forwarded")
    c.tx("internal", routed(f, i, PC_MAC))

    # Internet -> office computer, now known; office computer -> the uplink router itself
    # (connected external network, no gateway).
    f = c.rx("external", Ether(dst=e, src=GW_MAC) / IP(src=WEB, dst=PC, ttl=54, id=5) /
             UDP(sport=443, dport=50001) / Raw(b"x" * 100), "forwarded")
    c.tx("internal", routed(f, i, PC_MAC))
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=GW, id=6) /
             ICMP(id=0x2222, seq=1) / payload, "forwarded")
    c.tx("external", routed(f, e, GW_MAC))

    # Minimum-size frames with Ethernet padding: the padding does not travel on.
    f = c.rx("internal", pad(Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=WEB, id=7) /
                             UDP(sport=5000, dport=53) / Raw(b"abcd")), "forwarded")
    c.tx("external", routed(f, e, GW_MAC))
    f = c.rx("external", pad(Ether(dst=e, src=GW_MAC) / IP(src=WEB, dst=PC, ttl=54, id=8) /
                             UDP(sport=443, dport=50001)), "forwarded")
    c.tx("internal", routed(f, i, PC_MAC))

    # A second office computer asks for the box: answered and learned, so traffic to it leaves
    # at once without an ARP request of the box.
    c.rx("internal", pad(arp_request(PC2_MAC, PC2, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC2_MAC, PC2), "generated")
    f = c.rx("external", Ether(dst=e, src=GW_MAC) / IP(src=WEB, dst=PC2, ttl=54, id=9) /
             UDP(sport=123, dport=123) / Raw(b"\x24" + b"\0" * 47), "forwarded")
    c.tx("internal", routed(f, i, PC2_MAC))

    # Everything but TTL and checksum travels unchanged: TOS, ID, DF, IP options.
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) /
             IP(src=PC, dst=WEB, tos=0x28, id=0xBEEF, flags="DF", ttl=3,
                options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) /
             UDP(sport=6000, dport=6001) / Raw(b"options"), "forwarded")
    c.tx("external", routed(f, e, GW_MAC))


generate(build)
