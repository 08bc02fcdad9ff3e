#!/usr/bin/python3
"""211_icmp_errors_through_nat: errors and resets about translated packets (docs/nat.md, "ICMP").
What the box generates describes the packet as it arrived, goes to its sender, and comes from
the address the sender used (RFC 5508 4.2, RFC 1812 4.3.2.3); never from or about the internal
host:
* TTL 1 on A's established masqueraded flow: time exceeded to A (not to the box's own external
  address), from the box's internal address, quoting A's datagram as A sent it.
* TTL 1 on a new port-forwarded connection: time exceeded from 10.1.0.1 quoting 10.1.0.1:8080,
  not the PLC's 192.168.1.10:80.
* DF and too big for the internal MTU (1400) through 1:1 NAT: fragmentation needed from the
  virtual address 10.1.1.10 quoting it (path-MTU discovery through 1:1 NAT).
* Reject through 1:1 NAT: the TCP reset comes from 10.1.1.10:23, the port unreachable from
  10.1.1.10 quoting 10.1.1.10:161 - not from or about 192.168.1.200.
Forwarded errors are translated completely:
* The mapped host's port unreachable about a datagram sent to it: to the remote sender from
  10.1.1.10 (outer source rewritten), embedded destination 10.1.1.10 with the embedded UDP
  checksum following it.
* A router's time exceeded quoting only 8 bytes of A's masqueraded TCP SYN (translated port):
  the embedded source port is translated back too.
* The server's administratively prohibited quoting A's whole SYN: embedded address, port and
  TCP checksum translated back.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (generate, icmp_error, ip_packet, masquerade_port, nat_icmp_error,  # noqa: E402
                    nat_routed, tcp_reset)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0b", "192.168.1.11"       # masqueraded clients
B_MAC, B = "02:00:00:01:00:0c", "192.168.1.12"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"   # port forwarding target
R_MAC, R = "02:00:00:01:00:c8", "192.168.1.200"      # 1:1 NAT, real
V = "10.1.1.10"                                      # 1:1 NAT, virtual
S_MAC, S = "02:00:00:02:00:64", "10.1.0.100"         # company host
SRV_MAC, SRV = "02:00:00:02:00:c8", "10.1.0.200"     # company server
RTR_MAC, RTR = "02:00:00:02:00:fe", "10.1.0.254"     # company router
TIME_EXCEEDED, FRAG_NEEDED, PORT_UNREACHABLE, PROHIBITED = (11, 0), (3, 4), (3, 3), (3, 13)
AP = masquerade_port(A, SRV, 5001, 80, 6, taken={5001})  # A's translated TCP port


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    for mac, ip in ((S_MAC, S), (SRV_MAC, SRV), (RTR_MAC, RTR)):
        c.neighbour_asks("external", mac, ip, BOX_EXT)
    for mac, ip in ((A_MAC, A), (B_MAC, B), (PLC_MAC, PLC), (R_MAC, R)):
        c.neighbour_asks("internal", mac, ip, BOX_INT)

    def inside(mac, src, dst, ident, l4, ttl=64, flags=0):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident, ttl=ttl, flags=flags) / l4

    def outside(mac, src, dst, ident, l4, ttl=64, flags=0):
        return Ether(dst=e, src=mac) / IP(src=src, dst=dst, id=ident, ttl=ttl, flags=flags) / l4

    def error(to_mac, mac, src, dst, kind, quote):
        return Ether(dst=to_mac, src=mac) / IP(src=src, dst=dst, tos=0xC0, id=0x99) / \
            ICMP(type=kind[0], code=kind[1]) / Raw(quote)

    # A's masqueraded UDP flow (keeps port 5000), then a datagram of it with TTL 1.
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x101, UDP(sport=5000, dport=6000) /
                                Raw(b"flow of A")), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x102, UDP(sport=5000, dport=6000) /
                                Raw(b"expires here"), ttl=1), "dropped:ttl_exceeded")
    c.tx("internal", icmp_error(f, TIME_EXCEEDED, BOX_INT, i, A_MAC), "generated")

    # TTL 1 on a new port-forwarded connection.
    f = c.rx("external", outside(S_MAC, S, BOX_EXT, 0x201, TCP(sport=40000, dport=8080, flags="S",
                                                                 seq=1000), ttl=1),
             "dropped:ttl_exceeded")
    c.tx("external", icmp_error(f, TIME_EXCEEDED, BOX_EXT, e, S_MAC), "generated")

    # Path MTU through 1:1 NAT: 1450 bytes with DF towards the internal MTU of 1400.
    f = c.rx("external", outside(S_MAC, S, V, 0x202, UDP(sport=7000, dport=5001) /
                                 Raw(bytes(range(256)) * 5 + bytes(142)), flags="DF"),
             "dropped:mtu_exceeded")
    assert len(ip_packet(f)) == 1450
    c.tx("external", icmp_error(f, FRAG_NEEDED, V, e, S_MAC, mtu=1400), "generated")

    # The mapped host's own port unreachable about a datagram it received through 1:1 NAT.
    f = c.rx("external", outside(S_MAC, S, V, 0x203, UDP(sport=7001, dport=5001) /
                                 Raw(b"to the mapped host")), "forwarded")
    to_r = nat_routed(f, i, R_MAC, dst=R)
    c.tx("internal", to_r)
    f = c.rx("internal", error(i, R_MAC, R, S, PORT_UNREACHABLE, ip_packet(to_r)), "forwarded")
    c.tx("external", nat_icmp_error(f, e, S_MAC, outer_src=V, inner_dst=V))

    # Rejects through 1:1 NAT.
    f = c.rx("external", outside(S_MAC, S, V, 0x204, TCP(sport=40001, dport=23, flags="S",
                                                           seq=5000)), "dropped:filter_reject")
    c.tx("external", tcp_reset(f, e, S_MAC), "generated")
    f = c.rx("external", outside(S_MAC, S, V, 0x205, UDP(sport=7002, dport=161) /
                                 Raw(b"get public")), "dropped:filter_reject")
    c.tx("external", icmp_error(f, PORT_UNREACHABLE, V, e, S_MAC), "generated")

    # B keeps TCP port 5001 to the server; A's SYN from the same port gets AP.
    f = c.rx("internal", inside(B_MAC, B, SRV, 0x301, TCP(sport=5001, dport=80, flags="S",
                                                           seq=7000)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x103, TCP(sport=5001, dport=80, flags="S",
                                                           seq=9000)), "forwarded")
    a_syn = nat_routed(f, e, SRV_MAC, src=BOX_EXT, sport=AP)
    c.tx("external", a_syn)
    f = c.rx("external", error(e, RTR_MAC, RTR, BOX_EXT, TIME_EXCEEDED, ip_packet(a_syn)[:28]),
             "forwarded")
    c.tx("internal", nat_icmp_error(f, i, A_MAC, outer_dst=A, inner_src=A, inner_sport=5001))
    f = c.rx("external", error(e, SRV_MAC, SRV, BOX_EXT, PROHIBITED, ip_packet(a_syn)),
             "forwarded", same_burst=True)
    c.tx("internal", nat_icmp_error(f, i, A_MAC, outer_dst=A, inner_src=A, inner_sport=5001))


generate(build)
