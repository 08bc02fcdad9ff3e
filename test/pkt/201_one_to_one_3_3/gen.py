#!/usr/bin/python3
"""201_one_to_one_3_3: 1:1 NAT of manual 3.3, real 192.168.1.200 <-> virtual 10.1.1.10 (/32) on
external (docs/nat.md).
* The office computer asks for 10.1.1.10 on external: the box answers with its external MAC
  (proxy ARP).
* HTTP from the office computer to 10.1.1.10:80: the destination is rewritten to 192.168.1.200
  before routing, so the packet leaves on internal and the incoming rule for the real address
  accepts it; the SYN-ACK and the data from 192.168.1.200 leave on external from 10.1.1.10, the
  office computer's packets keep arriving for 10.1.1.10.
* UDP to 10.1.1.10: the filter sees 192.168.1.200, so the rule that names 10.1.1.10 does not
  match (filter_no_match); so does a ping (no ICMP rule).
* 192.168.1.200 pings the office computer itself: its own connection leaves on the virtual
  network's interface from 10.1.1.10, and the echo reply to 10.1.1.10 comes back to
  192.168.1.200. An unmapped production host (192.168.1.201) keeps its address.
Every translated frame: MACs rewritten, TTL - 1, checksums computed afresh (golden.nat_routed).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, nat_routed, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
REAL, VIRTUAL = "192.168.1.200", "10.1.1.10"
HOST_MAC = "02:00:00:01:00:c8"                       # the mapped production host
OTHER_MAC, OTHER = "02:00:00:01:00:c9", "192.168.1.201"  # not mapped
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer
HTTP_GET = b"GET / HTTP/1.1\r\nHost: 10.1.1.10\r\n\r\n"
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def from_pc(dst, ident, l4):
        return Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=dst, id=ident) / l4

    def from_host(dst, ident, l4, src=REAL, src_mac=HOST_MAC):
        return Ether(dst=i, src=src_mac) / IP(src=src, dst=dst, id=ident) / l4

    # The office computer asks for the box (learned) and for the virtual address (proxy ARP).
    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")
    c.rx("external", pad(arp_request(PC_MAC, PC, VIRTUAL)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, VIRTUAL, PC_MAC, PC), "generated")
    # The production hosts ask for the box (learned: nothing waits for ARP below).
    c.rx("internal", pad(arp_request(HOST_MAC, REAL, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, HOST_MAC, REAL), "generated")

    # HTTP to the virtual address reaches the real host.
    f = c.rx("external", from_pc(VIRTUAL, 0x101, TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                     window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("internal", nat_routed(f, i, HOST_MAC, dst=REAL))
    f = c.rx("internal", from_host(PC, 0x201, TCP(sport=80, dport=40000, flags="SA", seq=5000,
                                                  ack=1001, window=8192,
                                                  options=[("MSS", 1460)])), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=VIRTUAL))
    f = c.rx("external", from_pc(VIRTUAL, 0x102, TCP(sport=40000, dport=80, flags="A", seq=1001,
                                                     ack=5001, window=64240)), "forwarded")
    c.tx("internal", nat_routed(f, i, HOST_MAC, dst=REAL))
    f = c.rx("external", from_pc(VIRTUAL, 0x103, TCP(sport=40000, dport=80, flags="PA",
                                                     seq=1001, ack=5001, window=64240) /
                                 Raw(HTTP_GET)), "forwarded", same_burst=True)
    c.tx("internal", nat_routed(f, i, HOST_MAC, dst=REAL))
    f = c.rx("internal", from_host(PC, 0x202, TCP(sport=80, dport=40000, flags="PA", seq=5001,
                                                  ack=1001 + len(HTTP_GET), window=8192) /
                                   Raw(HTTP_OK)), "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=VIRTUAL))

    # The rule naming the virtual address never matches; ICMP has no rule.
    c.rx("external", from_pc(VIRTUAL, 0x104, UDP(sport=40001, dport=161) / Raw(b"snmp get")),
         "dropped:filter_no_match")
    c.rx("external", from_pc(VIRTUAL, 0x105, ICMP(id=0x77, seq=1) / Raw(bytes(range(56)))),
         "dropped:filter_no_match", same_burst=True)

    # The real host's own connection leaves from the virtual address; the reply comes back.
    f = c.rx("internal", from_host(PC, 0x203, ICMP(id=0x200, seq=1) / Raw(bytes(range(56)))),
             "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=VIRTUAL))
    f = c.rx("external", from_pc(VIRTUAL, 0x106, ICMP(type=0, id=0x200, seq=1) /
                                 Raw(bytes(range(56)))), "forwarded")
    c.tx("internal", nat_routed(f, i, HOST_MAC, dst=REAL))

    # An unmapped production host keeps its address.
    f = c.rx("internal", from_host(PC, 0x301, ICMP(id=0x201, seq=1) / Raw(bytes(range(56))),
                                   src=OTHER, src_mac=OTHER_MAC), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))

    # The connection is still there: more data arrives for the virtual address.
    f = c.rx("external", from_pc(VIRTUAL, 0x107, TCP(sport=40000, dport=80, flags="A",
                                                     seq=1001 + len(HTTP_GET),
                                                     ack=5001 + len(HTTP_OK), window=64240)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, HOST_MAC, dst=REAL))


generate(build)
