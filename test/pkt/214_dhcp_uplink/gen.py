#!/usr/bin/python3
"""214_dhcp_uplink: an external interface with dhcp: true before its first lease.
* The ISP's DHCP server answers the box's client: an offer broadcast (255.255.255.255, broadcast
  MAC) and an acknowledgement unicast to the offered address 198.51.100.50 at the box's MAC go to
  the exception path unchanged, though the box owns no address there yet and the incoming
  list drops everything.
* The same offer from a rogue server on the internal network (no DHCP client there) and a
  datagram with the ports the other way round (a client's request) on the external one are
  not for the box's client: not routable, dropped.
* The forwarding to %extern waits for the lease: a SYN to 0.0.0.0:8081 reaches nobody, and the
  production network's traffic to the Internet has no route yet (net unreachable).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import generate, icmp_error  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402
from scapy.layers.dhcp import BOOTP, DHCP  # noqa: E402

SERVER_MAC, SERVER = "02:00:00:02:00:01", "198.51.100.1"
OFFERED = "198.51.100.50"
ROGUE_MAC, ROGUE = "02:00:00:01:00:66", "192.168.1.66"
A_MAC, A = "02:00:00:01:00:0b", "192.168.1.11"
BOX_INT = "192.168.1.254"
XID = 0x5eed2140


def answer(src_mac, src, dst_mac, dst, message, box_mac):
    chaddr = bytes.fromhex(box_mac.replace(":", "")) + bytes(10)
    return (Ether(dst=dst_mac, src=src_mac) / IP(src=src, dst=dst, id=0x4200, ttl=64) /
            UDP(sport=67, dport=68) /
            BOOTP(op=2, xid=XID, yiaddr=OFFERED, siaddr=src, chaddr=chaddr) /
            DHCP(options=[("message-type", message), ("server_id", src), ("lease_time", 120),
                          ("subnet_mask", "255.255.255.0"), ("router", SERVER), "end"]))


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.neighbour_asks("internal", A_MAC, A, BOX_INT)
    offer = c.rx("external", answer(SERVER_MAC, SERVER, "ff:ff:ff:ff:ff:ff", "255.255.255.255", "offer", e),
                 "punted")
    c.punt("external", offer)
    ack = c.rx("external", answer(SERVER_MAC, SERVER, e, OFFERED, "ack", e), "punted")
    c.punt("external", ack)
    c.rx("internal", answer(ROGUE_MAC, ROGUE, "ff:ff:ff:ff:ff:ff", "255.255.255.255", "offer", i),
         "dropped:ipv4_not_routable")
    c.rx("external", Ether(dst="ff:ff:ff:ff:ff:ff", src=SERVER_MAC) /
         IP(src=SERVER, dst="255.255.255.255", id=0x4201) / UDP(sport=68, dport=67) / Raw(b"\x01" * 240),
         "dropped:ipv4_not_routable")
    c.rx("external", Ether(dst=e, src=SERVER_MAC) / IP(src=SERVER, dst="0.0.0.0", id=0x4202) /
         TCP(sport=40000, dport=8081, flags="S", seq=77), "dropped:ipv4_not_routable")
    early = c.rx("internal", Ether(dst=i, src=A_MAC) / IP(src=A, dst="203.0.113.80", id=0x4203, ttl=64) /
                 TCP(sport=50000, dport=80, flags="S", seq=5), "dropped:no_route")
    c.tx("internal", icmp_error(early, (3, 0), BOX_INT, i, A_MAC), "generated")


generate(build)
