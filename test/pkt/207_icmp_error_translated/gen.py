#!/usr/bin/python3
"""207_icmp_error_translated: ICMP errors about masqueraded connections are translated back
(docs/nat.md): the outer destination, and the embedded packet's source address and port (or
query identifier), with a fresh embedded IPv4 header checksum and a correct ICMP checksum.
* Client B 192.168.1.11:5000 -> 10.1.0.200:6000 (UDP) keeps its port; client A
  192.168.1.10:5000 -> the same server and port gets 10.1.0.1:AP, a port probed from a hash of
  its connection. Both datagrams carry UDP
  checksum 0 (none), which stays 0 - so the embedded UDP checksum needs no rewriting below.
* The server answers A's datagram with port unreachable, quoting it completely: forwarded to
  192.168.1.10, embedded source 192.168.1.10:5000.
* A router 10.1.0.254 answers B's datagram with time exceeded, quoting 8 bytes of UDP: the
  outer source (the router) stays, the outer destination and the embedded source become
  192.168.1.11(:5000).
* A pings the server (identifier 0x4444, kept); the router answers with host unreachable:
  forwarded to 192.168.1.10 with the embedded echo request's source 192.168.1.10.
* A port unreachable quoting a datagram of no connection (10.1.0.1:7777) is not related: it is
  traffic to the box, and the incoming list drops it (filter_policy_drop).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (arp_reply, arp_request, generate, ip_packet, masquerade_port, nat_icmp_error,  # noqa: E402
                    nat_routed, pad)
from scapy.all import ICMP, IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"
B_MAC, B = "02:00:00:01:00:0b", "192.168.1.11"
SRV_MAC, SRV = "02:00:00:02:00:c8", "10.1.0.200"
AP = masquerade_port(A, SRV, 5000, 6000, 17, taken={5000})  # A's translated port
RTR_MAC, RTR = "02:00:00:02:00:fe", "10.1.0.254"     # a router of the company network


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def inside(mac, src, ident, l4):
        return Ether(dst=i, src=mac) / IP(src=src, dst=SRV, id=ident) / l4

    def error(mac, src, kind, quote):
        return Ether(dst=e, src=mac) / IP(src=src, dst=BOX_EXT, tos=0xC0, id=0) / \
            ICMP(type=kind[0], code=kind[1]) / Raw(quote)

    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")
    c.rx("external", pad(arp_request(RTR_MAC, RTR, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, RTR_MAC, RTR), "generated")
    c.rx("internal", pad(arp_request(A_MAC, A, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, A_MAC, A), "generated")
    c.rx("internal", pad(arp_request(B_MAC, B, BOX_INT)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, BOX_INT, B_MAC, B), "generated")

    # Two UDP flows (checksum 0): B keeps 5000, A gets AP.
    f = c.rx("internal", inside(B_MAC, B, 0x301, UDP(sport=5000, dport=6000, chksum=0) /
                                Raw(b"request from B")), "forwarded")
    b_out = nat_routed(f, e, SRV_MAC, src=BOX_EXT)
    c.tx("external", b_out)
    f = c.rx("internal", inside(A_MAC, A, 0x101, UDP(sport=5000, dport=6000, chksum=0) /
                                Raw(b"request from A")), "forwarded")
    a_out = nat_routed(f, e, SRV_MAC, src=BOX_EXT, sport=AP)
    c.tx("external", a_out)

    # Port unreachable from the server about A's datagram, quoted in full.
    f = c.rx("external", error(SRV_MAC, SRV, (3, 3), ip_packet(a_out)), "forwarded")
    c.tx("internal", nat_icmp_error(f, i, A_MAC, outer_dst=A, inner_src=A, inner_sport=5000))

    # Time exceeded from a router about B's datagram, IP header + 8 bytes quoted.
    f = c.rx("external", error(RTR_MAC, RTR, (11, 0), ip_packet(b_out)[:28]), "forwarded",
             same_burst=True)
    c.tx("internal", nat_icmp_error(f, i, B_MAC, outer_dst=B, inner_src=B))

    # Host unreachable from the router about A's echo request.
    f = c.rx("internal", inside(A_MAC, A, 0x102, ICMP(id=0x4444, seq=7) / Raw(bytes(range(32)))),
             "forwarded")
    echo_out = nat_routed(f, e, SRV_MAC, src=BOX_EXT)
    c.tx("external", echo_out)
    f = c.rx("external", error(RTR_MAC, RTR, (3, 1), ip_packet(echo_out)[:28]), "forwarded")
    c.tx("internal", nat_icmp_error(f, i, A_MAC, outer_dst=A, inner_src=A))

    # Not related to any connection: an error for the box, dropped by the incoming list.
    stray = bytes(IP(src=BOX_EXT, dst=SRV, id=0x999, ttl=63) /
                  UDP(sport=7777, dport=6000, chksum=0) / Raw(b"never sent"))
    c.rx("external", error(SRV_MAC, SRV, (3, 3), stray), "dropped:filter_policy_drop",
         same_burst=True)


generate(build)
