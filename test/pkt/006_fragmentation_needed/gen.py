#!/usr/bin/python3
"""006_fragmentation_needed: the external link has MTU 1400. A longer packet with DF is dropped
(mtu_exceeded) and answered with ICMP fragmentation needed (type 3 code 4) carrying 1400 in the
second 16-bit word; without DF it is fragmented: pieces of (1400 - 20) // 8 * 8 = 1376 data bytes
(1396-byte packets), offsets in 8-byte units, MF on all but the last, TTL decremented and header
checksum recomputed in each; the first piece counts as forwarded, the others as generated.
Fragments of an already fragmented packet are forwarded; one that is itself too long is split
again, keeping its offset and its MF flag. Exactly 1400 bytes with DF passes; 1401 does not.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (ICMP_FRAG_NEEDED, arp_reply, arp_request, fragments, generate,  # noqa: E402
                    icmp_error, pad, routed)
from scapy.all import ICMP, IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.254"
PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"     # internal host
SRV_MAC, SRV = "02:00:00:02:00:32", "10.1.0.50"      # external host
MTU = 1400


def data(n, seed):
    return bytes((seed + k * 7) & 0xFF for k in range(n))


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    assert c.iface("external").mtu == MTU

    def udp(total, ident, df, sport=7000):
        """PC -> SRV UDP packet of `total` IP bytes."""
        return Ether(dst=i, src=PC_MAC) / \
            IP(src=PC, dst=SRV, id=ident, flags="DF" if df else 0) / \
            UDP(sport=sport, dport=7001) / Raw(data(total - 28, ident))

    def frag(total, ident, offset, mf):
        """A fragment PC -> SRV of `total` IP bytes at `offset` (8-byte units)."""
        return Ether(dst=i, src=PC_MAC) / \
            IP(src=PC, dst=SRV, id=ident, flags="MF" if mf else 0, frag=offset, proto=17) / \
            Raw(data(total - 20, ident))

    c.rx("internal", pad(arp_request(PC_MAC, PC, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, PC_MAC, PC), "generated")
    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")

    # 1500 bytes with DF: fragmentation needed, MTU 1400, 548 bytes quoted.
    f = c.rx("internal", udp(1500, 0x60, df=True), "dropped:mtu_exceeded")
    c.tx("internal", icmp_error(f, ICMP_FRAG_NEEDED, BOX_INT, i, PC_MAC, mtu=MTU), "generated")

    # 1500 bytes without DF: two fragments, 1396 + 124 bytes.
    f = c.rx("internal", udp(1500, 0x61, df=False), "forwarded")
    pieces = fragments(f, MTU, e, SRV_MAC)
    assert [len(p) - 14 for p in pieces] == [1396, 124]
    c.tx("external", pieces[0])
    c.tx("external", pieces[1], "generated")

    # The boundary: 1400 bytes with DF fit, 1401 do not.
    f = c.rx("internal", udp(1400, 0x62, df=True), "forwarded")
    c.tx("external", routed(f, e, SRV_MAC))
    f = c.rx("internal", udp(1401, 0x63, df=True), "dropped:mtu_exceeded")
    c.tx("internal", icmp_error(f, ICMP_FRAG_NEEDED, BOX_INT, i, PC_MAC, mtu=MTU), "generated")

    # A 1500-byte ICMP echo without DF: fragmented the same way (the ICMP header travels in the
    # first piece only).
    f = c.rx("internal", Ether(dst=i, src=PC_MAC) / IP(src=PC, dst=SRV, id=0x64) /
             ICMP(id=0x77, seq=1) / Raw(data(1500 - 28, 0x64)), "forwarded")
    pieces = fragments(f, MTU, e, SRV_MAC)
    assert [len(p) - 14 for p in pieces] == [1396, 124]
    c.tx("external", pieces[0])
    c.tx("external", pieces[1], "generated")

    # Fragments from upstream that fit are forwarded as they are (TTL - 1).
    for total, offset, mf in ((1020, 0, True), (520, 125, False)):
        f = c.rx("internal", frag(total, 0x65, offset, mf), "forwarded")
        c.tx("external", routed(f, e, SRV_MAC))

    # Fragments from upstream that do not fit are split again: a first fragment (MF stays on
    # both pieces) and a last one at offset 185 (offsets 185 and 357, MF only on the first).
    for offset, mf in ((0, True), (185, False)):
        f = c.rx("internal", frag(1500, 0x66, offset, mf), "forwarded")
        pieces = fragments(f, MTU, e, SRV_MAC)
        assert len(pieces) == 2
        c.tx("external", pieces[0])
        c.tx("external", pieces[1], "generated")

    # The other way the MTU is 1500: 1400 bytes from outside pass unchanged.
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=PC, id=0x67, flags="DF") /
             UDP(sport=7001, dport=7000) / Raw(data(1400 - 28, 0x67)), "forwarded")
    c.tx("internal", routed(f, i, PC_MAC))


generate(build)
