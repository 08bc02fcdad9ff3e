#!/usr/bin/python3
"""Hostile frames through the real pipeline: random bytes, truncations, lying length fields,
bit flips of valid frames, oversized frames. The replay must finish, and its counters must account
for every frame (in = forwarded + punted + consumed + dropped; out = forwarded + generated).
Deterministic (fixed seed). Usage: fuzz_replay.py BULWARK SOURCE_ROOT
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_common  # noqa: E402

bulwark, root = sys.argv[1], sys.argv[2]
rng = random.Random(20261127)
BOX = bytes.fromhex("026277000001")
HOST = bytes.fromhex("02000000010a")


def ipv4(src, dst, payload, ttl=64, proto=17, total=None, ihl=5, flags=0):
    length = total if total is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, length & 0xffff, 1, flags, ttl, proto, 0,
                      bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:] + payload


def frame(payload, ethertype=0x0800, dst=BOX):
    return dst + HOST + struct.pack("!H", ethertype) + payload


valid = [
    frame(ipv4("192.168.1.10", "203.0.113.1", b"x" * 40)),
    frame(ipv4("192.168.1.10", "192.168.1.1", b"\x08\x00\xf7\xff" + b"\0" * 4, proto=1)),
    frame(bytes.fromhex("0001080006040001") + HOST + bytes([192, 168, 1, 10]) + b"\0" * 6 +
          bytes([192, 168, 1, 1]), 0x0806, b"\xff" * 6),
    frame(struct.pack("!HH", 10, 0x0800) + ipv4("192.168.1.10", "203.0.113.1", b"y" * 30), 0x8100),
]
frames = []
for n in range(4000):
    kind = n % 8
    base = bytearray(rng.choice(valid))
    if kind == 0:
        f = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
    elif kind == 1:
        f = bytes(base[:rng.randrange(0, len(base))])
    elif kind == 2:
        for _ in range(rng.randrange(1, 6)):
            base[rng.randrange(len(base))] = rng.getrandbits(8)
        f = bytes(base)
    elif kind == 3:
        f = frame(ipv4("192.168.1.10", "203.0.113.1", b"z" * 20, total=rng.randrange(0, 65536)))
    elif kind == 4:
        f = frame(ipv4("192.168.1.10", "203.0.113.1", b"z" * 20, ihl=rng.randrange(0, 16)))
    elif kind == 5:
        f = frame(ipv4("192.168.1.10", "203.0.113.1", b"j" * rng.randrange(1400, 1500),
                       flags=rng.choice([0, 0x4000, 0x2000, 0x2001])))
    elif kind == 6:
        f = frame(b"\x00" * rng.randrange(0, 60), rng.getrandbits(16))
    else:
        f = bytes(base) + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))
    frames.append(f)

fuzz_common.run(bulwark, frames, "internal", [],
                lambda d: {"malformed frames were dropped under named reasons": sum(d["dropped"].values()) > 1000})
