#!/usr/bin/python3
"""104_rule_order_7_3: the correct rule order of manual 7.3 (outgoing: 1. TCP to port 80 reject,
2. all accept) plus a UDP reject rule (UDP to tftp, before the accept).
* The browser's SYN to port 80 is dropped (filter_reject) and answered with a TCP reset from the
  web server's address to the client: RST+ACK, seq 0, ack = the SYN's seq + 1, TTL 64, ID 0, no
  DF, TOS 0, no options, window 0; it is routed to the client like any frame the box generates
  (the client's MAC is known from its ARP request for the box). The same for another server and
  for a SYN carrying data (ack = seq + data length + 1).
* UDP to tftp is dropped (filter_reject) and answered with ICMP port unreachable from the box's
  internal address, quoting the datagram (like the dataplane's other ICMP errors).
* Everything else is accepted by rule 3: HTTPS (and its SYN-ACK back through the incoming "drop
  all"), DNS and its answer, ping and its reply.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_PORT_UNREACHABLE, arp_reply, arp_request, generate,  # noqa: E402
                    icmp_error, pad, routed, tcp_reset)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
CL_MAC, CL = "02:00:00:01:00:0a", "192.168.1.10"     # a client with a web browser
WEB_MAC, WEB = "02:00:00:02:00:c8", "10.1.0.200"     # a web server in the company network
WEB2 = "10.1.0.201"                                  # another one (never reached)
SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
               ("WScale", 7)]


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    data = Raw(bytes(range(56)))

    def client(ident, l4, dst=WEB, tos=0):
        return Ether(dst=i, src=CL_MAC) / IP(src=CL, dst=dst, id=ident, flags="DF", tos=tos) / l4

    def web(ident, l4):
        return Ether(dst=e, src=WEB_MAC) / IP(src=WEB, dst=CL, id=ident, flags="DF") / l4

    # The client asks for the box first: its MAC is known when the reset has to reach it.
    c.rx("internal", pad(arp_request(CL_MAC, CL, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, CL_MAC, CL), "generated")
    c.rx("external", pad(arp_request(WEB_MAC, WEB, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, WEB_MAC, WEB), "generated")

    # Web access: rule 1 rejects the SYN with a reset (RST+ACK, seq 0, ack = seq + 1).
    f = c.rx("internal", client(1, TCP(sport=50000, dport=80, flags="S", seq=0x12345678,
                                       window=64240, options=SYN_OPTIONS), tos=0x10),
             "dropped:filter_reject")
    c.tx("internal", tcp_reset(f, i, CL_MAC), "generated")
    # Another web server: the reset comes from that server's address.
    f = c.rx("internal", client(2, TCP(sport=50001, dport=80, flags="S", seq=0xFFFFFFFF,
                                       window=64240, options=SYN_OPTIONS), dst=WEB2),
             "dropped:filter_reject")
    c.tx("internal", tcp_reset(f, i, CL_MAC), "generated")
    # A SYN with data (TCP Fast Open): ack = seq + 1 + the data length.
    f = c.rx("internal", client(3, TCP(sport=50002, dport=80, flags="S", seq=7000, window=64240,
                                       options=[("MSS", 1460)]) / Raw(b"GET / HTTP/1.0\r\n\r\n")),
             "dropped:filter_reject")
    c.tx("internal", tcp_reset(f, i, CL_MAC), "generated")

    # HTTPS: rule 3 accepts it; the SYN-ACK passes back as the connection.
    f = c.rx("internal", client(4, TCP(sport=50003, dport=443, flags="S", seq=1000,
                                       window=64240, options=SYN_OPTIONS)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(100, TCP(sport=443, dport=50003, flags="SA", seq=5000, ack=1001,
                                      window=65160, options=SYN_OPTIONS)), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    f = c.rx("internal", client(5, TCP(sport=50003, dport=443, flags="A", seq=1001, ack=5001,
                                       window=502)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))

    # UDP to tftp: rule 2 rejects it with ICMP port unreachable from the box's internal address.
    f = c.rx("internal", client(6, UDP(sport=40000, dport=69) /
                                Raw(b"\x00\x01firmware.bin\x00octet\x00")),
             "dropped:filter_reject")
    c.tx("internal", icmp_error(f, ICMP_PORT_UNREACHABLE, BOX_INT, i, CL_MAC), "generated")

    # DNS and ping: accepted, the answers pass back.
    f = c.rx("internal", client(7, UDP(sport=40001, dport=53) / Raw(b"dns query")), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(101, UDP(sport=53, dport=40001) / Raw(b"dns answer")), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    f = c.rx("internal", client(8, ICMP(id=0x300, seq=1) / data), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(102, ICMP(type=0, id=0x300, seq=1) / data), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
