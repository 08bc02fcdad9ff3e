#!/usr/bin/python3
"""004_arp: ARP requests for the box's address on the receiving interface are answered with the
interface's MAC (broadcast and unicast requests), and so are requests on external for the 1:1 NAT
virtual addresses (10.1.0.210/32 and the network 10.1.1.16/28: proxy ARP). Requests for anything
else - an unrelated address, an address next to the virtual network, the box's address of the
other interface, a virtual address asked on the wrong interface - are consumed without an answer
and teach the box nothing: traffic to such a requester needs an ARP request of the box first,
while a host that asked for the box is known at once. Malformed ARP is dropped (arp_malformed).
An ARP reply addressed to the box is consumed and copied to the exception path.

The 1:1 NAT real addresses (192.168.1.10, 192.168.1.16/28) carry no traffic here: this case is
about ARP, not about address translation.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:32", "192.168.1.50"     # internal host (no 1:1 NAT)
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external hosts
OTHER_MAC, OTHER = "02:00:00:02:00:3c", "10.1.0.60"
THIRD_MAC, THIRD = "02:00:00:02:00:46", "10.1.0.70"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    # For the box's external address: answered (and the requester learned).
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")
    # For the 1:1 NAT virtual host 10.1.0.210: answered with the external MAC.
    c.rx("external", pad(arp_request(SRV_MAC, SRV, "10.1.0.210")), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, "10.1.0.210", SRV_MAC, SRV), "generated")
    # For addresses in the virtual network 10.1.1.16/28: answered.
    for target in ("10.1.1.16", "10.1.1.20", "10.1.1.31"):
        c.rx("external", pad(arp_request(SRV_MAC, SRV, target)), "consumed", same_burst=True)
        c.tx("external", arp_reply(e, target, SRV_MAC, SRV), "generated")
    # A unicast request (a neighbour refreshing its entry): answered the same way.
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT, eth_dst=e)), "consumed",
         same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")

    # Not answered, consumed: next to the virtual network, an unrelated host of the company
    # network, the box's internal address asked on external.
    for target in ("10.1.1.15", "10.1.1.32", "10.1.0.77", BOX_INT):
        c.rx("external", pad(arp_request(OTHER_MAC, OTHER, target)), "consumed", same_burst=True)

    # On internal: the box's internal address is answered, the external one and the 1:1 NAT
    # virtual host (proxy ARP only on external) are not.
    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")
    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed", same_burst=True)
    c.rx("internal", pad(arp_request(PC_MAC, PC, "10.1.0.210")), "consumed", same_burst=True)

    # Malformed ARP for the box's address: hardware type 6 (IEEE 802), protocol type IPv6,
    # hardware length 8, cut after 20 bytes of ARP. Dropped; no answer, nothing learned.
    def malformed(mac, ip, hwtype=1, ptype=0x0800, hlen=6):
        good = arp_request(mac, ip, BOX_EXT)
        return good[:14] + struct.pack("!HHB", hwtype, ptype, hlen) + good[19:]

    c.rx("external", pad(malformed(THIRD_MAC, THIRD, hwtype=6)), "dropped:arp_malformed")
    c.rx("external", pad(malformed(THIRD_MAC, THIRD, ptype=0x86DD)), "dropped:arp_malformed",
         same_burst=True)
    c.rx("external", pad(malformed(THIRD_MAC, THIRD, hlen=8)), "dropped:arp_malformed",
         same_burst=True)
    c.rx("external", arp_request(THIRD_MAC, THIRD, BOX_EXT)[:14 + 20], "dropped:arp_malformed",
         same_burst=True)

    # What the box learned: the host that asked for the box is known, traffic to it leaves at
    # once. The host that asked for other addresses is not: the box asks for it, and its reply
    # (addressed to the box: consumed, copied to the exception path) releases the packet.
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=SRV, id=0x40) /
             UDP(sport=4000, dport=4001) / Raw(b"to a learned host"), "forwarded")
    c.tx("external", routed(f, e, SRV_MAC))
    held = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=OTHER, id=0x41) /
                UDP(sport=4000, dport=4001) / Raw(b"to an unknown host"), "forwarded")
    c.tx("external", arp_request(e, BOX_EXT, OTHER), "generated")
    r = c.rx("external", arp_reply(OTHER_MAC, OTHER, e, BOX_EXT), "consumed")
    c.punt("external", r)
    c.tx("external", routed(held, e, OTHER_MAC))

    # The same for the host whose requests for the box were all malformed.
    held = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=THIRD, id=0x42) /
                UDP(sport=4000, dport=4001) / Raw(b"to a host that sent garbage"), "forwarded")
    c.tx("external", arp_request(e, BOX_EXT, THIRD), "generated")
    r = c.rx("external", arp_reply(THIRD_MAC, THIRD, e, BOX_EXT), "consumed")
    c.punt("external", r)
    c.tx("external", routed(held, e, THIRD_MAC))

generate(build)
