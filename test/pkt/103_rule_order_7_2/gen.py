#!/usr/bin/python3
"""103_rule_order_7_2: the incorrect rule order of manual 7.2 (outgoing: 1. all accept, 2. TCP
from port 80 to port 80 reject). The first matching rule decides, so rule 1 accepts everything
and the reject never applies: the browser's SYN to port 80 is forwarded and its connection
works; even a SYN from port 80 to port 80 (which rule 2 would match) is forwarded; UDP and ping
pass too. Incoming drops all: the web server cannot open a connection to the client.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
CL_MAC, CL = "02:00:00:01:00:0a", "192.168.1.10"     # a client with a web browser
WEB_MAC, WEB = "02:00:00:02:00:c8", "10.1.0.200"     # a web server in the company network
SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
               ("WScale", 7)]


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    data = Raw(bytes(range(56)))

    def client(ident, l4):
        return Ether(dst=i, src=CL_MAC) / IP(src=CL, dst=WEB, id=ident, flags="DF") / l4

    def web(ident, l4):
        return Ether(dst=e, src=WEB_MAC) / IP(src=WEB, dst=CL, id=ident, flags="DF") / l4

    c.rx("internal", pad(arp_request(CL_MAC, CL, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, CL_MAC, CL), "generated")
    c.rx("external", pad(arp_request(WEB_MAC, WEB, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, WEB_MAC, WEB), "generated")

    # The browser's connection to port 80: accepted by rule 1, rule 2 is never reached.
    f = c.rx("internal", client(1, TCP(sport=50000, dport=80, flags="S", seq=1000, window=64240,
                                       options=SYN_OPTIONS)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(0, TCP(sport=80, dport=50000, flags="SA", seq=9000, ack=1001,
                                    window=65160, options=SYN_OPTIONS)), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    f = c.rx("internal", client(2, TCP(sport=50000, dport=80, flags="A", seq=1001, ack=9001,
                                       window=502)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))

    # A SYN from port 80 to port 80 (what rule 2 describes): rule 1 accepts it first.
    f = c.rx("internal", client(3, TCP(sport=80, dport=80, flags="S", seq=2000, window=64240)),
             "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))

    # Anything else is accepted as well.
    f = c.rx("internal", client(4, UDP(sport=50001, dport=53) / Raw(b"dns query")), "forwarded",
             same_burst=True)
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("internal", client(5, ICMP(id=0x200, seq=1) / data), "forwarded", same_burst=True)
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(1, ICMP(type=0, id=0x200, seq=1) / data), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))

    # The incoming list drops all: the web server cannot connect to the client.
    c.rx("external", web(2, TCP(sport=50002, dport=80, flags="S", seq=3000, window=65160)),
         "dropped:filter_policy_drop", same_burst=True)
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
