#!/usr/bin/python3
"""304_hub_and_spoke_14: the hub of manual 14.2 (docs/esp.md) with forwarding between VPN
connections on; SAs with known keys.
* Branch 1 (192.168.1.5) sends to branch 2 (192.168.2.5): the hub decrypts it from branch 1's
  tunnel and encrypts it into branch 2's (TTL − 1 once); the answer takes the way back.
* The VPN firewall of both connections applies: branch 2's outgoing list drops UDP to port 9.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import esp_gcm, outer, policy_record, sa_record  # noqa: E402
from golden import arp_reply, arp_request, ether, generate, pad  # noqa: E402
from scapy.all import IP, UDP, Raw  # noqa: E402

BOX_EXT = "198.51.100.10"
GW = {1: ("198.51.100.1", "02:00:00:02:00:01"), 2: ("198.51.100.2", "02:00:00:02:00:02")}
KEYS = {k: bytes(range(16 * k, 16 * k + 16)) + bytes([k] * 4) for k in range(1, 5)}
OUT = {1: 0xC0000001, 2: 0xC0000002}
IN = {1: 0xC1000001, 2: 0xC1000002}


def build(c):
    e = c.iface("external").mac
    hub = "192.168.0.0/16"
    c.ipsec_records = []
    for b in (1, 2):
        branch = f"192.168.{b}.0/24"
        c.ipsec_records += [
            sa_record(OUT[b], "out", BOX_EXT, GW[b][0], 20, "AES_GCM_16_128", KEYS[b], hub, branch, b),
            sa_record(IN[b], "in", GW[b][0], BOX_EXT, 20, "AES_GCM_16_128", KEYS[b + 2], hub, branch, b),
            policy_record("out", hub, branch, b, OUT[b]),
            policy_record("in", branch, hub, b, IN[b]),
        ]
    for b in (1, 2):
        c.rx("external", pad(arp_request(GW[b][1], GW[b][0], BOX_EXT)), "consumed", same_burst=b == 2)
        c.tx("external", arp_reply(e, BOX_EXT, GW[b][1], GW[b][0]), "generated")

    seq = {"out1": 0, "out2": 0, "in1": 0, "in2": 0}
    ident = [0]

    def from_branch(b, inner):
        seq[f"in{b}"] += 1
        return ether(e, GW[b][1], 0x0800) + outer(GW[b][0], BOX_EXT, 50, esp_gcm(KEYS[b + 2], IN[b], seq[f"in{b}"], inner),
                                                  0x33)

    def to_branch(b, inner):
        seq[f"out{b}"] += 1
        frame = ether(GW[b][1], e, 0x0800) + outer(BOX_EXT, GW[b][0], 50,
                                                   esp_gcm(KEYS[b], OUT[b], seq[f"out{b}"], inner), ident[0])
        ident[0] += 1
        return frame

    def ip(src, dst, ident_, l4, ttl):
        return bytes(IP(src=src, dst=dst, id=ident_, ttl=ttl) / l4)

    hello = UDP(sport=5000, dport=6000) / Raw(b"branch to branch")
    c.rx("external", from_branch(1, ip("192.168.1.5", "192.168.2.5", 0x101, hello, 64)), "forwarded")
    c.tx("external", to_branch(2, ip("192.168.1.5", "192.168.2.5", 0x101, hello, 63)))
    answer = UDP(sport=6000, dport=5000) / Raw(b"and back")
    c.rx("external", from_branch(2, ip("192.168.2.5", "192.168.1.5", 0x201, answer, 64)), "forwarded",
         same_burst=True)
    c.tx("external", to_branch(1, ip("192.168.2.5", "192.168.1.5", 0x201, answer, 63)))
    discard = UDP(sport=5001, dport=9) / Raw(b"x")
    c.rx("external", from_branch(1, ip("192.168.1.5", "192.168.2.5", 0x102, discard, 64)),
         "dropped:filter_rule_drop", same_burst=True)


generate(build)
