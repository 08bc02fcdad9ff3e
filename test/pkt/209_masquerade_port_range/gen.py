#!/usr/bin/python3
"""209_masquerade_port_range: source-port choice with nat.port_range 40000-40001 (docs/nat.md:
kept when the translated connection does not collide with another of the same translated
address, port, peer address and peer port; otherwise a free port of the range, probed from a
point given by a hash of the connection; none free: dropped, nat_ports_exhausted). With two
ports in the range, one taken, the probe finds the other whatever the hash. UDP datagrams to port 9000 of three servers, each in its own
burst:
* server 1: .10:40000 keeps 40000; .11:40000 gets 40001; .12:40000 finds none (dropped).
* server 2: .13:40001 keeps 40001 (no collision: another peer); .14:40001 gets 40000.
* server 3: .15:5000 keeps 5000 (no collision, so the port is kept although it lies outside the
  range); .17:40000 keeps 40000; .16:5000 collides and gets the range's other port, 40001.
The servers' answers reach the right clients.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, nat_routed, pad  # noqa: E402
from scapy.all import IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
CLIENTS = {n: (f"02:00:00:01:00:{n:02x}", f"192.168.1.{n}") for n in range(10, 18)}
SERVERS = {n: (f"02:00:00:02:00:{0xc7 + n:02x}", f"10.1.0.{199 + n}") for n in (1, 2, 3)}


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    first = True
    for mac, ip in SERVERS.values():
        c.rx("external", pad(arp_request(mac, ip, BOX_EXT)), "consumed", same_burst=not first)
        c.tx("external", arp_reply(e, BOX_EXT, mac, ip), "generated")
        first = False
    first = True
    for mac, ip in CLIENTS.values():
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed", same_burst=not first)
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
        first = False

    def out(client, server, sport, translated):
        cmac, cip = CLIENTS[client]
        smac, sip = SERVERS[server]
        f = c.rx("internal", Ether(dst=i, src=cmac) / IP(src=cip, dst=sip, id=0x100 + client) /
                 UDP(sport=sport, dport=9000) / Raw(b"from %d" % client),
                 "forwarded" if translated else "dropped:nat_ports_exhausted")
        if translated:
            c.tx("external", nat_routed(f, e, smac, src=BOX_EXT, sport=translated))

    def back(server, dport, client, client_port):
        cmac, cip = CLIENTS[client]
        smac, sip = SERVERS[server]
        f = c.rx("external", Ether(dst=e, src=smac) / IP(src=sip, dst=BOX_EXT, id=0x200 + client) /
                 UDP(sport=9000, dport=dport) / Raw(b"to %d" % client), "forwarded")
        c.tx("internal", nat_routed(f, i, cmac, dst=cip, dport=client_port))

    out(10, 1, 40000, 40000)
    out(11, 1, 40000, 40001)
    out(12, 1, 40000, None)
    out(13, 2, 40001, 40001)
    out(14, 2, 40001, 40000)
    out(15, 3, 5000, 5000)
    out(17, 3, 40000, 40000)
    out(16, 3, 5000, 40001)

    back(1, 40000, 10, 40000)
    back(1, 40001, 11, 40000)
    back(2, 40001, 13, 40001)
    back(2, 40000, 14, 40001)
    back(3, 5000, 15, 5000)
    back(3, 40000, 17, 40000)
    back(3, 40001, 16, 5000)


generate(build)
