#!/usr/bin/python3
"""007_malformed: frames the pipeline must refuse, each counted under its own reason, all received
on the internal port in one run of bursts; the box sends nothing (no ICMP errors for any of them).
Every expected reason is cross-checked against a small reference classifier of stages 1 and 3 of
docs/dataplane.md, which also decides the outcome of the frames made of pseudo-random bytes (a
fixed seed, so the capture never changes); a random frame for which the contract would not say
one reason is not used.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import BROADCAST, generate, inet_checksum, mac_bytes, pad  # noqa: E402
from scapy.all import IP, UDP, Ether, ICMPv6EchoRequest, IPv6, Raw  # noqa: E402

PC_MAC, PC = "02:00:00:01:00:0a", "192.168.1.10"
SRV = "10.1.0.50"


def reference_reason(frame, box_mac):
    """The drop reason of stages 1 and 3 (no VLANs, no ARP), or None when the frame passes them
    or the contract leaves the reason open."""
    if len(frame) < 14:
        return "frame_truncated"
    dst = frame[:6]
    if dst != mac_bytes(box_mac) and dst != mac_bytes(BROADCAST):
        return "l2_multicast" if dst[0] & 1 else "l2_not_for_us"
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype in (0x0806, 0x8100, 0x88A8):
        return None
    if ethertype == 0x86DD:
        return "ipv6"
    if ethertype != 0x0800:
        return "ethertype_unsupported"
    ip = frame[14:]
    if len(ip) < 20:
        return "ipv4_truncated"
    if ip[0] >> 4 != 4:
        return "ipv4_bad_version"
    ihl = (ip[0] & 0x0F) * 4
    if ihl < 20:
        return "ipv4_bad_ihl"
    total = struct.unpack("!H", ip[2:4])[0]
    if ihl > len(ip):
        return None  # truncated or bad length: open
    if total < ihl or total > len(ip):
        return "ipv4_bad_length"
    if inet_checksum(ip[:ihl]) != 0:
        return "ipv4_bad_checksum"
    src, dst = ip[12:16], ip[16:20]
    if src[0] in (0, 127) or 224 <= src[0] <= 239 or src == b"\xff" * 4:
        return "ipv4_martian_source"
    if src[0] >= 240:
        return None  # 240/4 is not listed as martian
    if 224 <= dst[0] <= 239 or dst == b"\xff" * 4:
        return "ipv4_not_routable"
    return None


def random_frames(box_mac):
    """Pseudo-random frames whose outcome the contract decides: (frame, reason)."""
    rng = random.Random(20240501)
    box = mac_bytes(box_mac)
    shapes = [
        lambda: bytes(rng.getrandbits(8) for _ in range(64)),                     # anything
        lambda: box + bytes(rng.getrandbits(8) for _ in range(54)),               # for the box
        lambda: box + bytes(rng.getrandbits(8) for _ in range(6)) + b"\x08\x00" +
        bytes(rng.getrandbits(8) for _ in range(46)),                             # "IPv4"
        lambda: box + bytes(rng.getrandbits(8) for _ in range(6)) + b"\x08\x00\x45" +
        bytes(rng.getrandbits(8) for _ in range(45)),                             # "IPv4, IHL 5"
    ]
    out = []
    for shape in shapes:
        while True:
            frame = shape()
            reason = reference_reason(frame, box_mac)
            if reason is not None:
                out.append((frame, reason))
                break
    return out


def build(c):
    i = c.iface("internal").mac

    def ip(**kw):
        return Ether(dst=i, src=PC_MAC) / IP(**{"src": PC, "dst": SRV, **kw})

    frames = [
        (b"\x02" * 10, "frame_truncated"),
        ((Ether(dst=i, src=PC_MAC) / Raw(b"x")).build()[:13], "frame_truncated"),
        (Ether(dst="02:00:00:00:99:99", src=PC_MAC) / IP(src=PC, dst=SRV) /
         UDP(sport=1, dport=2) / Raw(b"not for us"), "l2_not_for_us"),
        (pad(Ether(dst="01:00:5e:00:00:05", src=PC_MAC) / IP(src=PC, dst="224.0.0.5", ttl=1,
                                                           proto=89) / Raw(b"ospf")),
         "l2_multicast"),
        (Ether(dst="01:00:5e:00:00:05", src=PC_MAC) / IP(src=PC, dst=SRV) / UDP() /
         Raw(b"unicast IP in a multicast frame"), "l2_multicast"),
        (Ether(dst=i, src=PC_MAC) / IPv6(src="fe80::1", dst="2001:db8::1") /
         ICMPv6EchoRequest(data=b"hello"), "ipv6"),
        (pad(Ether(dst=i, src=PC_MAC, type=0x88B5) / Raw(b"local experimental")),
         "ethertype_unsupported"),
        (pad(Ether(dst=i, src=PC_MAC, type=0x88CC) / Raw(b"\x02\x07\x04")),
         "ethertype_unsupported"),
        (Ether(dst=i, src=PC_MAC, type=0x0800).build() + bytes(ip(id=1))[14:24],
         "ipv4_truncated"),
        (Ether(dst=i, src=PC_MAC, type=0x0800).build(), "ipv4_truncated"),
        (Ether(dst=i, src=PC_MAC, type=0x0800) / IPv6(src="fe80::1", dst="2001:db8::1") /
         Raw(b"v6 in a v4 frame"), "ipv4_bad_version"),
        (pad(Ether(dst=i, src=PC_MAC, type=0x0800).build()), "ipv4_bad_version"),
        (pad(ip(ihl=4, id=2) / UDP(sport=1, dport=2)), "ipv4_bad_ihl"),
        (pad(ip(len=16, id=3) / Raw(b"x" * 8)), "ipv4_bad_length"),
        (pad(ip(len=200, id=4) / UDP(sport=1, dport=2) / Raw(b"short")), "ipv4_bad_length"),
        (pad(ip(id=5, chksum=0x1234) / UDP(sport=1, dport=2) / Raw(b"bad sum")),
         "ipv4_bad_checksum"),
    ]
    for src in ("127.0.0.1", "0.0.0.0", "0.1.2.3", "224.1.2.3", "255.255.255.255"):
        frames.append((pad(ip(src=src, id=6) / UDP(sport=68, dport=67) / Raw(b"martian")),
                       "ipv4_martian_source"))
    frames += [
        (pad(ip(dst="224.0.0.5", id=7) / Raw(b"multicast")), "ipv4_not_routable"),
        (pad(ip(dst="239.255.255.250", id=8) / UDP(sport=1900, dport=1900)), "ipv4_not_routable"),
        (pad(Ether(dst=BROADCAST, src=PC_MAC) / IP(src=PC, dst="255.255.255.255", id=9) /
             UDP(sport=68, dport=67)), "ipv4_not_routable"),
    ]
    frames += random_frames(i)

    first = True
    for frame, reason in frames:
        frame = bytes(frame)
        assert reference_reason(frame, i) == reason, (reason, reference_reason(frame, i))
        c.rx("internal", frame, "dropped:" + reason, same_burst=not first)
        first = False


generate(build)
