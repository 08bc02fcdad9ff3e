#!/usr/bin/python3
"""202_networks_3_4: 1:1 NAT of manual 3.4, real 192.168.1.0/24 <-> virtual 10.1.1.0/24 on
external: the network part is mapped, the host part kept (docs/nat.md).
* The box answers ARP for 10.1.1.200 and 10.1.1.201 on external.
* Modbus/TCP from the office computer to 10.1.1.200 reaches 192.168.1.200; the answer leaves
  from 10.1.1.200.
* 192.168.1.201 opens a connection to the office computer itself: it leaves from 10.1.1.201,
  and the answer to 10.1.1.201 reaches 192.168.1.201.
* UDP to 10.1.1.37, a host the box does not know yet: the box asks for the *real* address
  192.168.1.37 on internal, and the packet leaves for it when it answers.
* A fragmented UDP datagram to 10.1.1.200: 1:1 NAT translates fragments too (docs/nat.md), the
  first one with the UDP checksum of the whole translated datagram, the second by address only.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (arp_reply, arp_request, generate, nat_fragment, nat_routed,  # noqa: E402
                    pad)
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
H200_MAC, H200, V200 = "02:00:00:01:00:c8", "192.168.1.200", "10.1.1.200"
H201_MAC, H201, V201 = "02:00:00:01:00:c9", "192.168.1.201", "10.1.1.201"
H37_MAC, H37, V37 = "02:00:00:01:00:25", "192.168.1.37", "10.1.1.37"
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def from_pc(dst, ident, l4):
        return Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=dst, id=ident) / l4

    def from_host(mac, src, dst, ident, l4):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident) / l4

    # ARP: the box itself, and two addresses of the virtual network (proxy ARP).
    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")
    for target in (V200, V201):
        c.rx("external", pad(arp_request(PC_MAC, PC, target)), "consumed", same_burst=True)
        c.tx("external", arp_reply(e, target, PC_MAC, PC), "generated")
    c.rx("internal", pad(arp_request(H200_MAC, H200, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, H200_MAC, H200), "generated")
    c.rx("internal", pad(arp_request(H201_MAC, H201, BOX_INT)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, BOX_INT, H201_MAC, H201), "generated")

    # 10.1.1.200 -> 192.168.1.200 (Modbus/TCP), and the answer from 10.1.1.200.
    f = c.rx("external", from_pc(V200, 0x101, TCP(sport=40000, dport=502, flags="S", seq=1000,
                                                  window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("internal", nat_routed(f, i, H200_MAC, dst=H200))
    f = c.rx("internal", from_host(H200_MAC, H200, PC, 0x201,
                                   TCP(sport=502, dport=40000, flags="SA", seq=7000, ack=1001,
                                       window=8192, options=[("MSS", 1460)])), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=V200))

    # 192.168.1.201 -> office computer appears from 10.1.1.201; the answer comes back.
    f = c.rx("internal", from_host(H201_MAC, H201, PC, 0x301,
                                   TCP(sport=45000, dport=80, flags="S", seq=300,
                                       window=64240, options=[("MSS", 1460)])), "forwarded",
             same_burst=True)
    c.tx("external", nat_routed(f, e, PC_MAC, src=V201))
    f = c.rx("external", from_pc(V201, 0x102, TCP(sport=80, dport=45000, flags="SA", seq=9000,
                                                  ack=301, window=64240,
                                                  options=[("MSS", 1460)])), "forwarded")
    c.tx("internal", nat_routed(f, i, H201_MAC, dst=H201))
    f = c.rx("internal", from_host(H201_MAC, H201, PC, 0x302,
                                   TCP(sport=45000, dport=80, flags="A", seq=301, ack=9001,
                                       window=64240)), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=V201))

    # 10.1.1.37: the box resolves the real address 192.168.1.37 first.
    held = c.rx("external", from_pc(V37, 0x103, UDP(sport=40001, dport=161) / Raw(b"snmp get")),
                "forwarded")
    c.tx("internal", arp_request(i, BOX_INT, H37), "generated")
    r = c.rx("internal", arp_reply(H37_MAC, H37, i, BOX_INT), "consumed")
    c.punt("internal", r)
    c.tx("internal", nat_routed(held, i, H37_MAC, dst=H37))

    # A fragmented UDP datagram to 10.1.1.200 (two fragments of 504 bytes of UDP data).
    data = bytes((7 * k + 3) & 0xFF for k in range(1000))

    def datagram(dst):  # the UDP header and data, checksum for these addresses
        return bytes(IP(src=PC, dst=dst) / UDP(sport=40002, dport=9000) / Raw(data))[20:]

    l4_in, l4_out = datagram(V200), datagram(H200)
    first = c.rx("external", Ether(dst=e, src=PC_MAC) /
                 IP(src=PC, dst=V200, id=0x150, flags="MF", frag=0, proto=17) /
                 Raw(l4_in[:504]), "forwarded")
    # The first fragment carries the UDP header: its checksum is the translated datagram's.
    c.tx("internal", bytes(Ether(dst=H200_MAC, src=i) /
                           IP(src=PC, dst=H200, id=0x150, flags="MF", frag=0, proto=17, ttl=63) /
                           Raw(l4_out[:504])))
    assert first[14 + 20 + 6:14 + 20 + 8] != l4_out[6:8], "the checksum must change"
    second = c.rx("external", Ether(dst=e, src=PC_MAC) /
                  IP(src=PC, dst=V200, id=0x150, frag=63, proto=17) / Raw(l4_in[504:]),
                  "forwarded", same_burst=True)
    c.tx("internal", nat_fragment(second, i, H200_MAC, dst=H200))


generate(build)
