#!/usr/bin/python3
"""210_masquerade_endpoint_independent: nat.mapping endpoint_independent (docs/nat.md). Port pool
40000-40001, UDP to port 9000 of two servers, each datagram in its own burst:
* .10:40000 to server 1 keeps 40000 (the endpoint's mapping);
* .11:40000 to server 2 would keep 40000 with address-and-port-dependent mapping (another peer,
  no collision), but 40000 belongs to .10's mapping: it gets 40001;
* .10:40000 to server 2 leaves with its mapped 40000 again;
* .11:40000 to server 1 leaves with its mapped 40001.
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
CLIENTS = {n: (f"02:00:00:01:00:{n:02x}", f"192.168.1.{n}") for n in (10, 11)}
SERVERS = {n: (f"02:00:00:02:00:{0xc7 + n:02x}", f"10.1.0.{199 + n}") for n in (1, 2)}


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

    def out(client, server, translated):
        cmac, cip = CLIENTS[client]
        smac, sip = SERVERS[server]
        f = c.rx("internal", Ether(dst=i, src=cmac) / IP(src=cip, dst=sip, id=0x100 + client) /
                 UDP(sport=40000, dport=9000) / Raw(b"from %d" % client), "forwarded")
        c.tx("external", nat_routed(f, e, smac, src=BOX_EXT, sport=translated))

    def back(server, dport, client):
        cmac, cip = CLIENTS[client]
        smac, sip = SERVERS[server]
        f = c.rx("external", Ether(dst=e, src=smac) / IP(src=sip, dst=BOX_EXT, id=0x200 + client) /
                 UDP(sport=9000, dport=dport) / Raw(b"to %d" % client), "forwarded")
        c.tx("internal", nat_routed(f, i, cmac, dst=cip, dport=40000))

    out(10, 1, 40000)
    out(11, 2, 40001)
    out(10, 2, 40000)
    out(11, 1, 40001)
    back(1, 40000, 10)
    back(2, 40001, 11)
    back(2, 40000, 10)
    back(1, 40001, 11)


generate(build)
