#!/usr/bin/python3
"""306_esp_fragments: ESP that a peer fragmented after encryption is reassembled by the box,
then authenticated and decrypted (docs/esp.md, "Fragmented ESP"). The ESP is made by Python's
`cryptography` with the SAs' keys, the fragments by splitting the outer packet here.
* ESP from 10.1.0.2 (AES-GCM-128) in three pieces, in order, out of order, interleaved with a
  whole ESP packet in one burst: each is decrypted and its inner packet forwarded; the pieces
  before the last count as consumed.
* ESP in UDP from 10.1.0.3 (NAT traversal, AES-CBC-256 + HMAC-SHA-256-128) in two pieces.
* IKE on UDP 500 in two pieces reaches the exception path whole (one frame, fresh checksum)
  when it fits the interface's MTU, else in pieces of that MTU.
* Given up (reassembly_failed): a repeated first piece discards its packet; a piece whose
  partner comes after the 5-second limit; pieces still incomplete at the end of the input.
* Reassembled ESP bigger than one packet buffer (2 KiB): esp_too_big.
* Reassembled ESP with a broken ICV: esp_auth_failed, like any ESP.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import esp_cbc_sha256, esp_gcm, outer, policy_record, sa_record  # noqa: E402
from golden import ether, generate, ip_pieces, pad, routed  # noqa: E402
from scapy.all import IP, UDP, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.1", "10.1.0.1"
HOST_MAC, HOST = "02:00:00:01:00:0a", "192.168.1.10"
PEER_MAC, PEER = "02:00:00:02:00:02", "10.1.0.2"
NATTED_MAC, NATTED = "02:00:00:02:00:03", "10.1.0.3"

IN_SPI, IN3_SPI = 0xC1000001, 0xC1000003
IN_KEY = bytes(range(0x20, 0x30)) + bytes.fromhex("05060708")
IN3_ENC, IN3_INT = bytes(range(0x60, 0x80)), bytes(range(0x80, 0xA0))


def records():
    one, two, three = "192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24"
    return [
        sa_record(IN_SPI, "in", PEER, BOX_EXT, 20, "AES_GCM_16_128", IN_KEY, one, two, 1),
        sa_record(IN3_SPI, "in", NATTED, BOX_EXT, 12, "AES_CBC_256", IN3_ENC, one, three, 2, 12,
                  "HMAC_SHA2_256_128", IN3_INT, encap=(4501, 4500)),
        policy_record("in", two, one, 1, IN_SPI),
        policy_record("fwd", two, one, 1, IN_SPI),
        policy_record("in", three, one, 2, IN3_SPI),
    ]


def split(packet, data_sizes, order=None):
    """The IPv4 packet in fragments carrying `data_sizes` bytes each, as a sender on a narrow
    path makes them; `order` permutes them."""
    pieces = ip_pieces(packet, data_sizes)
    return [pieces[i] for i in order] if order else pieces


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.ipsec_records = records()
    # Neighbours: the host and both peers ask for the box (learned, nothing waits for ARP).
    c.neighbour_asks("internal", HOST_MAC, HOST, BOX_INT)
    c.neighbour_asks("external", PEER_MAC, PEER, BOX_EXT)
    c.neighbour_asks("external", NATTED_MAC, NATTED, BOX_EXT, same_burst=True)

    def inner(src, ident, size):
        return bytes(IP(src=src, dst=HOST, id=ident, ttl=63) / UDP(sport=6000, dport=5000) /
                     Raw(bytes((ident + k) & 0xFF for k in range(size))))

    def esp_packet(seq, plain, ident):
        return outer(PEER, BOX_EXT, 50, esp_gcm(IN_KEY, IN_SPI, seq, plain), ident)

    def rx_pieces(pieces, outcome, mac=PEER_MAC, same_burst=False, after_s=None):
        """All pieces but the last are consumed; the last carries the packet's outcome."""
        for n, p in enumerate(pieces):
            last = n == len(pieces) - 1
            c.rx("external", pad(ether(e, mac, 0x0800) + p), outcome if last else "consumed",
                 same_burst=same_burst or n > 0, after_s=after_s if n == 0 else None)

    def forwarded(plain):
        c.tx("internal", routed(ether(i, e, 0x0800) + plain, i, HOST_MAC))

    # In order: 1,428 bytes of ESP in pieces of 576, 576 and the rest.
    plain = inner("192.168.2.20", 0x601, 1360)
    pkt = esp_packet(1, plain, 0x1001)
    rx_pieces(split(pkt, [576, 576, len(pkt) - 20 - 1152]), "forwarded")
    forwarded(plain)
    # Out of order: the last piece first, then the first, then the middle.
    plain = inner("192.168.2.20", 0x602, 900)
    pkt = esp_packet(2, plain, 0x1002)
    rx_pieces(split(pkt, [400, 400, len(pkt) - 20 - 800], order=[2, 0, 1]), "forwarded")
    forwarded(plain)
    # Interleaved in one burst with a whole ESP packet, which is forwarded first.
    whole = inner("192.168.2.20", 0x603, 40)
    plain = inner("192.168.2.20", 0x604, 700)
    a, b = split(esp_packet(4, plain, 0x1004), [512, len(esp_packet(4, plain, 0x1004)) - 20 - 512])
    c.rx("external", ether(e, PEER_MAC, 0x0800) + a, "consumed")
    c.rx("external", ether(e, PEER_MAC, 0x0800) + esp_packet(3, whole, 0x1003), "forwarded",
         same_burst=True)
    forwarded(whole)
    c.rx("external", ether(e, PEER_MAC, 0x0800) + b, "forwarded", same_burst=True)
    forwarded(plain)

    # ESP in UDP through a NAT: fragments of a UDP datagram to port 4500.
    plain = inner("192.168.3.30", 0x605, 600)
    body = esp_cbc_sha256(IN3_ENC, IN3_INT, IN3_SPI, 1, plain, bytes(range(0xB0, 0xC0)))
    pkt = outer(NATTED, BOX_EXT, 17, body, 0x2001, udp=(4501, 4500))
    rx_pieces(split(pkt, [256, len(pkt) - 20 - 256]), "forwarded", mac=NATTED_MAC)
    forwarded(plain)

    # IKE in fragments: reassembled like ESP in UDP (only the whole datagram tells which it is),
    # then to the exception path whole when it fits the interface's MTU (1500)...
    ike = outer(PEER, BOX_EXT, 17, bytes(range(200)) * 5, 0x3001, udp=(500, 500))
    rx_pieces(split(ike, [512, len(ike) - 20 - 512]), "punted")
    c.punt("external", ether(e, PEER_MAC, 0x0800) + ike)
    # ... and in pieces of the MTU when it does not (a big IKE_AUTH without IKE fragmentation),
    # which the kernel there reassembles.
    ike = outer(PEER, BOX_EXT, 17, bytes(range(256)) * 7, 0x3002, udp=(500, 500))
    rx_pieces(split(ike, [1000, len(ike) - 20 - 1000]), "punted")
    for piece in split(ike, [1480, len(ike) - 20 - 1480]):
        c.punt("external", ether(e, PEER_MAC, 0x0800) + piece)

    # A repeated first piece: that packet is given up (both copies); its second piece then starts
    # a packet of its own, which is given up at the end of the input.
    pkt = esp_packet(5, inner("192.168.2.20", 0x606, 300), 0x1005)
    first, second = split(pkt, [160, len(pkt) - 20 - 160])
    c.rx("external", ether(e, PEER_MAC, 0x0800) + first, "dropped:reassembly_failed")
    c.rx("external", ether(e, PEER_MAC, 0x0800) + first, "dropped:reassembly_failed",
         same_burst=True)
    c.rx("external", ether(e, PEER_MAC, 0x0800) + second, "dropped:reassembly_failed",
         same_burst=True)

    # The time limit: the second piece 6 seconds after the first (limit 5 s) does not complete it.
    pkt = esp_packet(6, inner("192.168.2.20", 0x607, 300), 0x1006)
    first, second = split(pkt, [160, len(pkt) - 20 - 160])
    c.rx("external", ether(e, PEER_MAC, 0x0800) + first, "dropped:reassembly_failed")
    c.rx("external", ether(e, PEER_MAC, 0x0800) + second, "dropped:reassembly_failed", after_s=6)

    # Whole, bigger than one 2 KiB buffer: cannot be decrypted in place.
    pkt = esp_packet(7, inner("192.168.2.20", 0x608, 2400), 0x1007)
    rx_pieces(split(pkt, [1480, len(pkt) - 20 - 1480]), "dropped:esp_too_big")

    # Reassembled, then authenticated like any ESP: a flipped ICV bit fails.
    pkt = bytearray(esp_packet(8, inner("192.168.2.20", 0x609, 500), 0x1008))
    pkt[-1] ^= 0x01
    rx_pieces(split(bytes(pkt), [264, len(pkt) - 20 - 264]), "dropped:esp_auth_failed")

    # And the SA still works after all of that.
    plain = inner("192.168.2.20", 0x60A, 100)
    pkt = esp_packet(9, plain, 0x1009)
    rx_pieces(split(pkt, [64, len(pkt) - 20 - 64]), "forwarded")
    forwarded(plain)


generate(build)
