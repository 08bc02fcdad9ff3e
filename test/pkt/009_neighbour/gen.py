#!/usr/bin/python3
"""009_neighbour: the neighbour table of docs/dataplane.md stage 9, on the replay clock.
* Hold queue: five packets for an unknown next hop in one burst -> one ARP request, four packets
  wait, the fifth is dropped (neighbour_hold_full); the reply releases the four in order.
* Expiry (dataplane.arp.timeout 10s): 5 s after learning the neighbour is used directly; 20 s
  after, the box asks again.
* An ICMP error for an unknown host waits for ARP like any packet.
* Retries: a next hop that never answers gets three ARP requests, one per packet arriving
  1.5 s apart (at most one per second); the three waiting packets are dropped as
  neighbour_unresolved when the input ends (they are the last frames of the capture, so the
  replay clock never passes the time a fourth request or a time-out would need).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_TIME_EXCEEDED, arp_reply, arp_request, generate, icmp_error,  # noqa: E402
                    pad, routed)
from scapy.all import IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"     # internal host
NEW_MAC, NEW = "02:00:00:01:00:14", "192.168.1.20"   # internal host, never seen before
SRV_MAC, SRV = "02:00:00:02:00:3c", "10.1.0.60"      # external host, resolved on demand
DEAD = "10.1.0.70"                                   # external address nobody answers for


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def pc(dst, ident, payload=b"data", ttl=64, src=PC, src_mac=PC_MAC):
        return Ether(dst=i, src=src_mac) / IP(src=src, dst=dst, id=ident, ttl=ttl) / \
            UDP(sport=6000, dport=6001) / Raw(payload + bytes([ident & 0xFF]) * 20)

    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")

    # Five packets, one burst, one unknown next hop: one request, four wait, one dropped.
    held = [c.rx("internal", pc(SRV, 0x70), "forwarded")]
    c.tx("external", arp_request(e, BOX_EXT, SRV), "generated")
    for n in range(1, 4):
        held.append(c.rx("internal", pc(SRV, 0x70 + n), "forwarded", same_burst=True))
    c.rx("internal", pc(SRV, 0x74), "dropped:neighbour_hold_full", same_burst=True)
    r = c.rx("external", arp_reply(SRV_MAC, SRV, e, BOX_EXT), "consumed")
    c.punt("external", r)
    for f in held:
        c.tx("external", routed(f, e, SRV_MAC))

    # 5 s later the entry is still valid ...
    f = c.rx("internal", pc(SRV, 0x75), "forwarded", after_s=5)
    c.tx("external", routed(f, e, SRV_MAC))
    # ... 20 s after learning it has expired (timeout 10 s): the box asks again.
    f = c.rx("internal", pc(SRV, 0x76), "forwarded", after_s=15)
    c.tx("external", arp_request(e, BOX_EXT, SRV), "generated")
    r = c.rx("external", arp_reply(SRV_MAC, SRV, e, BOX_EXT), "consumed", after_s=0.2)
    c.punt("external", r)
    c.tx("external", routed(f, e, SRV_MAC))

    # An ICMP error to a host the box has never seen waits for its ARP reply.
    f = c.rx("internal", pc(SRV, 0x77, ttl=1, src=NEW, src_mac=NEW_MAC),
             "dropped:ttl_exceeded", after_s=5)
    c.tx("internal", arp_request(i, BOX_INT, NEW), "generated")
    err = icmp_error(f, ICMP_TIME_EXCEEDED, BOX_INT, i, NEW_MAC)
    r = c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")  # other port
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")
    r = c.rx("internal", arp_reply(NEW_MAC, NEW, i, BOX_INT), "consumed")
    c.punt("internal", r)
    c.tx("internal", err, "generated")

    # Nobody answers for DEAD: a request per packet, 1.5 s apart, three in all; the packets
    # are still waiting when the capture ends.
    for n, after in enumerate((5, 1.5, 1.5)):
        c.rx("internal", pc(DEAD, 0x78 + n), "dropped:neighbour_unresolved", after_s=after)
        c.tx("external", arp_request(e, BOX_EXT, DEAD), "generated")


generate(build)
