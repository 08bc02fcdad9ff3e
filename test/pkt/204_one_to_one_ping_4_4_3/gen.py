#!/usr/bin/python3
"""204_one_to_one_ping_4_4_3: 1:1 NAT of manual 4.4.3, the PLC 192.168.1.10 <-> 10.1.0.210 (/32)
on external, with the 4.3 incoming rules (HTTP and ICMP to the PLC's real address).
* The office computer asks for 10.1.0.210: the box answers (proxy ARP).
* Ping 10.1.0.210: the echo requests reach 192.168.1.10 (destination rewritten, ICMP checksum
  right), the echo replies leave from 10.1.0.210; identifier and sequence are kept (1:1 NAT
  translates addresses only).
* HTTP to 10.1.0.210 reaches the PLC's port 80; TCP to port 22 has no rule (filter_no_match).
* The PLC pings the office computer itself: the outgoing list drops all (filter_policy_drop).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, nat_routed, pad  # noqa: E402
from scapy.all import ICMP, IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
PLC_MAC, PLC, VIRTUAL = "02:00:00:01:00:0a", "192.168.1.10", "10.1.0.210"
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer
PING = bytes(range(56))


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def from_pc(dst, ident, l4):
        return Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=dst, id=ident) / l4

    def from_plc(dst, ident, l4):
        return Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=dst, id=ident) / l4

    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")
    c.rx("external", pad(arp_request(PC_MAC, PC, VIRTUAL)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, VIRTUAL, PC_MAC, PC), "generated")
    c.rx("internal", pad(arp_request(PLC_MAC, PLC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PLC_MAC, PLC), "generated")

    # ping 10.1.0.210, twice.
    for seq in (1, 2):
        f = c.rx("external", from_pc(VIRTUAL, 0x100 + seq, ICMP(id=0x4D2, seq=seq) / Raw(PING)),
                 "forwarded")
        c.tx("internal", nat_routed(f, i, PLC_MAC, dst=PLC))
        f = c.rx("internal", from_plc(PC, 0x200 + seq, ICMP(type=0, id=0x4D2, seq=seq) /
                                      Raw(PING)), "forwarded")
        c.tx("external", nat_routed(f, e, PC_MAC, src=VIRTUAL))

    # http://10.1.0.210
    f = c.rx("external", from_pc(VIRTUAL, 0x110, TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                     window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("internal", nat_routed(f, i, PLC_MAC, dst=PLC))
    f = c.rx("internal", from_plc(PC, 0x210, TCP(sport=80, dport=40000, flags="SA", seq=5000,
                                                 ack=1001, window=8192,
                                                 options=[("MSS", 1460)])), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=VIRTUAL))

    # No rule for ssh; the PLC may not start connections (outgoing: drop).
    c.rx("external", from_pc(VIRTUAL, 0x111, TCP(sport=40001, dport=22, flags="S", seq=2000,
                                                 window=64240)), "dropped:filter_no_match")
    c.rx("internal", from_plc(PC, 0x211, ICMP(id=0x99, seq=1) / Raw(PING)),
         "dropped:filter_policy_drop")


generate(build)
