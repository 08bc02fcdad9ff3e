#!/usr/bin/python3
"""106_record_service_8_3: manual 8.3, the "Service" rule record (active). The incoming rules
select the servers, the record the service of each server (192.168.1.10 ftp, .20 telnet, .30
https); each list rule applies the record's rules narrowed to its own match, so a server is
reachable on its own service only.
* ftp to .10, telnet to .20, https to .30: forwarded; the https connection completes.
* Dropped as filter_no_match: the six other combinations of the three services and servers,
  http to a server, ftp to a fourth host 192.168.1.40, UDP to port 21 of .10, a ping to .10.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
SERVERS = [("02:00:00:01:00:0a", "192.168.1.10", 21), ("02:00:00:01:00:14", "192.168.1.20", 23),
           ("02:00:00:01:00:1e", "192.168.1.30", 443)]
OTHER = "192.168.1.40"                               # a production host not in the rules
CL_MAC, CL = "02:00:00:02:00:64", "10.1.0.100"       # office computer


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def syn(dst, dport, ident):
        return Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=dst, id=ident) / \
            TCP(sport=42000 + ident, dport=dport, flags="S", seq=ident * 1000, window=64240,
                options=[("MSS", 1460)])

    for mac, ip, _ in SERVERS:
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed")
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
    c.rx("external", pad(arp_request(CL_MAC, CL, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, CL_MAC, CL), "generated")

    # Each server on its own service: forwarded.
    ident = 1
    for mac, server, port in SERVERS:
        f = c.rx("external", syn(server, port, ident), "forwarded", same_burst=ident > 1)
        c.tx("internal", routed(f, i, mac))
        ident += 1
    # The https connection to .30 (ident 3) completes.
    mac30, srv30, _ = SERVERS[2]
    f = c.rx("internal", Ether(dst=i, src=mac30) / IP(src=srv30, dst=CL, id=0x300) /
             TCP(sport=443, dport=42003, flags="SA", seq=60000, ack=3001, window=65160,
                 options=[("MSS", 1460)]), "forwarded")
    c.tx("external", routed(f, e, CL_MAC))
    f = c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv30, id=100) /
             TCP(sport=42003, dport=443, flags="A", seq=3001, ack=60001, window=64240),
             "forwarded")
    c.tx("internal", routed(f, i, mac30))

    # The other six combinations: the list rule of the server matches, but the record's rule for
    # that server has another port, and the others another server.
    for _, server, own in SERVERS:
        for port in (21, 23, 443):
            if port != own:
                c.rx("external", syn(server, port, ident), "dropped:filter_no_match",
                     same_burst=True)
                ident += 1
    srv10 = SERVERS[0][1]
    c.rx("external", syn(srv10, 80, 20), "dropped:filter_no_match", same_burst=True)
    c.rx("external", syn(OTHER, 21, 21), "dropped:filter_no_match", same_burst=True)
    c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv10, id=22) /
         UDP(sport=42022, dport=21) / Raw(b"not tcp"), "dropped:filter_no_match", same_burst=True)
    c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv10, id=23) /
         ICMP(id=0x600, seq=1) / Raw(bytes(range(56))), "dropped:filter_no_match",
         same_burst=True)
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
