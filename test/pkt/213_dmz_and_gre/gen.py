#!/usr/bin/python3
"""213_dmz_and_gre: the DMZ list decides every new connection to or from the DMZ (also from
outside), and GRE port forwarding.
* The company computer 10.1.0.100 reaches the DMZ web server 172.16.0.10:80 (rule 1) and its
  answer comes back; its SSH to the web server matches no rule (filter_no_match).
* The internal host 192.168.1.10 reaches the web server's SSH (rule 2: inside to the DMZ).
* The web server's SYN to 192.168.1.10:445 is dropped by rule 3 and logged.
* GRE (protocol 47) from 10.1.0.100 to the box is forwarded to 192.168.1.50 (destination
  rewritten, the GRE header travels as it is), the answer leaves from 10.1.0.1; GRE from
  10.1.0.101, which the forwarding does not name, is traffic to the box: the incoming list
  drops it.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import generate, nat_routed, routed  # noqa: E402
from scapy.all import GRE, IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT, BOX_DMZ = "192.168.1.254", "10.1.0.1", "172.16.0.1"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"
VPN_MAC, VPN = "02:00:00:01:00:32", "192.168.1.50"
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"
PC2_MAC, PC2 = "02:00:00:02:00:65", "10.1.0.101"
WEB_MAC, WEB = "02:00:00:03:00:0a", "172.16.0.10"
RULE_NEVER_INWARD = 3


def build(c):
    i, e, d = c.iface("internal").mac, c.iface("external").mac, c.iface("dmz").mac
    for mac, ip in ((A_MAC, A), (VPN_MAC, VPN)):
        c.neighbour_asks("internal", mac, ip, BOX_INT)
    for mac, ip in ((PC_MAC, PC), (PC2_MAC, PC2)):
        c.neighbour_asks("external", mac, ip, BOX_EXT)
    c.neighbour_asks("dmz", WEB_MAC, WEB, BOX_DMZ)

    def frame(to_mac, mac, src, dst, ident, l4):
        return Ether(dst=to_mac, src=mac) / IP(src=src, dst=dst, id=ident) / l4

    def syn(sport, dport, seq):
        return TCP(sport=sport, dport=dport, flags="S", seq=seq, window=64240)

    f = c.rx("external", frame(e, PC_MAC, PC, WEB, 0x101, syn(40000, 80, 100)), "forwarded")
    c.tx("dmz", routed(f, d, WEB_MAC))
    f = c.rx("dmz", frame(d, WEB_MAC, WEB, PC, 0x301, TCP(sport=80, dport=40000, flags="SA",
                                                              seq=900, ack=101, window=8192)),
             "forwarded")
    c.tx("external", routed(f, e, PC_MAC))
    c.rx("external", frame(e, PC_MAC, PC, WEB, 0x102, syn(40001, 22, 200)), "dropped:filter_no_match")

    f = c.rx("internal", frame(i, A_MAC, A, WEB, 0x201, syn(50000, 22, 300)), "forwarded")
    c.tx("dmz", routed(f, d, WEB_MAC))

    f = c.rx("dmz", frame(d, WEB_MAC, WEB, A, 0x302, syn(50001, 445, 400)), "dropped:filter_rule_drop")
    c.log(f"fw-dmz-3 act=DROP IN=dmz OUT=internal SRC={WEB} DST={A} LEN=40 TOS=0x00 TTL=64 "
          f"ID={0x302} PROTO=TCP SPT=50001 DPT=445 RULE={RULE_NEVER_INWARD} \"never inward\"")

    gre = GRE(proto=0x880B, key_present=1, key=0x1234) / Raw(b"enhanced GRE payload")
    f = c.rx("external", frame(e, PC_MAC, PC, BOX_EXT, 0x103, gre), "forwarded")
    c.tx("internal", nat_routed(f, i, VPN_MAC, dst=VPN))
    f = c.rx("internal", frame(i, VPN_MAC, VPN, PC, 0x202, gre), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=BOX_EXT))
    c.rx("external", frame(e, PC2_MAC, PC2, BOX_EXT, 0x104, gre), "dropped:filter_policy_drop")


generate(build)
