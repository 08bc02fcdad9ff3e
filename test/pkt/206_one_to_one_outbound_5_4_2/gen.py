#!/usr/bin/python3
"""206_one_to_one_outbound_5_4_2: 1:1 NAT of manual 5.4.2, the company web server 10.1.0.200 <->
192.168.1.200 (/32) on internal (docs/nat.md).
* The client 192.168.1.10 asks for 192.168.1.200 on internal: the box answers with its internal
  MAC (proxy ARP). The same question on external is not answered.
* The client pings 192.168.1.200 and opens http://192.168.1.200: the packets leave on external
  for 10.1.0.200 (destination rewritten before routing; the 5.3 outgoing rules name the real
  address), the client's own address is kept; the answers reach the client from 192.168.1.200.
* Not allowed by the outgoing rules (filter_no_match): another client's ping, ssh to the server.
* The server's own Modbus/TCP connection to the PLC (the one incoming rule) arrives inside from
  192.168.1.200, the PLC's answer to 192.168.1.200 goes back to 10.1.0.200; the server's ping to
  the PLC has no rule (filter_no_match).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, nat_routed, pad  # noqa: E402
from scapy.all import ICMP, IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"       # client (5.3), also the PLC polled
B_MAC, B = "02:00:00:01:00:0b", "192.168.1.11"       # a client the rules do not name
SRV_MAC, SRV = "02:00:00:02:00:c8", "10.1.0.200"     # web server (real)
VIRTUAL = "192.168.1.200"
PING = bytes(range(56))


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def from_a(dst, ident, l4, src=A, mac=A_MAC):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident) / l4

    def from_srv(dst, ident, l4):
        return Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=dst, id=ident) / l4

    c.rx("internal", pad(arp_request(A_MAC, A, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, A_MAC, A), "generated")
    c.rx("internal", pad(arp_request(A_MAC, A, VIRTUAL)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, VIRTUAL, A_MAC, A), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, VIRTUAL)), "consumed", same_burst=True)

    # ping 192.168.1.200
    f = c.rx("internal", from_a(VIRTUAL, 0x101, ICMP(id=0x321, seq=1) / Raw(PING)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, dst=SRV))
    f = c.rx("external", from_srv(A, 0x201, ICMP(type=0, id=0x321, seq=1) / Raw(PING)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, src=VIRTUAL))

    # http://192.168.1.200
    f = c.rx("internal", from_a(VIRTUAL, 0x102, TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                    window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, dst=SRV))
    f = c.rx("external", from_srv(A, 0x202, TCP(sport=80, dport=40000, flags="SA", seq=5000,
                                                ack=1001, window=8192,
                                                options=[("MSS", 1460)])), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, src=VIRTUAL))
    f = c.rx("internal", from_a(VIRTUAL, 0x103, TCP(sport=40000, dport=80, flags="A", seq=1001,
                                                    ack=5001, window=64240)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, dst=SRV))

    # Not in the outgoing rules.
    c.rx("internal", from_a(VIRTUAL, 0x301, ICMP(id=0x322, seq=1) / Raw(PING), src=B, mac=B_MAC),
         "dropped:filter_no_match", same_burst=True)
    c.rx("internal", from_a(VIRTUAL, 0x104, TCP(sport=40001, dport=22, flags="S", seq=2000,
                                                window=64240)),
         "dropped:filter_no_match", same_burst=True)

    # The server's own connection to the PLC arrives from its virtual address.
    f = c.rx("external", from_srv(A, 0x203, TCP(sport=41000, dport=502, flags="S", seq=9000,
                                                window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, src=VIRTUAL))
    f = c.rx("internal", from_a(VIRTUAL, 0x105, TCP(sport=502, dport=41000, flags="SA", seq=600,
                                                    ack=9001, window=8192,
                                                    options=[("MSS", 1460)])), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, dst=SRV))
    c.rx("external", from_srv(A, 0x204, ICMP(id=0x323, seq=1) / Raw(PING)),
         "dropped:filter_no_match")


generate(build)
