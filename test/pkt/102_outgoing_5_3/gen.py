#!/usr/bin/python3
"""102_outgoing_5_3: the outgoing rules of manual 5.3 (TCP 192.168.1.10 -> 10.1.0.200:http
accept, ICMP 192.168.1.10 -> 10.1.0.200 accept, general setting "use the rules"), incoming list
drop all. Also manual 6.1: the answers to allowed outgoing connections pass, with no incoming
rule at all.
* The client's HTTP connection to the web server: SYN, SYN-ACK, ACK, request, response and the
  FIN handshake all pass; a ping to the web server and its echo reply pass.
* Dropped as filter_no_match: another client to the web server (TCP and ping), the client to
  another server (TCP and ping), the client to the web server's port 443, UDP to the web server.
* Dropped by the incoming list (filter_policy_drop): the web server opening a connection to the
  client, the web server pinging the client.
* ICMP errors: host unreachable from the company router about the client's tracked connection
  passes as related; one about a connection that does not exist is filtered by the incoming
  list like any packet (filter_policy_drop).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
CL_MAC, CL = "02:00:00:01:00:0a", "192.168.1.10"     # the client of 5.3
CL2_MAC, CL2 = "02:00:00:01:00:0b", "192.168.1.11"   # another production host
WEB_MAC, WEB = "02:00:00:02:00:c8", "10.1.0.200"     # the web server of 5.3
SRV2_MAC, SRV2 = "02:00:00:02:00:c9", "10.1.0.201"   # another company server
RTR_MAC, RTR = "02:00:00:02:00:fe", "10.1.0.254"     # company router (mGuard 2)
HTTP_GET = b"GET / HTTP/1.1\r\nHost: 10.1.0.200\r\n\r\n"
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    data = Raw(bytes(range(56)))

    def inside(src_mac, src, dst, ident, l4):
        return Ether(dst=i, src=src_mac) / IP(src=src, dst=dst, id=ident) / l4

    def outside(src_mac, src, dst, ident, l4):
        return Ether(dst=e, src=src_mac) / IP(src=src, dst=dst, id=ident, ttl=63) / l4

    def web(ident, l4):
        return outside(WEB_MAC, WEB, CL, ident, l4)

    def client(ident, l4, dst=WEB):
        return inside(CL_MAC, CL, dst, ident, l4)

    # Everybody asks for the box: answered and learned.
    for iface, mac, ip, box in (("internal", CL_MAC, CL, BOX_INT),
                                ("internal", CL2_MAC, CL2, BOX_INT),
                                ("external", WEB_MAC, WEB, BOX_EXT),
                                ("external", SRV2_MAC, SRV2, BOX_EXT)):
        c.rx(iface, pad(arp_request(mac, ip, box)), "consumed")
        c.tx(iface, arp_reply(c.iface(iface).mac, box, mac, ip), "generated")

    # The client's HTTP connection (rule 1), answered through the incoming "drop all".
    cs, ss = 10000, 70000
    f = c.rx("internal", client(1, TCP(sport=50000, dport=80, flags="S", seq=cs, window=64240,
                                       options=[("MSS", 1460)])), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(101, TCP(sport=80, dport=50000, flags="SA", seq=ss, ack=cs + 1,
                                      window=65160, options=[("MSS", 1460)])), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    f = c.rx("internal", client(2, TCP(sport=50000, dport=80, flags="A", seq=cs + 1, ack=ss + 1,
                                       window=64240)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("internal", client(3, TCP(sport=50000, dport=80, flags="PA", seq=cs + 1,
                                       ack=ss + 1, window=64240) / Raw(HTTP_GET)),
             "forwarded", same_burst=True)
    c.tx("external", routed(f, e, WEB_MAC))
    cs += 1 + len(HTTP_GET)
    ss += 1
    f = c.rx("external", web(102, TCP(sport=80, dport=50000, flags="PA", seq=ss, ack=cs,
                                      window=65160) / Raw(HTTP_OK)), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    ss += len(HTTP_OK)
    # Closing: FIN from the client, FIN+ACK from the server, last ACK.
    f = c.rx("internal", client(4, TCP(sport=50000, dport=80, flags="FA", seq=cs, ack=ss,
                                       window=64240)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(103, TCP(sport=80, dport=50000, flags="FA", seq=ss, ack=cs + 1,
                                      window=65160)), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    f = c.rx("internal", client(5, TCP(sport=50000, dport=80, flags="A", seq=cs + 1,
                                       ack=ss + 1, window=64240)), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))

    # Ping the web server (rule 2) and the echo reply.
    f = c.rx("internal", client(6, ICMP(id=0x100, seq=1) / data), "forwarded")
    c.tx("external", routed(f, e, WEB_MAC))
    f = c.rx("external", web(104, ICMP(type=0, id=0x100, seq=1) / data), "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))

    # Everything else from inside: no rule matches.
    c.rx("internal", inside(CL2_MAC, CL2, WEB, 20, TCP(sport=50001, dport=80, flags="S",
                                                       seq=1, window=64240)),
         "dropped:filter_no_match")
    c.rx("internal", inside(CL2_MAC, CL2, WEB, 21, ICMP(id=0x101, seq=1) / data),
         "dropped:filter_no_match", same_burst=True)
    c.rx("internal", client(7, TCP(sport=50002, dport=80, flags="S", seq=2, window=64240),
                            dst=SRV2), "dropped:filter_no_match", same_burst=True)
    c.rx("internal", client(8, ICMP(id=0x102, seq=1) / data, dst=SRV2),
         "dropped:filter_no_match", same_burst=True)
    c.rx("internal", client(9, TCP(sport=50003, dport=443, flags="S", seq=3, window=64240)),
         "dropped:filter_no_match", same_burst=True)
    c.rx("internal", client(10, UDP(sport=50004, dport=53) / Raw(b"dns query")),
         "dropped:filter_no_match", same_burst=True)

    # From outside, new connections meet the incoming "drop all".
    c.rx("external", web(105, TCP(sport=50005, dport=80, flags="S", seq=4, window=65160)),
         "dropped:filter_policy_drop")
    c.rx("external", web(106, ICMP(id=0x103, seq=1) / data), "dropped:filter_policy_drop",
         same_burst=True)

    # A new connection of the client, and an ICMP error about it from the company router:
    # related, it passes. The router quotes the SYN as it saw it (TTL 63 after the box).
    syn = c.rx("internal", client(11, TCP(sport=50006, dport=80, flags="S", seq=5,
                                          window=64240)), "forwarded")
    c.tx("external", routed(syn, e, WEB_MAC))
    quote = bytes(IP(routed(syn, e, WEB_MAC)[14:]))[:28]
    f = c.rx("external", outside(RTR_MAC, RTR, CL, 200, ICMP(type=3, code=1) / Raw(quote)),
             "forwarded")
    c.tx("internal", routed(f, i, CL_MAC))
    # The same error about a connection nobody opened: filtered like any packet, the incoming
    # list drops it.
    other = bytes(IP(src=CL, dst=WEB, ttl=63, id=12) /
                  TCP(sport=50007, dport=80, flags="S", seq=6, window=64240))[:28]
    c.rx("external", outside(RTR_MAC, RTR, CL, 201, ICMP(type=3, code=1) / Raw(other)),
         "dropped:filter_policy_drop", same_burst=True)
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
