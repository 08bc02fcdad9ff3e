#!/usr/bin/python3
"""101_incoming_4_3: the incoming rules of manual 4.3 on mGuard 1 (TCP from 10.1.0.0/16 to the
PLC's http port, ICMP from 10.1.0.0/16 to the PLC; general setting "use the rules"), outgoing
list drop all.
* An HTTP connection from the office computer: the SYN is accepted by rule 1, the PLC's SYN-ACK,
  the ACK and the data both ways pass as the connection (the outgoing list would drop them).
* A ping to the PLC (rule 2) and its echo reply (tracked by the identifier).
* Dropped as filter_no_match (no rule, the list uses rules): TCP to port 22 of the PLC, UDP to
  the PLC, HTTP from outside 10.1.0.0/16, a ping to another internal host, a ping to the box's
  external address (the incoming list decides traffic to the box from outside).
* A TCP ACK to the PLC's port 80 of no connection: only a SYN opens one (tcp_no_connection),
  although rule 1 would accept a SYN of the same ports.
* The PLC pings the office computer: a new outgoing connection, dropped by the outgoing list's
  general setting (filter_policy_drop); the PLC pings the box: internal host to the box is not
  filtered (punted).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"   # the PLC of chapter 4
PLC2 = "192.168.1.20"                                # another production host
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer
GW_MAC, FOREIGN = "02:00:00:02:00:fe", "10.2.0.5"    # a host beyond the company router
HTTP_GET = b"GET / HTTP/1.1\r\nHost: 192.168.1.10\r\n\r\n"
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def from_pc(dst, ident, l4, src=PC, src_mac=PC_MAC):
        return Ether(dst=e, src=src_mac) / IP(src=src, dst=dst, id=ident) / l4

    def from_plc(dst, ident, l4):
        return Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=dst, id=ident) / l4

    # Both ends ask for the box (answered and learned, so nothing waits for ARP).
    c.rx("internal", pad(arp_request(PLC_MAC, PLC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PLC_MAC, PLC), "generated")
    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")

    # HTTP from the office computer to the PLC: rule 1 accepts the SYN ...
    f = c.rx("external", from_pc(PLC, 0x101, TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                 window=64240, options=[("MSS", 1460)])),
             "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    # ... and the rest of the connection passes both ways.
    f = c.rx("internal", from_plc(PC, 0x201, TCP(sport=80, dport=40000, flags="SA", seq=5000,
                                                 ack=1001, window=8192,
                                                 options=[("MSS", 1460)])), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))
    f = c.rx("external", from_pc(PLC, 0x102, TCP(sport=40000, dport=80, flags="A", seq=1001,
                                                 ack=5001, window=64240)), "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    f = c.rx("external", from_pc(PLC, 0x103, TCP(sport=40000, dport=80, flags="PA", seq=1001,
                                                 ack=5001, window=64240) / Raw(HTTP_GET)),
             "forwarded", same_burst=True)
    c.tx("internal", routed(f, i, PLC_MAC))
    f = c.rx("internal", from_plc(PC, 0x202, TCP(sport=80, dport=40000, flags="PA", seq=5001,
                                                 ack=1001 + len(HTTP_GET), window=8192) /
                                  Raw(HTTP_OK)), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))

    # Ping the PLC (rule 2) and the echo reply.
    f = c.rx("external", from_pc(PLC, 0x104, ICMP(id=0x4D2, seq=1) / Raw(bytes(range(56)))),
             "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    f = c.rx("internal", from_plc(PC, 0x203, ICMP(type=0, id=0x4D2, seq=1) /
                                  Raw(bytes(range(56)))), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))

    # No rule matches: dropped (the list uses its rules).
    c.rx("external", from_pc(PLC, 0x105, TCP(sport=40001, dport=22, flags="S", seq=2000,
                                             window=64240, options=[("MSS", 1460)])),
         "dropped:filter_no_match")
    c.rx("external", from_pc(PLC, 0x106, UDP(sport=40002, dport=161) / Raw(b"snmp get")),
         "dropped:filter_no_match", same_burst=True)
    c.rx("external", from_pc(PLC, 0x107, TCP(sport=40003, dport=80, flags="S", seq=3000,
                                             window=64240), src=FOREIGN, src_mac=GW_MAC),
         "dropped:filter_no_match", same_burst=True)
    c.rx("external", from_pc(PLC2, 0x108, ICMP(id=0x4D3, seq=1) / Raw(bytes(range(56)))),
         "dropped:filter_no_match", same_burst=True)
    c.rx("external", from_pc(BOX_EXT, 0x109, ICMP(id=0x4D4, seq=1) / Raw(bytes(range(56)))),
         "dropped:filter_no_match", same_burst=True)

    # An ACK of no connection, to the port rule 1 opens: only a SYN opens a TCP connection.
    c.rx("external", from_pc(PLC, 0x10A, TCP(sport=40004, dport=80, flags="A", seq=4000,
                                             ack=9000, window=64240)),
         "dropped:tcp_no_connection", same_burst=True)

    # The PLC starts something itself: the outgoing list drops all.
    c.rx("internal", from_plc(PC, 0x204, ICMP(id=0x99, seq=1) / Raw(bytes(range(56)))),
         "dropped:filter_policy_drop")
    # Internal host to the box: not filtered.
    f = c.rx("internal", from_plc(BOX_INT, 0x205, ICMP(id=0x9A, seq=1) / Raw(bytes(range(56)))),
             "punted", same_burst=True)
    c.punt("internal", f)

    # The connection is still there: more data passes.
    f = c.rx("external", from_pc(PLC, 0x10B, TCP(sport=40000, dport=80, flags="A",
                                                 seq=1001 + len(HTTP_GET),
                                                 ack=5001 + len(HTTP_OK), window=64240)),
             "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
