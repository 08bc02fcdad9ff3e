#!/usr/bin/python3
"""108_logging: rules with `log: true` write one line per connection they decide to
OUT_DIR/firewall.log (expect-firewall.log), in the format of docs/firewall.md, each line
prefixed with the replay clock (the time of the frame, SECONDS.MICROSECONDS).
* The example line of docs/firewall.md: an HTTP SYN from 10.1.0.100:40000 (ID 4711, LEN 60) to
  the PLC accepted by incoming rule 2 "web access". It arrives with TTL 63, having come through
  mGuard 2 as in the manual's 4.4.1 (the office computer's gateway routes 192.168.1.0/24 to this
  box): the line shows the header as received. The SYN-ACK and the ACK of that connection are
  not logged (the rule decided the connection once); a second connection is logged again, with
  the time of the first frame of its burst.
* A ping accepted by a rule without `log` (and its reply): no line.
* SSH to the PLC dropped by rule 3 (TOS 0x10 shows in the line); SSH to the box itself dropped
  by rule 3: OUT is empty.
* UDP to the PLC's SNMP port rejected by rule 4: act=REJECT, and the ICMP port unreachable.
* TCP to port 23: no rule matches (filter_no_match) — no line, no rule decided it.
* The PLC pings the office computer: outgoing rule 1 logs the echo request with TYPE, CODE, ID
  and SEQ; the echo reply is part of the connection (no line). The PLC's SYN to the office
  computer matches no outgoing rule: no line.

Writes in-*.pcap, expect-*.pcap, expect-firewall.log and expect.json beside itself (or into
argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_PORT_UNREACHABLE, arp_reply, arp_request, generate,  # noqa: E402
                    icmp_error, pad, routed)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"
MG2_MAC = "02:00:00:02:00:fe"  # mGuard 2 (10.1.0.254), the office computer's gateway (4.4.1)
# MSS, SACK permitted, timestamps, NOP, window scale: 20 bytes, a SYN of 60 bytes (LEN=60).
SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
               ("WScale", 7)]
# Rule ids as `bulwark check --dump config.yaml` shows them (#N).
RULE_WEB, RULE_SSH, RULE_SNMP, RULE_PLC_PING = 2, 3, 4, 5


def log_line(frame, where, act, in_if, out_if, rule, comment):
    """The line of docs/firewall.md for a received frame, the IP header fields (LEN, TOS, TTL,
    ID) as received."""
    ip = IP(bytes(frame)[14:])
    line = (f"fw-{where} act={act} IN={in_if} OUT={out_if} SRC={ip.src} DST={ip.dst} "
            f"LEN={ip.len} TOS=0x{ip.tos:02x} TTL={ip.ttl} ID={ip.id}")
    if ip.proto == 6:
        line += f" PROTO=TCP SPT={ip[TCP].sport} DPT={ip[TCP].dport}"
    elif ip.proto == 17:
        line += f" PROTO=UDP SPT={ip[UDP].sport} DPT={ip[UDP].dport}"
    elif ip.proto == 1:
        line += f" PROTO=ICMP TYPE={ip[ICMP].type} CODE={ip[ICMP].code}"
        if ip[ICMP].type in (0, 8):
            line += f" ID={ip[ICMP].id} SEQ={ip[ICMP].seq}"
    return line + f' RULE={rule} "{comment}"'


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    data = Raw(bytes(range(56)))

    def from_pc(dst, ident, l4, tos=0):
        return Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=dst, id=ident, tos=tos, ttl=64) / l4

    def from_plc(dst, ident, l4):
        return Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=dst, id=ident, ttl=64) / l4

    c.rx("internal", pad(arp_request(PLC_MAC, PLC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PLC_MAC, PLC), "generated")
    c.rx("external", pad(arp_request(PC_MAC, PC, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PC_MAC, PC), "generated")

    # The example line of docs/firewall.md.
    f = c.rx("external", Ether(dst=e, src=MG2_MAC) / IP(src=PC, dst=PLC, id=4711, ttl=63) /
             TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=SYN_OPTIONS),
             "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    example = ("fw-incoming-2 act=ACCEPT IN=external OUT=internal SRC=10.1.0.100 "
               "DST=192.168.1.10 LEN=60 TOS=0x00 TTL=63 ID=4711 PROTO=TCP SPT=40000 DPT=80 "
               f'RULE={RULE_WEB} "web access"')
    assert log_line(f, "incoming-2", "ACCEPT", "external", "internal", RULE_WEB,
                    "web access") == example
    c.log(example)
    f = c.rx("internal", from_plc(PC, 0x200, TCP(sport=80, dport=40000, flags="SA", seq=5000,
                                                 ack=1001, window=65160, options=SYN_OPTIONS)),
             "forwarded")
    c.tx("external", routed(f, e, PC_MAC))
    f = c.rx("external", from_pc(PLC, 4712, TCP(sport=40000, dport=80, flags="A", seq=1001,
                                                ack=5001, window=502)), "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    # A second connection is decided (and logged) again.
    f = c.rx("external", from_pc(PLC, 4713, TCP(sport=40001, dport=80, flags="S", seq=2000,
                                                window=64240, options=[("MSS", 1460)])),
             "forwarded", same_burst=True)
    c.tx("internal", routed(f, i, PLC_MAC))
    c.log(log_line(f, "incoming-2", "ACCEPT", "external", "internal", RULE_WEB, "web access"))

    # Ping: rule 1 does not log.
    f = c.rx("external", from_pc(PLC, 4714, ICMP(id=0x4D2, seq=1) / data), "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    f = c.rx("internal", from_plc(PC, 0x201, ICMP(type=0, id=0x4D2, seq=1) / data), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))

    # SSH to the PLC: dropped and logged.
    f = c.rx("external", from_pc(PLC, 4715, TCP(sport=40002, dport=22, flags="S", seq=3000,
                                                window=64240), tos=0x10),
             "dropped:filter_rule_drop")
    c.log(log_line(f, "incoming-3", "DROP", "external", "internal", RULE_SSH,
                   "no ssh from outside"))
    # SSH to the box: the incoming list decides it too; OUT is empty, the TTL as received.
    f = c.rx("external", from_pc(BOX_EXT, 4716, TCP(sport=40003, dport=22, flags="S",
                                                    seq=4000, window=64240)),
             "dropped:filter_rule_drop")
    c.log(log_line(f, "incoming-3", "DROP", "external", "", RULE_SSH, "no ssh from outside"))

    # SNMP to the PLC: rejected (ICMP port unreachable from the box's external address), logged.
    f = c.rx("external", from_pc(PLC, 4717, UDP(sport=40004, dport=161) /
                                 Raw(b"0\x26\x02\x01\x01\x04\x06public")),
             "dropped:filter_reject")
    c.tx("external", icmp_error(f, ICMP_PORT_UNREACHABLE, BOX_EXT, e, PC_MAC), "generated")
    c.log(log_line(f, "incoming-4", "REJECT", "external", "internal", RULE_SNMP, "snmp refused"))

    # Telnet: no rule decides, the list's "drop the rest" does: no line.
    c.rx("external", from_pc(PLC, 4718, TCP(sport=40005, dport=23, flags="S", seq=5000,
                                            window=64240)),
         "dropped:filter_no_match")

    # The PLC pings the office computer: outgoing rule 1 logs it; the reply is not logged.
    f = c.rx("internal", from_plc(PC, 0x202, ICMP(id=0x99, seq=7) / data), "forwarded")
    c.tx("external", routed(f, e, PC_MAC))
    c.log(log_line(f, "outgoing-1", "ACCEPT", "internal", "external", RULE_PLC_PING, "plc ping"))
    f = c.rx("external", Ether(dst=e, src=PC_MAC) / IP(src=PC, dst=PLC, id=4719) /
             ICMP(type=0, id=0x99, seq=7) / data, "forwarded")
    c.tx("internal", routed(f, i, PLC_MAC))
    # The PLC's SYN to the office computer: no outgoing rule matches, no line.
    c.rx("internal", from_plc(PC, 0x203, TCP(sport=50000, dport=80, flags="S", seq=6000,
                                             window=64240)),
         "dropped:filter_no_match")


generate(build)
