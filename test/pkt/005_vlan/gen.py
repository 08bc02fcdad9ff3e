#!/usr/bin/python3
"""005_vlan: the internal port carries 192.168.1.0/24 untagged and 192.168.10.0/24 on VLAN 10.
Forwarding tagged <-> untagged (across ports and on the same port): a frame leaves with the tag of
its egress network (PCP 0, DEI 0) or none. ARP on VLAN 10 is answered tagged, only for the box's
VLAN 10 address; the box's ARP request for a VLAN 10 next hop is tagged and asks from
192.168.10.1; an ICMP error for a VLAN 10 host comes from 192.168.10.1, tagged. A VLAN the port
does not have (VLAN 20 on internal, any tag on external) is vlan_unknown, stacked tags
vlan_unsupported. A tagged ARP reply to the box is copied to the exception path as received, tag
included.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_TIME_EXCEEDED, arp_reply, arp_request, generate, icmp_error,  # noqa: E402
                    pad, routed)
from scapy.all import ICMP, IP, TCP, UDP, Dot1Q, Ether, Raw  # noqa: E402

BOX_INT, BOX_V10, BOX_EXT = "192.168.1.1", "192.168.10.1", "10.1.0.254"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"       # untagged internal host
B_MAC, B = "02:00:00:01:0a:14", "192.168.10.20"      # VLAN 10 host
B2_MAC, B2 = "02:00:00:01:0a:1e", "192.168.10.30"    # VLAN 10 host, resolved on demand
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external host


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    data = Raw(bytes(range(40)))

    # ARP: a VLAN 10 host and an untagged host ask for the box's address of their network.
    c.rx("internal", pad(arp_request(B_MAC, B, BOX_V10, vlan=10)), "consumed")
    c.tx("internal", arp_reply(i, BOX_V10, B_MAC, B, vlan=10), "generated")
    c.rx("internal", pad(arp_request(A_MAC, A, BOX_INT)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, BOX_INT, A_MAC, A), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")

    # VLAN 10 (priority 5) -> external: leaves untagged.
    f = c.rx("internal", Ether(dst=i, src=B_MAC) / Dot1Q(vlan=10, prio=5) /
             IP(src=B, dst=SRV, id=0x50) / UDP(sport=5000, dport=5001) / data, "forwarded")
    c.tx("external", routed(f, e, SRV_MAC))
    # External -> VLAN 10: leaves tagged 10, priority 0.
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=B, id=0x51) /
             UDP(sport=5001, dport=5000) / data, "forwarded")
    c.tx("internal", routed(f, i, B_MAC, vlan=10))
    # Untagged -> VLAN 10 and back on the same port.
    f = c.rx("internal", Ether(dst=i, src=A_MAC) / IP(src=A, dst=B, id=0x52) /
             TCP(sport=40000, dport=102, flags="S", seq=1) / data, "forwarded")
    c.tx("internal", routed(f, i, B_MAC, vlan=10))
    f = c.rx("internal", Ether(dst=i, src=B_MAC) / Dot1Q(vlan=10) / IP(src=B, dst=A, id=0x53) /
             TCP(sport=102, dport=40000, flags="SA", seq=1, ack=2) / data, "forwarded")
    c.tx("internal", routed(f, i, A_MAC))

    # An unknown VLAN 10 next hop: tagged ARP request from 192.168.10.1; its tagged reply
    # releases the packet and is copied, as received, to the exception path.
    held = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=B2, id=0x54) /
                ICMP(id=5, seq=1) / data, "forwarded")
    c.tx("internal", arp_request(i, BOX_V10, B2, vlan=10), "generated")
    r = c.rx("internal", arp_reply(B2_MAC, B2, i, BOX_V10, vlan=10), "consumed")
    c.punt("internal", r)
    c.tx("internal", routed(held, i, B2_MAC, vlan=10))

    # TTL 1 from VLAN 10: time exceeded from the VLAN's address, tagged.
    f = c.rx("internal", Ether(dst=i, src=B_MAC) / Dot1Q(vlan=10) /
             IP(src=B, dst=SRV, ttl=1, id=0x55) / UDP(sport=33434, dport=33434) / data,
             "dropped:ttl_exceeded")
    c.tx("internal", icmp_error(f, ICMP_TIME_EXCEEDED, BOX_V10, i, B_MAC, vlan=10), "generated")

    # VLAN 20 is not configured; stacked tags are not supported; external has no VLANs.
    c.rx("internal", Ether(dst=i, src=B_MAC) / Dot1Q(vlan=20) / IP(src=B, dst=SRV, id=0x56) /
         UDP(sport=5000, dport=5001) / data, "dropped:vlan_unknown")
    c.rx("internal", Ether(dst=i, src=B_MAC) / Dot1Q(vlan=10, type=0x8100) / Dot1Q(vlan=20) /
         IP(src=B, dst=SRV, id=0x57) / UDP(sport=5000, dport=5001) / data,
         "dropped:vlan_unsupported", same_burst=True)
    c.rx("external", Ether(dst=e, src=SRV_MAC) / Dot1Q(vlan=10) / IP(src=SRV, dst=B, id=0x58) /
         UDP(sport=5001, dport=5000) / data, "dropped:vlan_unknown")

    # ARP across VLANs: the untagged address asked on VLAN 10, the VLAN 10 address asked
    # untagged - consumed, not answered.
    c.rx("internal", pad(arp_request("02:00:00:01:0a:15", "192.168.10.21", BOX_INT, vlan=10)),
         "consumed")
    c.rx("internal", pad(arp_request("02:00:00:01:00:0b", "192.168.1.11", BOX_V10)), "consumed",
         same_burst=True)


generate(build)
