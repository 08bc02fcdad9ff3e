#!/usr/bin/python3
"""302_vpn_firewall_10_4: the VPN firewall of manual 10.4 (docs/esp.md) on the tunnel
192.168.1.0/24 <-> 192.168.2.0/24 to 10.1.0.2 (AES-GCM-128, keys in ipsec.records).
* Incoming (from the tunnel): SSH to the PLC 192.168.1.10 is accepted and logged as
  "fw-vpn_branch-in-1"; the PLC's answer passes as part of the connection (encrypted back);
  HTTP to it matches no rule and is dropped; DNS is rejected, and the ICMP port unreachable goes
  back through the tunnel (encrypted, from the box's internal address).
* Outgoing (into the tunnel): a ping passes (rule 1), UDP to port 9 is dropped and logged as
  "fw-vpn_branch-out-2", anything else passes (rule 3).
* The interface lists (open both ways) play no part in tunnel traffic.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import esp_gcm, outer, policy_record, sa_record  # noqa: E402
from golden import (ICMP_PORT_UNREACHABLE, arp_reply, arp_request, ether, generate,  # noqa: E402
                    icmp_error, ip_packet, pad, routed)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"
PEER_MAC, PEER = "02:00:00:02:00:02", "10.1.0.2"
BRANCH = "192.168.2.20"
OUT_SPI, IN_SPI = 0xC0000001, 0xC1000001
OUT_KEY = bytes(range(0x10, 0x20)) + bytes.fromhex("01020304")
IN_KEY = bytes(range(0x20, 0x30)) + bytes.fromhex("05060708")
ONE, TWO = "192.168.1.0/24", "192.168.2.0/24"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.ipsec_records = [
        sa_record(OUT_SPI, "out", BOX_EXT, PEER, 20, "AES_GCM_16_128", OUT_KEY, ONE, TWO, 1),
        sa_record(IN_SPI, "in", PEER, BOX_EXT, 20, "AES_GCM_16_128", IN_KEY, ONE, TWO, 1),
        policy_record("out", ONE, TWO, 1, OUT_SPI),
        policy_record("in", TWO, ONE, 1, IN_SPI),
    ]
    c.expect_log()
    c.rx("internal", pad(arp_request(PLC_MAC, PLC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PLC_MAC, PLC), "generated")
    c.rx("external", pad(arp_request(PEER_MAC, PEER, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, PEER_MAC, PEER), "generated")

    state = {"in": 0, "out": 0, "id": 0}

    def from_tunnel(inner):
        state["in"] += 1
        return ether(e, PEER_MAC, 0x0800) + outer(PEER, BOX_EXT, 50, esp_gcm(IN_KEY, IN_SPI, state["in"], inner), 0x77)

    def into_tunnel(inner):
        state["out"] += 1
        frame = ether(PEER_MAC, e, 0x0800) + outer(BOX_EXT, PEER, 50, esp_gcm(OUT_KEY, OUT_SPI, state["out"], inner),
                                                  state["id"], tos=inner[1])  # the outer TOS is the inner one
        state["id"] += 1
        return frame

    def branch(dst_port, proto, ident, flags="S"):
        l4 = TCP(sport=40000, dport=dst_port, flags=flags, seq=100) if proto == "tcp" else \
            UDP(sport=40001, dport=dst_port) / Raw(b"q" * 12)
        return bytes(IP(src=BRANCH, dst=PLC, id=ident, ttl=63) / l4)

    def plc(dst_port, proto, ident, payload=None):
        if proto == "icmp":
            l4 = ICMP(type=8, id=7, seq=1) / Raw(b"p" * 16)
        elif proto == "udp":
            l4 = UDP(sport=5000, dport=dst_port) / Raw(b"d" * 10)
        else:
            l4 = payload
        return Ether(dst=i, src=PLC_MAC) / IP(src=PLC, dst=BRANCH, id=ident) / l4

    # SSH from the branch: accepted by incoming rule 1 and logged.
    ssh = branch(22, "tcp", 0x101)
    c.rx("external", from_tunnel(ssh), "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + ssh, i, PLC_MAC))
    c.log(f"fw-vpn_branch-in-1 act=ACCEPT IN=external OUT=internal SRC={BRANCH} DST={PLC} LEN=40 "
          f"TOS=0x00 TTL=63 ID=257 PROTO=TCP SPT=40000 DPT=22 RULE=1 \"SSH to the PLC\"")
    # The PLC's answer belongs to the connection: into the tunnel without the outgoing list.
    f = c.rx("internal", plc(0, "tcp", 0x201, TCP(sport=22, dport=40000, flags="SA", seq=500, ack=101)),
             "forwarded")
    c.tx("external", into_tunnel(ip_packet(routed(f, PLC_MAC, PLC_MAC))))
    # HTTP from the branch: no rule.
    c.rx("external", from_tunnel(branch(80, "tcp", 0x102)), "dropped:filter_no_match")
    # DNS from the branch: rejected; the port unreachable goes back encrypted.
    dns = branch(53, "udp", 0x103)
    c.rx("external", from_tunnel(dns), "dropped:filter_reject", same_burst=True)
    c.log(f"fw-vpn_branch-in-2 act=REJECT IN=external OUT=internal SRC={BRANCH} DST={PLC} LEN=40 "
          f"TOS=0x00 TTL=63 ID=259 PROTO=UDP SPT=40001 DPT=53 RULE=2")
    unreachable = ip_packet(icmp_error(ether(i, e, 0x0800) + dns, ICMP_PORT_UNREACHABLE, BOX_INT, i, i))
    c.tx("external", into_tunnel(unreachable), "generated")
    # Outgoing: a ping passes, UDP to port 9 is dropped and logged, anything else passes.
    f = c.rx("internal", plc(0, "icmp", 0x202), "forwarded")
    c.tx("external", into_tunnel(ip_packet(routed(f, PLC_MAC, PLC_MAC))))
    c.rx("internal", plc(9, "udp", 0x203), "dropped:filter_rule_drop", same_burst=True)
    c.log(f"fw-vpn_branch-out-2 act=DROP IN=internal OUT=external SRC={PLC} DST={BRANCH} LEN=38 "
          f"TOS=0x00 TTL=64 ID=515 PROTO=UDP SPT=5000 DPT=9 RULE=4 \"no discard\"")
    f = c.rx("internal", plc(5001, "udp", 0x204), "forwarded", same_burst=True)
    c.tx("external", into_tunnel(ip_packet(routed(f, PLC_MAC, PLC_MAC))))


generate(build)
