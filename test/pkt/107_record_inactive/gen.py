#!/usr/bin/python3
"""107_record_inactive: 105 with the "Server" rule record inactive from the start
(initial_mode: inactive) and a fourth incoming rule for the maintenance computer.
* The nine SYNs that 105 forwards (ftp, telnet, https to 192.168.1.10/20/30) are dropped as
  filter_no_match: the inactive record's place matches nothing, and no later rule matches them.
* The maintenance computer's SYN to https on 192.168.1.30 matches list rule 3 first, whose record
  is inactive, so the list goes on and rule 4 accepts it: forwarded, and the connection
  completes.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
SERVERS = [("02:00:00:01:00:0a", "192.168.1.10"), ("02:00:00:01:00:14", "192.168.1.20"),
           ("02:00:00:01:00:1e", "192.168.1.30")]
CL_MAC, CL = "02:00:00:02:00:64", "10.1.0.100"       # office computer
CL2_MAC, CL2 = "02:00:00:02:00:65", "10.1.0.101"     # another one
MNT_MAC, MNT = "02:00:00:02:00:c8", "10.1.0.200"     # maintenance computer (rule 4)


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def syn(dst, dport, ident, src=CL, src_mac=CL_MAC):
        return Ether(dst=e, src=src_mac) / IP(src=src, dst=dst, id=ident) / \
            TCP(sport=41000 + ident, dport=dport, flags="S", seq=ident * 1000, window=64240,
                options=[("MSS", 1460)])

    for mac, ip in SERVERS:
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed")
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
    for mac, ip in ((CL_MAC, CL), (CL2_MAC, CL2), (MNT_MAC, MNT)):
        c.rx("external", pad(arp_request(mac, ip, BOX_EXT)), "consumed")
        c.tx("external", arp_reply(e, BOX_EXT, mac, ip), "generated")

    # The same nine SYNs as in 105: the record is inactive, nothing matches them.
    ident = 1
    for mac, server in SERVERS:
        for port in (21, 23, 443):
            src, src_mac = (CL, CL_MAC) if ident % 2 else (CL2, CL2_MAC)
            c.rx("external", syn(server, port, ident, src, src_mac), "dropped:filter_no_match",
                 same_burst=ident > 1)
            ident += 1

    # The maintenance computer: rule 3's record is inactive, rule 4 accepts.
    mac30, srv30 = SERVERS[2]
    f = c.rx("external", syn(srv30, 443, 10, MNT, MNT_MAC), "forwarded", same_burst=True)
    c.tx("internal", routed(f, i, mac30))
    f = c.rx("internal", Ether(dst=i, src=mac30) / IP(src=srv30, dst=MNT, id=0x300) /
             TCP(sport=443, dport=41010, flags="SA", seq=70000, ack=10001, window=65160,
                 options=[("MSS", 1460)]), "forwarded")
    c.tx("external", routed(f, e, MNT_MAC))
    f = c.rx("external", Ether(dst=e, src=MNT_MAC) / IP(src=MNT, dst=srv30, id=11) /
             TCP(sport=41010, dport=443, flags="A", seq=10001, ack=70001, window=64240),
             "forwarded")
    c.tx("internal", routed(f, i, mac30))
    # The maintenance computer has no other access.
    c.rx("external", syn(srv30, 23, 12, MNT, MNT_MAC), "dropped:filter_no_match",
         same_burst=True)
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
