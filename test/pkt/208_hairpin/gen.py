#!/usr/bin/python3
"""208_hairpin: NAT reflection of a forwarded port (docs/nat.md): TCP 10.1.0.1:8080 is forwarded
to 192.168.1.10:80.
* The internal client 192.168.1.20 connects to 10.1.0.1:8080: the SYN goes back out of the
  internal port to 192.168.1.10:80 with the source rewritten to the box's internal address
  192.168.1.1 (source port 40000 kept), so the server answers the box; its answers reach the
  client from 10.1.0.1:8080. A second client with the same source port gets 192.168.1.1:P2, a
  port probed from a hash of its connection (the same translated address, port and peer would
  collide).
* The office computer 10.1.0.100 connects to 10.1.0.1:8080 from outside: forwarded with its own
  source, regardless of the incoming list (which has no TCP rule); the answer leaves from
  10.1.0.1:8080.
* ICMP to the forwarded address is not forwarded: the office computer's ping (the incoming rule
  accepts it) and the internal client's ping are punted to the box.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, masquerade_port, nat_routed, pad  # noqa: E402
from scapy.all import ICMP, IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
WEB_MAC, WEB = "02:00:00:01:00:0a", "192.168.1.10"   # the forwarded-to web server
CL_MAC, CL = "02:00:00:01:00:14", "192.168.1.20"     # internal client
CL2_MAC, CL2 = "02:00:00:01:00:15", "192.168.1.21"   # second internal client
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer outside
P2 = masquerade_port(CL2, WEB, 40000, 80, 6, taken={40000})  # the second client's translated port
HTTP_GET = b"GET / HTTP/1.1\r\nHost: 10.1.0.1:8080\r\n\r\n"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def inside(mac, src, dst, ident, l4):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident) / l4

    def syn(sport, dport, seq):
        return TCP(sport=sport, dport=dport, flags="S", seq=seq, window=64240,
                   options=[("MSS", 1460)])

    def synack(sport, dport, seq, ack):
        return TCP(sport=sport, dport=dport, flags="SA", seq=seq, ack=ack, window=8192,
                   options=[("MSS", 1460)])

    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")
    first = True
    for mac, ip in ((WEB_MAC, WEB), (CL_MAC, CL), (CL2_MAC, CL2)):
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed", same_burst=not first)
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
        first = False

    # The internal client through the external address.
    f = c.rx("internal", inside(CL_MAC, CL, BOX_EXT, 0x101, syn(40000, 8080, 1000)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, WEB_MAC, src=BOX_INT, dst=WEB, dport=80))
    f = c.rx("internal", inside(WEB_MAC, WEB, BOX_INT, 0x201, synack(80, 40000, 5000, 1001)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, CL_MAC, src=BOX_EXT, dst=CL, sport=8080))
    f = c.rx("internal", inside(CL_MAC, CL, BOX_EXT, 0x102,
                                TCP(sport=40000, dport=8080, flags="PA", seq=1001, ack=5001,
                                    window=64240) / Raw(HTTP_GET)), "forwarded")
    c.tx("internal", nat_routed(f, i, WEB_MAC, src=BOX_INT, dst=WEB, dport=80))
    f = c.rx("internal", inside(WEB_MAC, WEB, BOX_INT, 0x202,
                                TCP(sport=80, dport=40000, flags="PA", seq=5001,
                                    ack=1001 + len(HTTP_GET), window=8192) /
                                Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")),
             "forwarded")
    c.tx("internal", nat_routed(f, i, CL_MAC, src=BOX_EXT, dst=CL, sport=8080))

    # A second internal client, same source port: 192.168.1.1:40000 -> 192.168.1.10:80 is taken.
    f = c.rx("internal", inside(CL2_MAC, CL2, BOX_EXT, 0x301, syn(40000, 8080, 3000)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, WEB_MAC, src=BOX_INT, dst=WEB, sport=P2, dport=80))
    f = c.rx("internal", inside(WEB_MAC, WEB, BOX_INT, 0x203, synack(80, P2, 7000, 3001)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, CL2_MAC, src=BOX_EXT, dst=CL2, sport=8080, dport=40000))

    # From outside: plain port forwarding, the source is kept.
    f = c.rx("external", Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=BOX_EXT, id=0x401) /
             syn(40100, 8080, 9000), "forwarded")
    c.tx("internal", nat_routed(f, i, WEB_MAC, dst=WEB, dport=80))
    f = c.rx("internal", inside(WEB_MAC, WEB, PC, 0x204, synack(80, 40100, 8000, 9001)),
             "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=BOX_EXT, sport=8080))

    # Pings to the forwarded address go to the box.
    f = c.rx("external", Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=BOX_EXT, id=0x402) /
             ICMP(id=0x55, seq=1) / Raw(bytes(range(56))), "punted")
    c.punt("external", f)
    f = c.rx("internal", inside(CL_MAC, CL, BOX_EXT, 0x103, ICMP(id=0x56, seq=1) /
                                Raw(bytes(range(56)))), "punted")
    c.punt("internal", f)


generate(build)
