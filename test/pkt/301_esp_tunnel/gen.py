#!/usr/bin/python3
"""301_esp_tunnel: ESP in the dataplane with SAs of known keys (docs/esp.md). Every ESP packet
the box must send or accept is made here by Python's `cryptography` (an implementation
independent of the box's), so the expected captures are the proof that the box's ESP is right.
* 192.168.1.10 → 192.168.2.20 leaves encrypted (AES-GCM-128, tunnel mode) to 10.1.0.2: outer
  TTL 64, TOS copied, DF clear, IDs counting from 0, sequence numbers 1, 2, …; the inner packet
  forwarded (TTL − 1).
* ESP from 10.1.0.2 is decrypted and the inner packet forwarded; a replay, a bad ICV, an unknown
  SPI, a truncated packet, a dummy packet (next header 59) and an inner packet outside the SA's
  selectors are dropped with their reasons; plaintext that the inbound policy covers is dropped.
* NAT traversal with 10.1.0.3 (AES-CBC-256 + HMAC-SHA-256-128 inbound, AES-GCM-256 outbound):
  ESP in UDP 4501 → 4500 is decrypted; traffic to 192.168.3.0/24 leaves in UDP 4500 → 4501 with
  a zero checksum; IKE on 4500 (non-ESP marker) and NAT keepalives are punted to the IKE daemon.
* Too big for the tunnel (the IPsec MTU, 1414 by default, manual 11.4): with DF the sender gets
  "fragmentation needed" with 1414; without DF the inner packet is fragmented to 1414, then each
  piece encrypted.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import esp_cbc_sha256, esp_gcm, outer, policy_record, sa_record  # noqa: E402
from golden import (ICMP_FRAG_NEEDED, ether, generate, icmp_error, ip_packet, ip_pieces,  # noqa: E402
                    pad, routed)
from scapy.all import IP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
HOST_MAC, HOST = "02:00:00:01:00:0a", "192.168.1.10"
PEER_MAC, PEER = "02:00:00:02:00:02", "10.1.0.2"
NATTED_MAC, NATTED = "02:00:00:02:00:03", "10.1.0.3"

OUT_SPI, IN_SPI = 0xC0000001, 0xC1000001           # with 10.1.0.2, AES-GCM-128
OUT3_SPI, IN3_SPI = 0xC0000003, 0xC1000003         # with 10.1.0.3 behind a NAT
OUT_KEY = bytes(range(0x10, 0x20)) + bytes.fromhex("01020304")
IN_KEY = bytes(range(0x20, 0x30)) + bytes.fromhex("05060708")
OUT3_KEY = bytes(range(0x40, 0x60)) + bytes.fromhex("0a0b0c0d")
IN3_ENC, IN3_INT = bytes(range(0x60, 0x80)), bytes(range(0x80, 0xA0))


def records():
    one, two, three = "192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24"
    return [
        sa_record(OUT_SPI, "out", BOX_EXT, PEER, 20, "AES_GCM_16_128", OUT_KEY, one, two, 1),
        sa_record(IN_SPI, "in", PEER, BOX_EXT, 20, "AES_GCM_16_128", IN_KEY, one, two, 1),
        sa_record(OUT3_SPI, "out", BOX_EXT, NATTED, 20, "AES_GCM_16_256", OUT3_KEY, one, three, 2,
                  encap=(4500, 4501)),
        sa_record(IN3_SPI, "in", NATTED, BOX_EXT, 12, "AES_CBC_256", IN3_ENC, one, three, 2, 12,
                  "HMAC_SHA2_256_128", IN3_INT, encap=(4501, 4500)),
        policy_record("out", one, two, 1, OUT_SPI),
        policy_record("in", two, one, 1, IN_SPI),
        policy_record("fwd", two, one, 1, IN_SPI),
        policy_record("out", one, three, 2, OUT3_SPI),
        policy_record("in", three, one, 2, IN3_SPI),
    ]


def forwarded_inner(frame):
    """The inner IP packet as the box forwards it into the tunnel: TTL − 1."""
    return ip_packet(routed(frame, HOST_MAC, HOST_MAC))


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.ipsec_records = records()
    # Neighbours: the host and both peers ask for the box (learned, nothing waits for ARP).
    c.neighbour_asks("internal", HOST_MAC, HOST, BOX_INT)
    c.neighbour_asks("external", PEER_MAC, PEER, BOX_EXT)
    c.neighbour_asks("external", NATTED_MAC, NATTED, BOX_EXT, same_burst=True)

    def from_host(dst, ident, payload=b"x" * 18, tos=0, flags=0):
        return Ether(dst=i, src=HOST_MAC) / IP(src=HOST, dst=dst, id=ident, tos=tos, flags=flags) / \
            UDP(sport=5000, dport=6000) / Raw(payload)

    # Into the tunnel to 10.1.0.2: two packets, sequence numbers 1 and 2, outer IDs 0 and 1.
    ident = 0
    for seq, tos in ((1, 0x28), (2, 0)):
        f = c.rx("internal", from_host("192.168.2.20", 0x100 + seq, tos=tos), "forwarded")
        c.tx("external", ether(PEER_MAC, e, 0x0800) +
             outer(BOX_EXT, PEER, 50, esp_gcm(OUT_KEY, OUT_SPI, seq, forwarded_inner(f)), ident, tos))
        ident += 1

    # From the tunnel: decrypted and forwarded.
    def from_peer(body, mac=PEER_MAC, src=PEER, udp=None, proto=50):
        return ether(e, mac, 0x0800) + outer(src, BOX_EXT, proto, body, 0x77, udp=udp)

    def inner(src, dst, ident, payload=b"y" * 20):
        return bytes(IP(src=src, dst=dst, id=ident, ttl=63) / UDP(sport=6000, dport=5000) / Raw(payload))

    back = inner("192.168.2.20", HOST, 0x201)
    good = from_peer(esp_gcm(IN_KEY, IN_SPI, 1, back))
    c.rx("external", good, "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + back, i, HOST_MAC))
    c.rx("external", good, "dropped:esp_replayed", same_burst=True)
    bad = bytearray(from_peer(esp_gcm(IN_KEY, IN_SPI, 2, back)))
    bad[-1] ^= 0x01
    c.rx("external", bytes(bad), "dropped:esp_auth_failed", same_burst=True)
    c.rx("external", from_peer(esp_gcm(IN_KEY, 0xDEADBEEF, 3, back)), "dropped:esp_unknown_spi",
         same_burst=True)
    c.rx("external", pad(from_peer(struct.pack("!II", IN_SPI, 4) + b"\0" * 8)),
         "dropped:esp_malformed", same_burst=True)
    c.rx("external", from_peer(esp_gcm(IN_KEY, IN_SPI, 5, b"", next_header=59)), "dropped:esp_dummy",
         same_burst=True)
    stray = inner("192.168.5.5", HOST, 0x202)
    c.rx("external", from_peer(esp_gcm(IN_KEY, IN_SPI, 6, stray)), "dropped:esp_selector_mismatch",
         same_burst=True)
    # The same traffic in plaintext must not pass: the policy requires it protected.
    c.rx("external", ether(e, PEER_MAC, 0x0800) + back, "dropped:ipsec_plaintext", same_burst=True)
    # A later packet of the window still passes after all of that (the window moved to 6 only).
    later = inner("192.168.2.20", HOST, 0x203)
    f = c.rx("external", from_peer(esp_gcm(IN_KEY, IN_SPI, 7, later)), "forwarded", same_burst=True)
    c.tx("internal", routed(ether(i, e, 0x0800) + later, i, HOST_MAC))

    # NAT traversal with 10.1.0.3: ESP in UDP 4501 -> 4500, AES-CBC + HMAC-SHA-256-128.
    natted = inner("192.168.3.30", HOST, 0x301)
    body = esp_cbc_sha256(IN3_ENC, IN3_INT, IN3_SPI, 1, natted, bytes(range(0xB0, 0xC0)))
    c.rx("external", from_peer(body, NATTED_MAC, NATTED, udp=(4501, 4500), proto=17), "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + natted, i, HOST_MAC))
    # IKE with the non-ESP marker and a NAT keepalive on 4500 go to the IKE daemon.
    ike = from_peer(b"\0\0\0\0" + b"\x11" * 28, NATTED_MAC, NATTED, udp=(4501, 4500), proto=17)
    c.rx("external", ike, "punted", same_burst=True)
    c.punt("external", ike)
    keepalive = pad(from_peer(b"\xff", NATTED_MAC, NATTED, udp=(4501, 4500), proto=17))
    c.rx("external", keepalive, "punted", same_burst=True)
    c.punt("external", ip_frame(keepalive))
    # Into the NAT-T tunnel: UDP 4500 -> 4501, checksum zero, AES-GCM-256.
    f = c.rx("internal", from_host("192.168.3.30", 0x401), "forwarded")
    c.tx("external", ether(NATTED_MAC, e, 0x0800) +
         outer(BOX_EXT, NATTED, 17, esp_gcm(OUT3_KEY, OUT3_SPI, 1, forwarded_inner(f)), ident,
               udp=(4500, 4501)))
    ident += 1

    # Too big for the tunnel: the IPsec MTU 1414 (the path would allow 1500 - 20 - 36 - 16).
    big_df = c.rx("internal", from_host("192.168.2.20", 0x501, b"z" * 1444, flags="DF"),
                  "dropped:mtu_exceeded")
    c.tx("internal", icmp_error(big_df, ICMP_FRAG_NEEDED, BOX_INT, i, HOST_MAC, mtu=1414),
         "generated")
    big = c.rx("internal", from_host("192.168.2.20", 0x502, b"z" * 1444), "forwarded")
    pkt = forwarded_inner(big)
    data, chunk = len(pkt) - 20, (1414 - 20) // 8 * 8
    sizes = [chunk] * ((data - 1) // chunk)
    for n, piece in enumerate(ip_pieces(pkt, sizes + [data - sum(sizes)])):
        c.tx("external", ether(PEER_MAC, e, 0x0800) +
             outer(BOX_EXT, PEER, 50, esp_gcm(OUT_KEY, OUT_SPI, 3 + n, piece), ident),
             "forwarded" if n == 0 else "generated")
        ident += 1


def ip_frame(frame):
    """A punted frame as the box hands it on: cut to the IP total length."""
    _, rest = frame[:14], frame[14:]
    total = struct.unpack("!H", rest[2:4])[0]
    return frame[:14 + total]


generate(build)
