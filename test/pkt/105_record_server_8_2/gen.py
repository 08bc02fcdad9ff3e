#!/usr/bin/python3
"""105_record_server_8_2: manual 8.2, the "Server" rule record (active). The incoming rules
select the services (ftp, telnet, https), the record the servers (192.168.1.10, .20, .30): each
list rule applies the record's rules narrowed to its own match.
* ftp, telnet and https to each of the three servers (nine SYNs, from two clients): forwarded;
  one of the connections completes (SYN-ACK and ACK pass).
* Dropped as filter_no_match: http and ssh to a server (no list rule), ftp to a fourth host
  192.168.1.40 (the list rule matches, the record has no rule for it), port 8443 on a server,
  UDP to port 21 of a server (the rules are TCP), a ping to a server.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
SERVERS = [("02:00:00:01:00:0a", "192.168.1.10"), ("02:00:00:01:00:14", "192.168.1.20"),
           ("02:00:00:01:00:1e", "192.168.1.30")]
OTHER = "192.168.1.40"                               # a production host not in the record
CL_MAC, CL = "02:00:00:02:00:64", "10.1.0.100"       # office computer
CL2_MAC, CL2 = "02:00:00:02:00:65", "10.1.0.101"     # another one


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def syn(dst, dport, ident, src=CL, src_mac=CL_MAC):
        return Ether(dst=e, src=src_mac) / IP(src=src, dst=dst, id=ident) / \
            TCP(sport=41000 + ident, dport=dport, flags="S", seq=ident * 1000, window=64240,
                options=[("MSS", 1460)])

    for mac, ip in SERVERS:
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed")
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
    for mac, ip in ((CL_MAC, CL), (CL2_MAC, CL2)):
        c.rx("external", pad(arp_request(mac, ip, BOX_EXT)), "consumed")
        c.tx("external", arp_reply(e, BOX_EXT, mac, ip), "generated")

    # The nine allowed combinations, alternately from two clients.
    ident = 1
    first = True
    for mac, server in SERVERS:
        for port in (21, 23, 443):
            src, src_mac = (CL, CL_MAC) if ident % 2 else (CL2, CL2_MAC)
            f = c.rx("external", syn(server, port, ident, src, src_mac), "forwarded",
                     same_burst=not first)
            first = False
            c.tx("internal", routed(f, i, mac))
            ident += 1

    # One of them completes: https to 192.168.1.30 (ident 9, from the office computer).
    mac30, srv30 = SERVERS[2]
    f = c.rx("internal", Ether(dst=i, src=mac30) / IP(src=srv30, dst=CL, id=0x300) /
             TCP(sport=443, dport=41009, flags="SA", seq=50000, ack=9001, window=65160,
                 options=[("MSS", 1460)]), "forwarded")
    c.tx("external", routed(f, e, CL_MAC))
    f = c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv30, id=100) /
             TCP(sport=41009, dport=443, flags="A", seq=9001, ack=50001, window=64240),
             "forwarded")
    c.tx("internal", routed(f, i, mac30))

    # Everything else: no rule matches.
    srv10 = SERVERS[0][1]
    c.rx("external", syn(srv10, 80, 20), "dropped:filter_no_match", same_burst=True)
    c.rx("external", syn(SERVERS[1][1], 22, 21), "dropped:filter_no_match", same_burst=True)
    c.rx("external", syn(OTHER, 21, 22), "dropped:filter_no_match", same_burst=True)
    c.rx("external", syn(srv30, 8443, 23), "dropped:filter_no_match", same_burst=True)
    c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv10, id=24) /
         UDP(sport=41024, dport=21) / Raw(b"not tcp"), "dropped:filter_no_match", same_burst=True)
    c.rx("external", Ether(dst=e, src=CL_MAC) / IP(src=CL, dst=srv10, id=25) /
         ICMP(id=0x500, seq=1) / Raw(bytes(range(56))), "dropped:filter_no_match",
         same_burst=True)
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
