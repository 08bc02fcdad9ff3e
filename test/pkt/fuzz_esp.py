#!/usr/bin/python3
"""A hostile IPsec peer through the real pipeline (the box and SAs of case 301_esp_tunnel):
random and bit-flipped ESP, truncated ESP and ESP in UDP, lying lengths, unknown SPIs,
fragments, authentic packets in shuffled, missing or repeated pieces — and authentic packets
(made with the SA's keys) whose decrypted contents are malformed: bad inner headers, lengths
beyond the plaintext, other next headers. The replay must finish, account for every frame, and
only what the SA authenticated and the inner checks passed may reach the box (the inner packets
are addressed to it, so nothing waits for ARP).
Deterministic (fixed seed). Usage: fuzz_esp.py BULWARK SOURCE_ROOT
"""
import os
import random
import struct
import sys

bulwark, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "tools", "pcap"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_common  # noqa: E402
from esp_frames import esp_gcm, outer  # noqa: E402
from golden import ip_pieces  # noqa: E402

CASE = os.path.join(root, "test", "pkt", "301_esp_tunnel")
rng = random.Random(4303)
BOX_MAC, PEER_MAC = bytes.fromhex("020000000201"), bytes.fromhex("020000020002")
BOX, PEER, IN_SPI = "10.1.0.1", "10.1.0.2", 0xC1000001
IN_KEY = bytes(range(0x20, 0x30)) + bytes.fromhex("05060708")


def ipv4(proto, payload, ident):
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                                bytes([10, 1, 0, 2]), bytes([10, 1, 0, 1])))
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16)
    hdr[10:12] = struct.pack("!H", ~s & 0xffff)
    return bytes(hdr) + payload


def eth(ip):
    return BOX_MAC + PEER_MAC + b"\x08\x00" + ip


def inner_ok(size):
    body = b"i" * size
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + size, 7, 0, 64, 17, 0,
                                bytes([192, 168, 2, 20]), bytes([192, 168, 1, 1])))
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16)
    hdr[10:12] = struct.pack("!H", ~s & 0xffff)
    return bytes(hdr) + struct.pack("!HHHH", 5000, 6000, 8 + size, 0) + body


seq = [0]


def fragments(packet, count):
    """The IPv4 packet in `count` pieces of whole 8-byte units (the last takes the rest)."""
    data = len(packet) - 20
    unit = max(8, data // count // 8 * 8)
    sizes = [unit] * min(count - 1, (data - 1) // unit)
    return ip_pieces(packet, sizes + [data - sum(sizes)])


def authentic(payload, next_header=4):
    seq[0] += 1
    return esp_gcm(IN_KEY, IN_SPI, seq[0], payload, next_header)


frames, authentic_good, last_good = [], 0, None
for n in range(3000):
    kind = n % 10
    if kind == 0:    # random bytes behind a valid SPI
        body = struct.pack("!II", IN_SPI, rng.randrange(1, 1 << 32)) + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
        f = eth(outer(PEER, BOX, 50, body, n & 0xffff))
    elif kind == 1:  # bit flips in an authentic packet
        b = bytearray(authentic(inner_ok(rng.randrange(0, 80))))
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        f = eth(outer(PEER, BOX, 50, bytes(b), n & 0xffff))
    elif kind == 2:  # truncated authentic packets
        b = authentic(inner_ok(rng.randrange(0, 80)))
        f = eth(outer(PEER, BOX, 50, b[:rng.randrange(0, len(b))], n & 0xffff))
    elif kind == 3:  # authentic, the inner packet malformed
        p = bytearray(inner_ok(rng.randrange(0, 60)))
        what = rng.randrange(4)
        if what == 0:
            p[0] = rng.choice([0x00, 0x65, 0x4f, 0x41])           # version / IHL
        elif what == 1:
            lie = rng.randrange(0, 65536) if n % 20 else rng.randrange(20, len(p))
            p[2:4] = struct.pack("!H", lie if lie != len(p) else lie + 1)  # total length lies
            # Shorter but still holding the UDP header is a valid (trimmed) packet, as in plaintext.
            authentic_good += 28 <= lie < len(p)
        elif what == 2:
            p = p[:rng.randrange(0, 20)]                           # shorter than a header
        else:
            p[12:16] = bytes([127, 0, 0, 1])                       # martian source
        f = eth(outer(PEER, BOX, 50, authentic(bytes(p)), n & 0xffff))
    elif kind == 4:  # authentic with other next headers (IPv6, TCP, garbage)
        f = eth(outer(PEER, BOX, 50, authentic(inner_ok(10), rng.choice([41, 6, 0, 255])), n & 0xffff))
    elif kind == 5:  # unknown SPIs
        body = struct.pack("!II", rng.getrandbits(32), 1) + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80)))
        f = eth(outer(PEER, BOX, 50, body, n & 0xffff))
    elif kind == 6:  # ESP in UDP, cut anywhere, with lying UDP lengths
        body = authentic(inner_ok(20))
        cut = rng.randrange(0, len(body) + 1)
        udp = struct.pack("!HHHH", 4500, 4500, rng.randrange(0, 65536), 0) + body[:cut]
        f = eth(ipv4(17, udp, n & 0xffff))
        # Whole, it is ESP (the UDP length is not what counts); under four bytes it is not ESP
        # but a NAT keepalive or IKE for the box: both go to the box.
        authentic_good += cut == len(body) or cut < 4
    elif kind == 7 and n % 20 != 7:  # an authentic packet in pieces, shuffled; some incomplete
        pieces = fragments(outer(PEER, BOX, 50, authentic(inner_ok(rng.randrange(40, 400))), n & 0xffff),
                           rng.randrange(2, 5))
        rng.shuffle(pieces)
        fate = rng.randrange(4)
        if fate == 0:
            pieces.pop()                         # one never comes: given up
        elif fate == 1:
            # One comes twice before the packet is complete: the packet is given up.
            pieces.insert(rng.randrange(len(pieces)), rng.choice(pieces[:-1]))
        else:
            authentic_good += 1                  # whole in any order: decrypted, to the box
        frames.extend(eth(p) for p in pieces)
        continue
    elif kind == 7:  # single fragments of ESP whose other pieces never come
        b = bytearray(outer(PEER, BOX, 50, authentic(inner_ok(40)), n & 0xffff))
        b[6:8] = struct.pack("!H", rng.choice([0x2000, 0x0001, 0x2005]))
        b[10:12] = b"\0\0"
        s = sum(struct.unpack("!10H", bytes(b[:20])))
        s = (s & 0xffff) + (s >> 16)
        b[10:12] = struct.pack("!H", ~s & 0xffff)
        f = eth(bytes(b))
    elif kind == 8 and last_good:  # a replay of a packet that was accepted
        f = last_good
    else:            # good ones in between: these must pass
        f = eth(outer(PEER, BOX, 50, authentic(inner_ok(rng.randrange(0, 80))), n & 0xffff))
        authentic_good += 1
        last_good = f
    frames.append(f)


def esp_checks(d):
    if d["punted"] != authentic_good:
        print(f"punted {d['punted']}, expected {authentic_good}")
    return {
        "the authentic, well-formed packets reached the box (nothing else did)":
            d["punted"] == authentic_good and d["forwarded"] == 0,
        "forged packets failed authentication, replays the window":
            d["dropped"].get("esp_auth_failed", 0) > 0 and d["dropped"].get("esp_replayed", 0) > 0,
    }


fuzz_common.run(bulwark, frames, "external",
                ["--config", os.path.join(CASE, "config.yaml"), "--ipsec", os.path.join(CASE, "ipsec.records")],
                esp_checks)
