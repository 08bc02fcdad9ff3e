#!/usr/bin/python3
"""212_host_unreachable: packets held for a next hop that never answers ARP get an ICMP host
unreachable each once the box gives up (three requests one second apart), about the packet as
it arrived (docs/nat.md, "ICMP"):
* A's masqueraded datagram to 10.1.0.77 (on the external network, silent): host unreachable
  to A from the box's internal address, quoting A's own address, port and TTL.
* A port-forwarded SYN to 10.1.0.1:8081 whose target 192.168.1.99 is silent: host unreachable
  from 10.1.0.1, quoting 10.1.0.1:8081 - never 192.168.1.99.
Frames for nobody (separators, dropped as l2_not_for_us) move the replay clock on.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_request, generate, icmp_error, separator_frame  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0b", "192.168.1.11"
S_MAC, S = "02:00:00:02:00:64", "10.1.0.100"
DEAD_OUT, DEAD_IN = "10.1.0.77", "192.168.1.99"
HOST_UNREACHABLE = (3, 1)


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.neighbour_asks("external", S_MAC, S, BOX_EXT)
    c.neighbour_asks("internal", A_MAC, A, BOX_INT)

    a = c.rx("internal", Ether(dst=i, src=A_MAC) / IP(src=A, dst=DEAD_OUT, id=0x101, ttl=17) /
             UDP(sport=5000, dport=6000) / Raw(b"anyone there?"), "dropped:neighbour_unresolved")
    c.tx("external", arp_request(e, BOX_EXT, DEAD_OUT), "generated")
    s = c.rx("external", Ether(dst=e, src=S_MAC) / IP(src=S, dst=BOX_EXT, id=0x201, ttl=50) /
             TCP(sport=40000, dport=8081, flags="S", seq=1234), "dropped:neighbour_unresolved")
    c.tx("internal", arp_request(i, BOX_INT, DEAD_IN), "generated")

    # One more request each second; after the third the box gives up.
    for n, name in enumerate(("internal", "external")):
        c.rx(name, separator_frame(), "dropped:l2_not_for_us", after_s=1.2)
        c.tx("external", arp_request(e, BOX_EXT, DEAD_OUT), "generated")
        c.tx("internal", arp_request(i, BOX_INT, DEAD_IN), "generated")
    c.rx("internal", separator_frame(), "dropped:l2_not_for_us", after_s=1.2)
    c.tx("internal", icmp_error(a, HOST_UNREACHABLE, BOX_INT, i, A_MAC), "generated")
    c.tx("external", icmp_error(s, HOST_UNREACHABLE, BOX_EXT, e, S_MAC), "generated")


generate(build)
