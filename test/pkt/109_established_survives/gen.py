#!/usr/bin/python3
"""109_established_survives: one Modbus/TCP connection, opened by the SCADA server 10.1.0.50
(incoming rule 1), carries on whatever happens around it.
* Handshake, then 40 request/response exchanges, some pipelined (three requests in one burst,
  three responses in the next), every segment forwarded with exact sequence numbers.
* A segment from another source port of the same hosts (no connection, not a SYN):
  tcp_no_connection.
* Mid-connection, a segment from each side whose sequence number lies far beyond the window the
  other side allowed (2^28 bytes ahead): conntrack_invalid; the connection is kept and the next
  exchanges pass.
* 20 minutes without a packet (tcp_established is 30 minutes here): the next exchange passes.
* 40 more minutes without a packet: the connection has timed out, so the next segment of either
  side is a TCP segment of no connection (tcp_no_connection). A new SYN opens a new connection.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, pad, routed  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"
SCADA_MAC, SCADA = "02:00:00:02:00:32", "10.1.0.50"
SPORT, DPORT = 49152, 502
MOD32 = 0xFFFFFFFF


def modbus_request(tid):
    """Read holding registers 0 and 1 of unit 1 (MBAP header + PDU, 12 bytes)."""
    return struct.pack("!HHHBBHH", tid, 0, 6, 1, 3, 0, 2)


def modbus_response(tid):
    """The answer: two registers (13 bytes)."""
    return struct.pack("!HHHBBBHH", tid, 0, 7, 1, 3, 4, tid, 0x1234)


class Conn:
    """Both ends' next sequence numbers, so that every segment is exactly in order."""

    def __init__(self, c):
        self.c = c
        self.cs = 0x10000000  # SCADA's next sequence number
        self.ss = 0x20000000  # the PLC's
        self.ident_c = 0x100
        self.ident_s = 0x800

    def scada(self, flags, payload=b"", seq=None, sport=SPORT):
        self.ident_c += 1
        return Ether(dst=self.c.iface("external").mac, src=SCADA_MAC) / \
            IP(src=SCADA, dst=PLC, id=self.ident_c, flags="DF") / \
            TCP(sport=sport, dport=DPORT, flags=flags, seq=self.cs if seq is None else seq,
                ack=self.ss, window=64240) / Raw(payload)

    def plc(self, flags, payload=b"", seq=None):
        self.ident_s += 1
        return Ether(dst=self.c.iface("internal").mac, src=PLC_MAC) / \
            IP(src=PLC, dst=SCADA, id=self.ident_s, flags="DF") / \
            TCP(sport=DPORT, dport=SPORT, flags=flags, seq=self.ss if seq is None else seq,
                ack=self.cs, window=8192) / Raw(payload)


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def to_plc(frame, outcome="forwarded", **kw):
        f = c.rx("external", frame, outcome, **kw)
        if outcome == "forwarded":
            c.tx("internal", routed(f, i, PLC_MAC))

    def to_scada(frame, outcome="forwarded", **kw):
        f = c.rx("internal", frame, outcome, **kw)
        if outcome == "forwarded":
            c.tx("external", routed(f, e, SCADA_MAC))

    c.rx("internal", pad(arp_request(PLC_MAC, PLC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PLC_MAC, PLC), "generated")
    c.rx("external", pad(arp_request(SCADA_MAC, SCADA, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SCADA_MAC, SCADA), "generated")

    k = Conn(c)
    # Handshake.
    f = Ether(dst=e, src=SCADA_MAC) / IP(src=SCADA, dst=PLC, id=0x100, flags="DF") / \
        TCP(sport=SPORT, dport=DPORT, flags="S", seq=k.cs, window=64240, options=[("MSS", 1460)])
    to_plc(f)
    k.cs += 1
    f = Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=SCADA, id=0x800, flags="DF") / \
        TCP(sport=DPORT, dport=SPORT, flags="SA", seq=k.ss, ack=k.cs, window=8192,
            options=[("MSS", 1460)])
    to_scada(f)
    k.ss += 1
    to_plc(k.scada("A"))

    tid = 0

    def exchange(after_s=None):
        nonlocal tid
        tid += 1
        to_plc(k.scada("PA", modbus_request(tid)), after_s=after_s)
        k.cs += 12
        to_scada(k.plc("PA", modbus_response(tid)))
        k.ss += 13

    def pipelined(n):
        nonlocal tid
        first = tid + 1
        for j in range(n):
            to_plc(k.scada("PA", modbus_request(first + j)), same_burst=j > 0)
            k.cs += 12
        for j in range(n):
            to_scada(k.plc("PA", modbus_response(first + j)), same_burst=j > 0)
            k.ss += 13
        tid += n

    # 40 exchanges: 25 one by one, 5 times three pipelined.
    for _ in range(25):
        exchange()
    for _ in range(5):
        pipelined(3)

    # Another source port of the same hosts: no connection, not a SYN.
    to_plc(k.scada("A", sport=SPORT + 1), "dropped:tcp_no_connection")
    # Far beyond the window, from each side: invalid, the connection stays.
    to_plc(k.scada("PA", modbus_request(999), seq=(k.cs + 0x10000000) & MOD32),
           "dropped:conntrack_invalid")
    to_scada(k.plc("PA", modbus_response(999), seq=(k.ss + 0x10000000) & MOD32),
             "dropped:conntrack_invalid")
    for _ in range(3):
        exchange()

    # 20 minutes idle (tcp_established: 30 minutes): still there.
    exchange(after_s=20 * 60)
    exchange()

    # 40 minutes idle: the connection has timed out; neither side's segments pass.
    to_plc(k.scada("PA", modbus_request(tid + 1)), "dropped:tcp_no_connection", after_s=40 * 60)
    to_scada(k.plc("A"), "dropped:tcp_no_connection")
    # A new connection opens normally.
    to_plc(Ether(dst=e, src=SCADA_MAC) / IP(src=SCADA, dst=PLC, id=0x200, flags="DF") /
           TCP(sport=SPORT + 2, dport=DPORT, flags="S", seq=0x30000000, window=64240,
               options=[("MSS", 1460)]))
    to_scada(Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=SCADA, id=0x900, flags="DF") /
             TCP(sport=DPORT, dport=SPORT + 2, flags="SA", seq=0x40000000, ack=0x30000001,
                 window=8192, options=[("MSS", 1460)]))
    c.expect_log()  # no rule logs: firewall.log stays empty


generate(build)
