#!/usr/bin/python3
"""Hostile frames through the real pipeline: random bytes, truncations, lying length fields,
bit flips of valid frames, oversized frames. The replay must finish, and its counters must account
for every frame (in = forwarded + punted + consumed + dropped; out = forwarded + generated).
Deterministic (fixed seed). Usage: fuzz_replay.py BULWARK SOURCE_ROOT
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

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

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "in.pcap")
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            out.write(struct.pack("<IIII", 1000 + i // 1000, (i % 1000) * 1000, len(f), len(f)))
            out.write(f)
    result = subprocess.run([bulwark, "replay", "--in", f"internal={path}", "--out-dir",
                             os.path.join(tmp, "out"), "--json"],
                            capture_output=True, text=True, timeout=100)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    d = json.loads(result.stdout)
    dropped = sum(d["dropped"].values())
    checks = {
        "every frame read": d["in"] == len(frames),
        "in = forwarded + punted + consumed + dropped":
            d["in"] == d["forwarded"] + d["punted"] + d["consumed"] + dropped,
        "out = forwarded + generated": d["out"] == d["forwarded"] + d["generated"],
        "malformed frames were dropped under named reasons": dropped > 1000,
    }
    for name, ok in checks.items():
        print(("ok: " if ok else "FAIL: ") + name)
    print(json.dumps(d["dropped"], sort_keys=True))
    failed = sum(not ok for ok in checks.values())
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
