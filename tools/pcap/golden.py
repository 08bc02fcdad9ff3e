#!/usr/bin/python3
"""Golden capture tests for `bulwark replay`: frame builders for the cases' gen.py and the runner.

    golden.py run CASE_DIR BULWARK [--keep DIR] [--determinism bytes|frames]
    golden.py regen [CASE_DIR...]           (default: every case under test/pkt/)
    golden.py selfcheck [CASE_DIR...]       (no replay needed: captures up to date and consistent)
    golden.py compare EXPECTED.pcap ACTUAL.pcap
    golden.py dump FILE.pcap

A case is a folder test/pkt/NNN_name/ holding config.yaml, gen.py and what gen.py writes:
in-IF.pcap (one input capture per interface of the configuration), expect-IF.pcap (every frame
the box transmits on IF), expect-IF.punt.pcap (every frame handed to the exception path from IF)
and expect.json (the counters `bulwark replay --json` must print); optionally expect-firewall.log
(the packet filter's log lines the replay writes to OUT_DIR/firewall.log). `run` replays the inputs
twice, compares the outputs frame by frame with a field-level diff, checks every IPv4/ICMP/TCP/UDP
checksum of the output, compares the counters (and firewall.log line by line when the case has
expect-firewall.log), and checks that both runs wrote identical captures.

The first half of this file is the library gen.py uses: `Case` records input frames with their
expected outcome and the frames the box must send, and the builders (`routed`, `arp_reply`,
`arp_request`, `icmp_error`, `fragments`, `tcp_reset`) compute the expected frames from the input
bytes directly, with struct and a checksum of their own, independently of the dataplane's code.
The second half compares captures (aligned with difflib, then scapy field by field) and runs
cases.

Run with Debian's /usr/bin/python3 (python3-scapy 2.5, python3-yaml).
"""
import argparse
import difflib
import glob
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, conf  # noqa: E402
import yaml  # noqa: E402

conf.verb = 0

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES_DIR = os.path.join(REPO, "test", "pkt")
DROP_REASONS = (
    "frame_truncated", "l2_not_for_us", "l2_multicast", "vlan_unknown", "vlan_unsupported", "ipv6",
    "ethertype_unsupported", "arp_malformed", "ipv4_truncated", "ipv4_bad_version", "ipv4_bad_ihl",
    "ipv4_bad_length", "ipv4_bad_checksum", "ipv4_martian_source", "ipv4_not_routable",
    "ttl_exceeded", "no_route", "mtu_exceeded", "fragmentation_failed", "neighbour_hold_full",
    "neighbour_unresolved", "punt_unavailable", "no_tables", "tx_full",
    # the packet filter and connection tracking (docs/firewall.md)
    "filter_policy_drop", "filter_rule_drop", "filter_no_match", "filter_reject", "conntrack_full",
    "conntrack_invalid", "tcp_no_connection", "conntrack_aborted",
    # network address translation (docs/nat.md)
    "nat_ports_exhausted", "nat_fragment",
    # ESP and IPsec policies (docs/esp.md)
    "esp_unknown_spi", "esp_malformed", "esp_replayed", "esp_auth_failed", "esp_bad_padding",
    "esp_dummy", "esp_inner_not_ipv4", "reassembly_failed", "esp_too_big", "esp_selector_mismatch",
    "esp_sequence_exhausted", "esp_no_room", "ipsec_no_sa", "ipsec_plaintext",
    "ipsec_vpn_to_vpn", "vpn_nat_unsolicited",
    # several workers (docs/conntrack.md)
    "owner_ring_full",
    # the user firewall (docs/firewall.md)
    "user_session_ended")  # dataplane/counters.h
IPSEC_RECORDS = "ipsec.records"  # SAs and policies with known keys: `bulwark replay --ipsec`
FIREWALL_LOG = "firewall.log"  # written by `bulwark replay` into its output directory
# User-firewall grant sets: users-0.json before the replay, users-T.json from replay time T
# (microseconds since the epoch) on: `bulwark replay --users FILE[@SECONDS]`
USERS_GLOB = "users-*.json"
REPLAY_TIMEOUT = 50  # seconds per replay; meson gives a case 120 for two runs

# ------------------------------------------------------------------------------------------------
# pcap files
# ------------------------------------------------------------------------------------------------

_PCAP_HEADERS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),  # microseconds, little endian
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),     # nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1),
}


class PcapError(Exception):
    pass


def read_pcap(path):
    """Frames of a pcap (or pcapng) file as a list of (timestamp in ns, bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":  # pcapng: let scapy decode it
        from scapy.utils import rdpcap
        return [(int(p.time * 1_000_000_000), bytes(p)) for p in rdpcap(path)]
    if len(data) < 24 or data[:4] not in _PCAP_HEADERS:
        raise PcapError(f"{path}: not a pcap file")
    endian, ns_per_unit = _PCAP_HEADERS[data[:4]]
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise PcapError(f"{path}: link type {linktype}, expected 1 (Ethernet)")
    frames, pos = [], 24
    while pos < len(data):
        if pos + 16 > len(data):
            raise PcapError(f"{path}: truncated record header at byte {pos}")
        sec, frac, caplen, origlen = struct.unpack(endian + "IIII", data[pos:pos + 16])
        pos += 16
        if pos + caplen > len(data):
            raise PcapError(f"{path}: truncated record at byte {pos}")
        if caplen != origlen:
            raise PcapError(f"{path}: frame {len(frames)} captured {caplen} of {origlen} bytes")
        frames.append((sec * 1_000_000_000 + frac * ns_per_unit, data[pos:pos + caplen]))
        pos += caplen
    return frames


def write_pcap(path, frames):
    """Writes (timestamp in µs, bytes) frames as a classic microsecond pcap, link type Ethernet."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for t_us, frame in frames:
        out += struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame))
        out += frame
    with open(path, "wb") as f:
        f.write(out)


# ------------------------------------------------------------------------------------------------
# checksums and addresses
# ------------------------------------------------------------------------------------------------

def inet_checksum(data):
    """RFC 1071 Internet checksum of data (the value to store; 0 when verifying a correct sum)."""
    data = bytes(data)
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac):
    b = bytes(int(x, 16) for x in mac.split(":"))
    assert len(b) == 6, mac
    return b


def ip_bytes(addr):
    b = bytes(int(x) for x in addr.split("."))
    assert len(b) == 4, addr
    return b


def ip_str(b):
    return ".".join(str(x) for x in b)


# ------------------------------------------------------------------------------------------------
# frame builders (library for gen.py)
# ------------------------------------------------------------------------------------------------

BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


def ether(dst, src, ethertype, vlan=None, pcp=0):
    """An Ethernet header; with vlan, one 802.1Q tag (PCP pcp, DEI 0)."""
    hdr = mac_bytes(dst) + mac_bytes(src)
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, (pcp << 13) | vlan)
    return hdr + struct.pack("!H", ethertype)


def pad(frame, size=60):
    """Ethernet padding: zero bytes up to size (60 = minimum frame without FCS)."""
    frame = bytes(frame)
    return frame + b"\0" * max(0, size - len(frame))


def split_l2(frame):
    """(dst, src, [TCI...], ethertype, payload) of a frame with any number of 802.1Q tags."""
    frame = bytes(frame)
    dst, src = frame[0:6], frame[6:12]
    tags, pos = [], 12
    et = struct.unpack("!H", frame[pos:pos + 2])[0]
    while et in (0x8100, 0x88A8):
        tags.append(struct.unpack("!H", frame[pos + 2:pos + 4])[0])
        pos += 4
        et = struct.unpack("!H", frame[pos:pos + 2])[0]
    return dst, src, tags, et, frame[pos + 2:]


def ip_packet(frame):
    """The IPv4 packet of a frame, cut to its total length (Ethernet padding removed)."""
    _, _, _, et, payload = split_l2(frame)
    assert et == 0x0800, "not an IPv4 frame"
    total = struct.unpack("!H", payload[2:4])[0]
    assert total <= len(payload), "IPv4 total length beyond the frame"
    return payload[:total]


def _set_ip_checksum(hdr):
    hdr[10:12] = b"\0\0"
    hdr[10:12] = struct.pack("!H", inet_checksum(hdr))


def routed(frame, src_mac, dst_mac, vlan=None):
    """The frame as the box forwards it: new Ethernet header (egress MAC to next hop, the egress
    VLAN's tag or none), TTL minus one, header checksum updated, cut to the IP total length."""
    ip = bytearray(ip_packet(frame))
    ihl = (ip[0] & 0x0F) * 4
    assert ip[8] > 1, "a forwarded packet needs TTL > 1"
    ip[8] -= 1
    hdr = ip[:ihl]
    _set_ip_checksum(hdr)
    ip[:ihl] = hdr
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(ip)


def ip_pieces(packet, sizes):
    """An IPv4 packet (20-byte header) as a sender splits it: pieces carrying `sizes` data bytes
    each (multiples of 8 but the last, summing to the packet's data), MF on all but the last,
    fresh header checksums, TTL unchanged."""
    hdr, data = packet[:20], packet[20:]
    assert sum(sizes) == len(data)
    pieces, start = [], 0
    for n, size in enumerate(sizes):
        last = n == len(sizes) - 1
        assert last or size % 8 == 0
        h = bytearray(hdr)
        h[2:4] = struct.pack("!H", 20 + size)
        h[6:8] = struct.pack("!H", (0 if last else 0x2000) | start // 8)
        _set_ip_checksum(h)
        pieces.append(bytes(h) + data[start:start + size])
        start += size
    return pieces


def fragments(frame, mtu, src_mac, dst_mac, vlan=None):
    """RFC 791 fragmentation of a forwarded packet for an egress MTU: data in pieces of
    (mtu - header) rounded down to 8 bytes, offsets added to the packet's own, MF on every piece
    but the last (and on the last too when the packet itself had MF), TTL minus one, fresh header
    checksums. The first piece counts as forwarded, the others as generated."""
    ip = ip_packet(frame)
    ihl = (ip[0] & 0x0F) * 4
    assert ihl == 20, "options would need the copy rule; not used in the tests"
    flags_off = struct.unpack("!H", ip[6:8])[0]
    assert not flags_off & 0x4000, "DF packets are not fragmented"
    own_mf, own_off = flags_off & 0x2000, flags_off & 0x1FFF
    data = ip[ihl:]
    chunk = (mtu - ihl) // 8 * 8
    out = []
    for start in range(0, len(data), chunk):
        piece = data[start:start + chunk]
        last = start + chunk >= len(data)
        hdr = bytearray(ip[:ihl])
        hdr[2:4] = struct.pack("!H", ihl + len(piece))
        mf = 0x2000 if (not last or own_mf) else 0
        hdr[6:8] = struct.pack("!H", mf | (own_off + start // 8))
        hdr[8] -= 1
        _set_ip_checksum(hdr)
        out.append(ether(dst_mac, src_mac, 0x0800, vlan) + bytes(hdr) + piece)
    return out


def arp_frame(op, eth_dst, eth_src, hwsrc, psrc, hwdst, pdst, vlan=None, pcp=0):
    """An Ethernet/IPv4 ARP frame (28-byte body, no padding)."""
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac_bytes(hwsrc), ip_bytes(psrc),
                       mac_bytes(hwdst), ip_bytes(pdst))
    return ether(eth_dst, eth_src, 0x0806, vlan, pcp) + body


def arp_request(src_mac, src_ip, target_ip, vlan=None, eth_dst=BROADCAST):
    """Who-has target_ip tell src_ip (what a host sends, and what the box sends: 42 bytes)."""
    return arp_frame(1, eth_dst, src_mac, src_mac, src_ip, ZERO_MAC, target_ip, vlan)


def arp_reply(src_mac, src_ip, dst_mac, dst_ip, vlan=None):
    """src_ip is-at src_mac, to dst_mac/dst_ip (what a host sends, and what the box sends)."""
    return arp_frame(2, dst_mac, src_mac, src_mac, src_ip, dst_mac, dst_ip, vlan)


ICMP_TIME_EXCEEDED = (11, 0)
ICMP_NET_UNREACHABLE = (3, 0)
ICMP_FRAG_NEEDED = (3, 4)
ICMP_PORT_UNREACHABLE = (3, 3)  # the packet filter's reject for anything but TCP


def icmp_error(offending, kind, src_ip, src_mac, dst_mac, vlan=None, mtu=0):
    """The ICMP error the box sends for an offending frame: IPv4 IHL 5, TOS 0xc0, ID 0, no flags,
    TTL 64, from src_ip to the offending packet's source; ICMP type/code = kind, second word
    0 or the next-hop MTU; payload = the offending IP packet as received, cut so that the error
    is at most 576 bytes."""
    orig = ip_packet(offending)
    quote = orig[:576 - 20 - 8]
    icmp = bytearray(struct.pack("!BBHHH", kind[0], kind[1], 0, 0, mtu) + quote)
    icmp[2:4] = struct.pack("!H", inet_checksum(icmp))
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(icmp), 0, 0, 64, 1, 0,
                                ip_bytes(src_ip), orig[12:16]))
    _set_ip_checksum(hdr)
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(hdr) + bytes(icmp)


def tcp_reset(offending, src_mac, dst_mac, vlan=None):
    """The TCP reset the packet filter's `reject` sends for an offending TCP segment
    (docs/firewall.md, RFC 793): from the segment's destination to its source, ports swapped;
    for a segment with ACK `seq = its ack` and only RST, otherwise `seq = 0`, RST+ACK and
    `ack = its seq + payload length (+1 for SYN, +1 for FIN)`; a 20-byte TCP header (no
    options, window 0, urgent pointer 0) in an IPv4 packet with IHL 5, TOS 0, ID 0, no flags,
    TTL 64."""
    orig = ip_packet(offending)
    ihl = (orig[0] & 0x0F) * 4
    assert orig[9] == 6, "a reset answers TCP only"
    seg = orig[ihl:]
    sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", seg[:14])
    doff, flags = (off_flags >> 12) * 4, off_flags & 0x3F
    payload = len(seg) - doff
    if flags & 0x10:  # ACK
        r_seq, r_ack, r_flags = ack, 0, 0x04
    else:
        r_seq = 0
        r_ack = (seq + payload + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)) \
            & 0xFFFFFFFF
        r_flags = 0x14
    src, dst = orig[16:20], orig[12:16]
    tcp = bytearray(struct.pack("!HHIIBBHHH", dport, sport, r_seq, r_ack, 5 << 4, r_flags, 0, 0,
                                0))
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp[16:18] = struct.pack("!H", inet_checksum(pseudo + tcp))
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src,
                                dst))
    _set_ip_checksum(hdr)
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(hdr) + bytes(tcp)


# ------------------------------------------------------------------------------------------------
# network address translation (docs/nat.md): expected frames of translated packets
# ------------------------------------------------------------------------------------------------
# The builders below take the input frame, put the translated addresses, ports and ICMP
# identifier in, and compute every checksum again from scratch over the result (never
# incrementally), so they share nothing with the dataplane's RFC 1624 updates.

ICMP_QUERY_TYPES = (0, 8, 13, 14, 15, 16, 17, 18)  # echo, timestamp, information, address mask


def _fresh_l4_checksum(src, dst, proto, seg):
    """seg (a complete TCP/UDP/ICMP message) with its checksum computed from scratch; a UDP
    checksum of zero (none) stays zero."""
    seg = bytearray(seg)
    if proto == 1:
        seg[2:4] = b"\0\0"
        seg[2:4] = struct.pack("!H", inet_checksum(seg))
    elif proto in (6, 17):
        at = 16 if proto == 6 else 6
        if proto == 17 and seg[6:8] == b"\0\0":
            return bytes(seg)
        seg[at:at + 2] = b"\0\0"
        pseudo = struct.pack("!4s4sBBH", src, dst, 0, proto, len(seg))
        value = inet_checksum(pseudo + seg)
        if proto == 17 and value == 0:
            value = 0xFFFF  # RFC 768: a computed zero is sent as all ones
        seg[at:at + 2] = struct.pack("!H", value)
    return bytes(seg)


def _checked(value, what):
    # 0x0000 and 0xFFFF are the same one's complement number: an incremental update and a full
    # recomputation may legitimately disagree on which one they write. A case must avoid them.
    assert value not in (0, 0xFFFF), f"{what} checksum is 0x{value:04x}: change a payload byte"
    return value


def _replace_tuple(ip, src=None, dst=None, sport=None, dport=None, icmp_id=None):
    """ip (bytearray, one IPv4 packet) with addresses, ports or ICMP query identifier replaced in
    place; returns the header length. Checksums untouched."""
    ihl = (ip[0] & 0x0F) * 4
    if src is not None:
        ip[12:16] = ip_bytes(src)
    if dst is not None:
        ip[16:20] = ip_bytes(dst)
    proto = ip[9]
    if sport is not None or dport is not None:
        assert proto in (6, 17), "ports only for TCP and UDP"
        if sport is not None:
            ip[ihl:ihl + 2] = struct.pack("!H", sport)
        if dport is not None:
            ip[ihl + 2:ihl + 4] = struct.pack("!H", dport)
    if icmp_id is not None:
        assert proto == 1 and ip[ihl] in ICMP_QUERY_TYPES, "identifier only for ICMP queries"
        ip[ihl + 4:ihl + 6] = struct.pack("!H", icmp_id)
    return ihl


def nat_routed(frame, src_mac, dst_mac, src=None, dst=None, sport=None, dport=None,
               icmp_id=None, vlan=None):
    """The frame as the box forwards it after address translation: like `routed` (egress MAC to
    next hop, the egress VLAN's tag, TTL minus one, cut to the IP total length), with the source
    and/or destination address, the TCP/UDP ports or the ICMP query identifier replaced where
    given, and the IPv4 header checksum and the TCP/UDP/ICMP checksum computed from scratch
    (a UDP checksum of zero stays zero). For a complete (unfragmented) packet only."""
    ip = bytearray(ip_packet(frame))
    flags_off = struct.unpack("!H", ip[6:8])[0]
    assert not flags_off & 0x3FFF, "nat_routed is for unfragmented packets"
    assert ip[8] > 1, "a forwarded packet needs TTL > 1"
    ihl = _replace_tuple(ip, src, dst, sport, dport, icmp_id)
    ip[8] -= 1
    hdr = ip[:ihl]
    _set_ip_checksum(hdr)
    ip[:ihl] = hdr
    seg = _fresh_l4_checksum(ip[12:16], ip[16:20], ip[9], ip[ihl:])
    if ip[9] in (1, 6) or (ip[9] == 17 and seg[6:8] != b"\0\0"):
        at = {1: 2, 6: 16, 17: 6}[ip[9]]
        _checked(struct.unpack("!H", seg[at:at + 2])[0], "transport")
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(ip[:ihl]) + seg


def masquerade_port(src, dst, sport, dport, proto, taken=(), low=1024, high=65535):
    """The port masquerading gives a connection whose own source port collides (docs/nat.md):
    the first port not in `taken`, probing the range upwards from a point given by a hash of the
    internal connection (the dataplane's port_probe_start, splitmix64's finaliser). For ICMP
    queries sport and dport are both the identifier."""
    m = (1 << 64) - 1
    a = int.from_bytes(ip_bytes(src), "big")
    b = int.from_bytes(ip_bytes(dst), "big")
    x = ((a << 32) | b) ^ ((sport << 24) | (dport << 8) | proto)
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & m
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & m
    x ^= x >> 31
    size = high - low + 1
    for i in range(size):
        port = low + (x % size + i) % size
        if port not in taken:
            return port
    raise AssertionError("no free port")


def nat_icmp_error(frame, src_mac, dst_mac, outer_src=None, outer_dst=None, inner_src=None,
                   inner_dst=None, inner_sport=None, inner_dport=None, inner_icmp_id=None,
                   vlan=None):
    """An ICMP error (type 3, 4, 5, 11 or 12) about a translated connection as the box forwards
    it (docs/nat.md, "Checksums and ICMP"): routed like `routed` (TTL minus one), the outer
    addresses replaced where given, the embedded packet's addresses and ports (or ICMP
    identifier) replaced where given, the embedded IPv4 header checksum and the outer ICMP and
    IPv4 checksums computed from scratch. The embedded transport checksum follows the embedded
    addresses and ports where the error quotes it (a quote of 8 TCP bytes has none): the builder
    computes it from scratch, so a changed, quoted checksum needs the complete embedded packet
    (or a UDP checksum of zero, which stays zero)."""
    ip = bytearray(ip_packet(frame))
    ihl = _replace_tuple(ip, outer_src, outer_dst)
    assert ip[9] == 1 and ip[ihl] in (3, 4, 5, 11, 12), "not an ICMP error"
    assert ip[8] > 1, "a forwarded packet needs TTL > 1"
    ip[8] -= 1
    hdr = ip[:ihl]
    _set_ip_checksum(hdr)
    ip[:ihl] = hdr
    icmp = bytearray(ip[ihl:])
    inner = bytearray(icmp[8:])
    inner_ihl = (inner[0] & 0x0F) * 4
    assert len(inner) >= inner_ihl + 8, "the embedded packet must carry 8 transport bytes"
    before = bytes(inner)
    _replace_tuple(inner, inner_src, inner_dst, inner_sport, inner_dport, inner_icmp_id)
    changes_l4 = before[inner_ihl:] != bytes(inner[inner_ihl:])
    if inner[9] in (6, 17):  # the pseudo header covers the addresses
        changes_l4 = changes_l4 or before[12:20] != bytes(inner[12:20])
    proto = inner[9]
    quoted_sum = (proto == 6 and len(inner) >= inner_ihl + 18) or \
        (proto == 17 and inner[inner_ihl + 6:inner_ihl + 8] != b"\0\0") or proto == 1
    if changes_l4 and quoted_sum:
        complete = len(inner) == struct.unpack("!H", inner[2:4])[0]
        assert complete, "a changed embedded transport checksum needs the complete embedded " \
                         "packet (or UDP checksum 0, or a quote of 8 TCP bytes)"
        seg = _fresh_l4_checksum(inner[12:16], inner[16:20], proto, inner[inner_ihl:])
        at = {1: 2, 6: 16, 17: 6}[proto]
        _checked(struct.unpack("!H", seg[at:at + 2])[0], "embedded transport")
        inner[inner_ihl:] = seg
    ihdr = inner[:inner_ihl]
    _set_ip_checksum(ihdr)
    inner[:inner_ihl] = ihdr
    icmp[8:] = inner
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", _checked(inet_checksum(icmp), "ICMP"))
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(ip[:ihl]) + bytes(icmp)


def nat_fragment(frame, src_mac, dst_mac, src=None, dst=None, vlan=None):
    """A fragment after the first, forwarded with 1:1 NAT (docs/nat.md: such fragments carry no
    ports and are translated by address only): addresses replaced, TTL minus one, a fresh IPv4
    header checksum; the data travels unchanged."""
    ip = bytearray(ip_packet(frame))
    assert struct.unpack("!H", ip[6:8])[0] & 0x1FFF, "not a fragment after the first"
    assert ip[8] > 1, "a forwarded packet needs TTL > 1"
    ihl = _replace_tuple(ip, src, dst)
    ip[8] -= 1
    hdr = ip[:ihl]
    _set_ip_checksum(hdr)
    ip[:ihl] = hdr
    return ether(dst_mac, src_mac, 0x0800, vlan) + bytes(ip)


# ------------------------------------------------------------------------------------------------
# a case: input frames with their outcome, expected output
# ------------------------------------------------------------------------------------------------

OUTCOMES = ("forwarded", "punted", "consumed")
SEPARATOR_DST = "02:00:00:00:00:ee"
SEPARATOR_SRC = "02:00:00:00:00:ef"


def separator_frame():
    """A frame for no one (l2_not_for_us): replay makes a burst of consecutive frames of one
    input, so a case puts one of these on another interface to start a new burst."""
    return bytes(Ether(dst=SEPARATOR_DST, src=SEPARATOR_SRC) /
                 IP(src="198.18.0.1", dst="198.18.0.2", id=0) /
                 UDP(sport=9, dport=9) / Raw(b"burst separator"))


class Interface:
    def __init__(self, entry):
        self.name = entry["name"]
        self.mac = entry["mac"]
        self.mtu = entry.get("mtu", 1500)
        self.addresses = []  # (address, prefix, vlan or None)
        for a in entry.get("addresses", []):  # none with dhcp: true before a lease
            vlan = None
            if isinstance(a, dict):
                vlan, a = a.get("vlan"), a["address"]
            addr, prefix = a.split("/")
            self.addresses.append((addr, int(prefix), vlan))

    def address(self, vlan=None):
        """First address of the interface (untagged) or of one of its VLANs."""
        return next(a for a, _, v in self.addresses if v == vlan)


def load_config(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [Interface(e) for e in doc["interfaces"]]


class Case:
    """Builds one case. Frames go in with `rx` (in timestamp order, `step` apart); the frames the
    box must transmit are listed with `tx` and `punt` in the order it sends them. A frame that
    must not share a burst with the previous one of the same interface gets a separator frame on
    another interface in between (the default); same_burst=True keeps it in the burst."""

    def __init__(self, case_dir, start=1_700_000_000, step_us=10_000):
        self.dir = case_dir
        self.ifaces = load_config(os.path.join(case_dir, "config.yaml"))
        self.names = [i.name for i in self.ifaces]
        self.now_us = start * 1_000_000
        self.step_us = step_us
        self.inputs = {n: [] for n in self.names}
        self.outputs = {n: [] for n in self.names}
        self.punts = {n: [] for n in self.names}
        self.last_rx = None
        self.counts = {k: 0 for k in OUTCOMES}
        self.counts.update(generated=0, tx_forwarded=0)
        self.dropped = {}
        self.firewall_log = None  # expected firewall.log lines, once expect_log() was called
        self.burst_start_us = None
        self.ipsec_records = []  # lines of ipsec.records (config/ipsec_records.h), if any
        self.user_sets = {}  # replay time in µs (0: before the replay) -> list of grant dicts

    def iface(self, name):
        return next(i for i in self.ifaces if i.name == name)

    def _record(self, name, frame, outcome, t_us):
        self.inputs[name].append((t_us, frame))
        self.last_rx = name
        self.now_us = t_us
        if outcome.startswith("dropped:"):
            reason = outcome.split(":", 1)[1]
            assert reason in DROP_REASONS, reason
            self.dropped[reason] = self.dropped.get(reason, 0) + 1
        else:
            assert outcome in OUTCOMES, outcome
            self.counts[outcome] += 1

    def rx(self, name, frame, outcome, same_burst=False, after_s=None):
        """Frame received on interface `name` at now + step (or now + after_s seconds); outcome is
        forwarded, punted, consumed or dropped:REASON."""
        assert name in self.names, name
        frame = bytes(frame)
        t = self.now_us + (self.step_us if after_s is None else round(after_s * 1_000_000))
        if same_burst:
            assert self.last_rx == name, "same_burst needs the previous frame on the same input"
        else:
            self.burst_start_us = t  # the replay clock while this burst is processed
        if not same_burst and self.last_rx == name:
            other = next(n for n in self.names if n != name)
            self._record(other, separator_frame(), "dropped:l2_not_for_us",
                         (self.now_us + t) // 2)
        self._record(name, frame, outcome, t)
        return frame

    def tx(self, name, frame, kind="forwarded"):
        """A frame the box transmits on `name`: forwarded, or generated by the box."""
        assert kind in ("forwarded", "generated"), kind
        frame = bytes(frame)
        self.outputs[name].append((self.now_us, frame))
        self.counts["generated" if kind == "generated" else "tx_forwarded"] += 1

    def neighbour_asks(self, name, mac, ip, box_ip, same_burst=False):
        """A neighbour on `name` asks for the box's `box_ip`: the box answers and learns it (so
        that nothing later waits for ARP)."""
        self.rx(name, pad(arp_request(mac, ip, box_ip)), "consumed", same_burst=same_burst)
        self.tx(name, arp_reply(self.iface(name).mac, box_ip, mac, ip), "generated")

    def users(self, grants, at_us=0):
        """The user-firewall grant set (dicts: session, source, login_role, template) that the
        replay applies before its first frame (at_us 0) or from replay time at_us on."""
        self.user_sets[at_us] = list(grants)

    def punt(self, name, frame):
        """A frame the box hands to the exception path (received on `name`), unchanged."""
        self.punts[name].append((self.now_us, bytes(frame)))

    def expect_log(self):
        """The case checks the packet filter's log: expect.json gets `log_lines`, and the lines
        given with `log` are written to expect-firewall.log (when there are any)."""
        if self.firewall_log is None:
            self.firewall_log = []

    def log(self, text):
        """A line the replay writes to OUT_DIR/firewall.log for the frame received last, prefixed
        with the replay clock as SECONDS.MICROSECONDS: the time of the first frame of that
        frame's burst (docs/dataplane.md, Replay)."""
        self.expect_log()
        t = self.burst_start_us
        self.firewall_log.append(f"{t // 1_000_000}.{t % 1_000_000:06d} {text}")

    def expected_json(self):
        c = self.counts
        assert c["tx_forwarded"] == c["forwarded"], \
            f"{c['forwarded']} frames received as forwarded but {c['tx_forwarded']} sent as such"
        n_in = sum(len(v) for v in self.inputs.values())
        n_out = sum(len(v) for v in self.outputs.values())
        assert n_in == c["forwarded"] + c["punted"] + c["consumed"] + sum(self.dropped.values())
        assert n_out == c["forwarded"] + c["generated"]
        out = {"in": n_in, "out": n_out, "forwarded": c["forwarded"],
               "generated": c["generated"], "punted": c["punted"], "consumed": c["consumed"],
               "dropped": dict(sorted(self.dropped.items()))}
        if self.firewall_log is not None:
            out["log_lines"] = len(self.firewall_log)
        return out

    def write(self, out_dir=None):
        out_dir = out_dir or self.dir
        os.makedirs(out_dir, exist_ok=True)
        for old in (glob.glob(os.path.join(out_dir, "in-*.pcap")) +
                    glob.glob(os.path.join(out_dir, "expect-*.pcap")) +
                    glob.glob(os.path.join(out_dir, "expect.json")) +
                    glob.glob(os.path.join(out_dir, "expect-" + FIREWALL_LOG)) +
                    glob.glob(os.path.join(out_dir, IPSEC_RECORDS)) +
                    glob.glob(os.path.join(out_dir, USERS_GLOB))):
            os.remove(old)
        for at_us, grants in self.user_sets.items():
            with open(os.path.join(out_dir, f"users-{at_us}.json"), "w", encoding="utf-8") as f:
                json.dump(grants, f, indent=2)
                f.write("\n")
        if self.ipsec_records:
            with open(os.path.join(out_dir, IPSEC_RECORDS), "w", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in self.ipsec_records))
        summary = self.expected_json()
        for n in self.names:
            write_pcap(os.path.join(out_dir, f"in-{n}.pcap"), self.inputs[n])
            write_pcap(os.path.join(out_dir, f"expect-{n}.pcap"), self.outputs[n])
            write_pcap(os.path.join(out_dir, f"expect-{n}.punt.pcap"), self.punts[n])
        with open(os.path.join(out_dir, "expect.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        if self.firewall_log:
            with open(os.path.join(out_dir, "expect-" + FIREWALL_LOG), "w",
                      encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in self.firewall_log))


def generate(build):
    """gen.py entry point: build(case) fills the case; writes beside gen.py or into argv[1]."""
    case_dir = os.path.dirname(os.path.abspath(sys.modules["__main__"].__file__))
    case = Case(case_dir)
    build(case)
    case.write(sys.argv[1] if len(sys.argv) > 1 else case_dir)


# ------------------------------------------------------------------------------------------------
# comparing captures
# ------------------------------------------------------------------------------------------------

def _fmt(v):
    if isinstance(v, bytes):
        return v.hex() if len(v) <= 32 else f"{v[:32].hex()}… ({len(v)} bytes)"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v} (0x{v:x})"
    return repr(v)


def _layers(pkt):
    out = []
    while pkt:
        out.append(pkt)
        pkt = pkt.payload
    return out


def field_diff(expected, actual):
    """Lines describing how two frames differ, layer by layer and field by field."""
    e, a = Ether(expected), Ether(actual)
    lines = []
    le, la = _layers(e), _layers(a)
    for depth in range(max(len(le), len(la))):
        x = le[depth] if depth < len(le) else None
        y = la[depth] if depth < len(la) else None
        if x is None or y is None or type(x) is not type(y):
            xn = x.__class__.__name__ if x is not None else "(nothing)"
            yn = y.__class__.__name__ if y is not None else "(nothing)"
            lines.append(f"    layer {depth}: expected {xn}, actual {yn}")
            if x is not None:
                lines.append(f"      expected: {x.summary()}")
            if y is not None:
                lines.append(f"      actual:   {y.summary()}")
            break
        for f in x.fields_desc:
            xv, yv = x.getfieldval(f.name), y.getfieldval(f.name)
            if isinstance(xv, (list, tuple)) or isinstance(yv, (list, tuple)):
                xv, yv = repr(xv), repr(yv)
            if xv != yv:
                lines.append(f"    {x.__class__.__name__}.{f.name}: expected {_fmt(xv)}, "
                             f"actual {_fmt(yv)}")
    if len(expected) != len(actual):
        lines.append(f"    frame length: expected {len(expected)}, actual {len(actual)}")
    if not lines:
        first = next(i for i in range(len(expected)) if expected[i] != actual[i])
        lines.append(f"    bytes differ from offset {first}: expected "
                     f"{expected[first:first + 16].hex()}, actual {actual[first:first + 16].hex()}")
    else:
        first = next((i for i in range(min(len(expected), len(actual)))
                      if expected[i] != actual[i]), min(len(expected), len(actual)))
        lines.append(f"    first differing byte: offset {first}")
    return lines


def summary(frame):
    try:
        return Ether(frame).summary()
    except Exception:  # noqa: BLE001 - any garbage must still print
        return frame[:32].hex()


def compare_frames(label, expected, actual, names=("expected", "actual")):
    """Problems (list of lines) between two lists of frame bytes. The lists are aligned first
    (difflib), so that one missing or extra frame is reported as such rather than as a shift of
    every later frame; frames that take each other's place get a field-level diff."""
    exp_n, act_n = names
    problems = []
    ops = difflib.SequenceMatcher(None, expected, actual, autojunk=False).get_opcodes()
    for tag, e0, e1, a0, a1 in ops:
        if tag == "equal":
            continue
        pairs = min(e1 - e0, a1 - a0) if tag == "replace" else 0
        for k in range(pairs):
            x, y = expected[e0 + k], actual[a0 + k]
            where = f"frame {e0 + k}" if e0 + k == a0 + k else \
                f"{exp_n} frame {e0 + k} / {act_n} frame {a0 + k}"
            problems.append(f"{label} {where}: differs")
            problems.append(f"      {exp_n + ':':9} {summary(x)}")
            problems.append(f"      {act_n + ':':9} {summary(y)}")
            problems.extend(field_diff(x, y))
        for k in range(e0 + pairs, e1):
            hint = ""
            if expected[k] in actual and expected.count(expected[k]) <= actual.count(expected[k]):
                hint = f" (it is {act_n} frame {actual.index(expected[k])}: order differs)"
            problems.append(f"{label} {exp_n} frame {k}: missing from {act_n}{hint}: "
                            f"{summary(expected[k])}")
        for k in range(a0 + pairs, a1):
            hint = ""
            if actual[k] in expected:
                n = expected.index(actual[k])
                hint = f" (one copy too many of {exp_n} frame {n})" \
                    if actual.count(actual[k]) > expected.count(actual[k]) \
                    else f" (it is {exp_n} frame {n}: order differs)"
            problems.append(f"{label} {act_n} frame {k}: not in {exp_n}{hint}: "
                            f"{summary(actual[k])}")
    if len(expected) != len(actual):
        problems.append(f"{label}: {len(expected)} frames {exp_n}, {len(actual)} {act_n}")
    return problems


# ------------------------------------------------------------------------------------------------
# checksum verification with scapy's decoder
# ------------------------------------------------------------------------------------------------

def _l4_ok(ip, proto, seg):
    pseudo = struct.pack("!4s4sBBH", ip_bytes(ip.src), ip_bytes(ip.dst), 0, proto, len(seg))
    return inet_checksum(pseudo + seg) == 0


def checksum_problems(frame):
    """Wrong checksums in one frame, decoded by scapy: the IPv4 header; for an unfragmented
    packet also ICMP, TCP and UDP (UDP checksum 0 means none)."""
    pkt = Ether(frame)
    if IP not in pkt:
        return []
    ip = pkt[IP]
    raw = bytes(ip)
    ihl = ip.ihl * 4
    out = []
    if inet_checksum(raw[:ihl]) != 0:
        out.append(f"IPv4 header checksum 0x{ip.chksum:04x} is wrong")
    if ip.flags.MF or ip.frag:
        return out
    seg = raw[ihl:ip.len]
    if ip.proto == 1 and inet_checksum(seg) != 0:
        out.append(f"ICMP checksum 0x{pkt[ICMP].chksum:04x} is wrong")
    elif ip.proto == 6 and TCP in pkt and not _l4_ok(ip, 6, seg):
        out.append(f"TCP checksum 0x{pkt[TCP].chksum:04x} is wrong")
    elif ip.proto == 17 and UDP in pkt and pkt[UDP].chksum != 0 and not _l4_ok(ip, 17, seg):
        out.append(f"UDP checksum 0x{pkt[UDP].chksum:04x} is wrong")
    return out


# ------------------------------------------------------------------------------------------------
# running a case
# ------------------------------------------------------------------------------------------------

def find_json(text):
    """The replay's JSON object in its stdout (tolerating log lines around it)."""
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except ValueError:
        pass
    dec = json.JSONDecoder()
    found = None
    for m in re.finditer(r"(?m)^\s*\{", text):
        try:
            obj, _ = dec.raw_decode(text, m.start() + len(m.group(0)) - 1)
        except ValueError:
            continue
        if isinstance(obj, dict) and "in" in obj:
            found = obj
    return found


def case_inputs(case_dir, names):
    ins = {}
    for path in sorted(glob.glob(os.path.join(case_dir, "in-*.pcap"))):
        name = os.path.basename(path)[3:-5]
        if name not in names:
            raise SystemExit(f"{path}: no interface '{name}' in config.yaml")
        ins[name] = path
    return ins


def replay(bulwark, case_dir, names, out_dir):
    cmd = [bulwark, "replay", "--config", os.path.join(case_dir, "config.yaml")]
    ins = case_inputs(case_dir, names)
    for name in names:  # in the order of the configuration
        if name in ins:
            cmd += ["--in", f"{name}={ins[name]}"]
    if os.path.exists(os.path.join(case_dir, IPSEC_RECORDS)):
        cmd += ["--ipsec", os.path.join(case_dir, IPSEC_RECORDS)]
    for path in sorted(glob.glob(os.path.join(case_dir, USERS_GLOB)),
                       key=lambda p: int(os.path.basename(p)[6:-5])):
        at_us = int(os.path.basename(path)[6:-5])
        cmd += ["--users", path if at_us == 0 else f"{path}@{at_us // 1_000_000}.{at_us % 1_000_000:06d}"]
    cmd += ["--out-dir", out_dir, "--json"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=REPLAY_TIMEOUT,
                             check=False)
    except subprocess.TimeoutExpired:
        return None, [f"replay timed out after {REPLAY_TIMEOUT}s: {' '.join(cmd)}"]
    except OSError as e:
        return None, [f"cannot run {bulwark}: {e}"]
    if res.returncode != 0:
        return None, [f"replay exited with {res.returncode}: {' '.join(cmd)}",
                      "stdout:", res.stdout.rstrip(), "stderr:", res.stderr.rstrip()]
    stats = find_json(res.stdout)
    if stats is None:
        return None, ["replay printed no JSON object with 'in'", "stdout:", res.stdout.rstrip()]
    return stats, []


def compare_outputs(case_dir, names, out_dir):
    problems = []
    known = {f"{n}{suffix}" for n in names for suffix in (".pcap", ".punt.pcap")}
    for f in sorted(set(_capture_files(out_dir)) - known):
        problems.append(f"{f}: written by the replay, but there is no such interface")
    for name in names:
        for suffix, what in ((".pcap", "transmitted"), (".punt.pcap", "punted")):
            exp_path = os.path.join(case_dir, f"expect-{name}{suffix}")
            act_path = os.path.join(out_dir, f"{name}{suffix}")
            expected = [f for _, f in read_pcap(exp_path)] if os.path.exists(exp_path) else []
            if os.path.exists(act_path):
                actual = [f for _, f in read_pcap(act_path)]
            elif suffix == ".pcap":
                problems.append(f"{name}{suffix}: the replay did not write it")
                continue
            else:
                actual = []  # a missing punt capture counts as empty
            label = f"{name}{suffix} ({what} on {name})"
            problems += compare_frames(label, expected, actual)
            for i, frame in enumerate(actual):
                for p in checksum_problems(frame):
                    problems.append(f"{label} frame {i}: {p}: {summary(frame)}")
    return problems


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def compare_firewall_log(case_dir, out_dir):
    """When the case has expect-firewall.log: the replay's firewall.log, line by line."""
    exp_path = os.path.join(case_dir, "expect-" + FIREWALL_LOG)
    if not os.path.exists(exp_path):
        return []
    act_path = os.path.join(out_dir, FIREWALL_LOG)
    if not os.path.exists(act_path):
        return [f"{FIREWALL_LOG}: the replay did not write it"]
    expected, actual = read_lines(exp_path), read_lines(act_path)
    problems = []
    ops = difflib.SequenceMatcher(None, expected, actual, autojunk=False).get_opcodes()
    for tag, e0, e1, a0, a1 in ops:
        if tag == "equal":
            continue
        pairs = min(e1 - e0, a1 - a0) if tag == "replace" else 0
        for k in range(pairs):
            problems.append(f"{FIREWALL_LOG} line {e0 + k + 1}: differs")
            problems.append(f"      expected: {expected[e0 + k]}")
            problems.append(f"      actual:   {actual[a0 + k]}")
        for k in range(e0 + pairs, e1):
            problems.append(f"{FIREWALL_LOG} expected line {k + 1}: missing: {expected[k]}")
        for k in range(a0 + pairs, a1):
            problems.append(f"{FIREWALL_LOG} actual line {k + 1}: not expected: {actual[k]}")
    if len(expected) != len(actual):
        problems.append(f"{FIREWALL_LOG}: {len(expected)} lines expected, {len(actual)} actual")
    return problems


def compare_stats(case_dir, stats):
    path = os.path.join(case_dir, "expect.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    for key, want in expected.items():
        if key == "dropped":
            got = stats.get("dropped")
            if not isinstance(got, dict):
                problems.append(f"json: 'dropped' is {got!r}, expected an object")
                continue
            for reason in sorted(set(want) | set(got)):
                w, g = want.get(reason, 0), got.get(reason, 0)
                if w != g:
                    problems.append(f"json: dropped.{reason}: expected {w}, actual {g}")
        elif stats.get(key) != want:
            problems.append(f"json: {key}: expected {want}, actual {stats.get(key)!r}")
    # The accounting identities hold for every replay, whatever expect.json lists.
    try:
        dropped = sum(stats["dropped"].values())
        if stats["in"] != stats["forwarded"] + stats["punted"] + stats["consumed"] + dropped:
            problems.append("json: in != forwarded + punted + consumed + sum(dropped)")
        if stats["out"] != stats["forwarded"] + stats["generated"]:
            problems.append("json: out != forwarded + generated")
    except (KeyError, TypeError, AttributeError) as e:
        problems.append(f"json: missing or malformed counter: {e}")
    return problems


def _capture_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".pcap"))


def compare_runs(first, second, mode):
    problems = []
    files = sorted(set(_capture_files(first)) | set(_capture_files(second)))
    for f in files:
        a, b = os.path.join(first, f), os.path.join(second, f)
        if not (os.path.exists(a) and os.path.exists(b)):
            problems.append(f"determinism: {f} written by only one of the two runs")
            continue
        with open(a, "rb") as fa, open(b, "rb") as fb:
            if fa.read() == fb.read():
                continue
        fa_frames, fb_frames = read_pcap(a), read_pcap(b)
        same_frames = [x for _, x in fa_frames] == [x for _, x in fb_frames]
        if same_frames and mode == "frames":
            continue
        if same_frames:
            problems.append(f"determinism: {f} differs between two runs in record timestamps "
                            "only (are output timestamps taken from the wall clock instead of the "
                            "replay clock?)")
        else:
            problems.append(f"determinism: {f} holds different frames in two runs")
            problems += compare_frames(f"  {f}", [x for _, x in fa_frames],
                                       [x for _, x in fb_frames], names=("run 1", "run 2"))
    return problems


def cmd_run(args):
    case_dir = os.path.abspath(args.case_dir)
    names = [i.name for i in load_config(os.path.join(case_dir, "config.yaml"))]
    name = os.path.basename(case_dir.rstrip("/"))
    work = tempfile.mkdtemp(prefix=f"golden-{name}-")
    problems = []
    try:
        runs = []
        for n in (1, 2):
            out = os.path.join(work, f"run{n}")
            os.makedirs(out)
            stats, errs = replay(args.bulwark, case_dir, names, out)
            if errs:
                problems += [f"run {n}: {e}" for e in errs]
                break
            runs.append(out)
            if n == 1:
                problems += compare_outputs(case_dir, names, out)
                problems += compare_firewall_log(case_dir, out)
                problems += compare_stats(case_dir, stats)
                print(f"{name}: replay counters {json.dumps(stats, sort_keys=True)}")
        if len(runs) == 2:
            problems += compare_runs(runs[0], runs[1], args.determinism)
            if os.path.exists(os.path.join(case_dir, "expect-" + FIREWALL_LOG)):
                logs = [os.path.join(r, FIREWALL_LOG) for r in runs]
                if all(os.path.exists(p) for p in logs) and \
                        read_lines(logs[0]) != read_lines(logs[1]):
                    problems.append(f"determinism: {FIREWALL_LOG} differs between two runs")
        if args.keep:
            if os.path.exists(args.keep):
                shutil.rmtree(args.keep)
            shutil.copytree(work, args.keep)
            print(f"{name}: replay outputs kept in {args.keep}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print(f"FAIL {name}")
        for p in problems:
            print(p)
        return 1
    print(f"ok {name}")
    return 0


def all_cases():
    return sorted(d for d in glob.glob(os.path.join(CASES_DIR, "[0-9]*"))
                  if os.path.exists(os.path.join(d, "gen.py")))


def cmd_regen(args):
    status = 0
    for case_dir in args.case_dirs or all_cases():
        gen = os.path.join(case_dir, "gen.py")
        res = subprocess.run([sys.executable, gen], check=False)
        print(f"{'ok' if res.returncode == 0 else 'FAIL'} regen {case_dir}")
        status |= res.returncode != 0
    return status


def cmd_selfcheck(args):
    """Without the replay: gen.py reproduces the stored files byte for byte, the expected frames
    carry correct checksums, expect.json agrees with the expected captures, and every case is
    registered in test/pkt/meson.build."""
    status = 0
    if not args.case_dirs:
        with open(os.path.join(CASES_DIR, "meson.build"), encoding="utf-8") as f:
            registered = set(re.findall(r"'(\d{3}_[A-Za-z0-9_]+)'", f.read()))
        cases = {os.path.basename(d) for d in all_cases()}
        for name in sorted(cases - registered):
            print(f"FAIL selfcheck: {name} is not listed in test/pkt/meson.build")
            status = 1
        for name in sorted(registered - cases):
            print(f"FAIL selfcheck: test/pkt/meson.build lists {name}, which has no gen.py")
            status = 1
    for case_dir in args.case_dirs or all_cases():
        problems = []
        names = [i.name for i in load_config(os.path.join(case_dir, "config.yaml"))]
        with tempfile.TemporaryDirectory(prefix="golden-selfcheck-") as tmp:
            res = subprocess.run([sys.executable, os.path.join(case_dir, "gen.py"), tmp],
                                 capture_output=True, text=True, check=False)
            if res.returncode != 0:
                problems.append(f"gen.py failed: {res.stderr.strip()}")
            else:
                fresh = sorted(os.listdir(tmp))
                stored = sorted(os.path.basename(p) for p in
                                glob.glob(os.path.join(case_dir, "in-*.pcap")) +
                                glob.glob(os.path.join(case_dir, "expect*")) +
                                glob.glob(os.path.join(case_dir, IPSEC_RECORDS)) +
                                glob.glob(os.path.join(case_dir, USERS_GLOB)))
                if fresh != stored:
                    problems.append(f"files differ: gen.py writes {fresh}, stored {stored}")
                for f in fresh:
                    p = os.path.join(case_dir, f)
                    if os.path.exists(p) and open(p, "rb").read() != \
                            open(os.path.join(tmp, f), "rb").read():
                        problems.append(f"{f} is stale: run golden.py regen {case_dir}")
        out_total = 0
        for n in names:
            for suffix in (".pcap", ".punt.pcap"):
                p = os.path.join(case_dir, f"expect-{n}{suffix}")
                if not os.path.exists(p):
                    continue
                frames = [f for _, f in read_pcap(p)]
                if suffix == ".pcap":
                    out_total += len(frames)
                for i, fr in enumerate(frames):
                    problems += [f"expect-{n}{suffix} frame {i}: {x}"
                                 for x in checksum_problems(fr)]
                problems += compare_frames(f"expect-{n}{suffix} vs itself", frames, frames)
        jp = os.path.join(case_dir, "expect.json")
        if os.path.exists(jp):
            with open(jp, encoding="utf-8") as f:
                exp = json.load(f)
            in_total = sum(len(read_pcap(p))
                           for p in glob.glob(os.path.join(case_dir, "in-*.pcap")))
            if exp.get("in") != in_total:
                problems.append(f"expect.json in={exp.get('in')} but inputs hold {in_total}")
            if exp.get("out") != out_total:
                problems.append(f"expect.json out={exp.get('out')} but expect-*.pcap hold "
                                f"{out_total}")
            dropped = sum(exp.get("dropped", {}).values())
            if exp.get("in") != (exp.get("forwarded", 0) + exp.get("punted", 0) +
                                 exp.get("consumed", 0) + dropped):
                problems.append("expect.json: in != forwarded + punted + consumed + dropped")
            if exp.get("out") != exp.get("forwarded", 0) + exp.get("generated", 0):
                problems.append("expect.json: out != forwarded + generated")
            for reason in exp.get("dropped", {}):
                if reason not in DROP_REASONS:
                    problems.append(f"expect.json: unknown drop reason {reason}")
            log_path = os.path.join(case_dir, "expect-" + FIREWALL_LOG)
            log_n = len(read_lines(log_path)) if os.path.exists(log_path) else 0
            if "log_lines" in exp and exp["log_lines"] != log_n:
                problems.append(f"expect.json log_lines={exp['log_lines']} but "
                                f"expect-{FIREWALL_LOG} holds {log_n} lines")
            if "log_lines" not in exp and log_n:
                problems.append(f"expect-{FIREWALL_LOG} holds {log_n} lines but expect.json "
                                "has no log_lines")
        print(f"{'FAIL' if problems else 'ok'} selfcheck {case_dir}")
        for p in problems:
            print("  " + p)
        status |= bool(problems)
    return status


def cmd_compare(args):
    expected = [f for _, f in read_pcap(args.expected)]
    actual = [f for _, f in read_pcap(args.actual)]
    problems = compare_frames(os.path.basename(args.actual), expected, actual)
    for i, frame in enumerate(actual):
        problems += [f"frame {i}: {p}" for p in checksum_problems(frame)]
    for p in problems:
        print(p)
    print(f"{'FAIL' if problems else 'ok'}: {len(expected)} expected, {len(actual)} actual frames")
    return 1 if problems else 0


def cmd_dump(args):
    for path in args.files:
        print(f"{path}:")
        for i, (t, frame) in enumerate(read_pcap(path)):
            print(f"  {i:3d} {t // 1_000_000_000}.{t % 1_000_000_000:09d} {len(frame):5d}B "
                  f"{summary(frame)}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="replay a case and compare with its expected captures")
    p.add_argument("case_dir")
    p.add_argument("bulwark", help="path of the bulwark executable")
    p.add_argument("--keep", metavar="DIR", help="copy both runs' outputs to DIR")
    p.add_argument("--determinism", choices=("bytes", "frames"), default="bytes",
                   help="bytes (default): both runs' captures identical byte for byte; "
                        "frames: identical frames, timestamps may differ")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("regen", help="run the cases' gen.py")
    p.add_argument("case_dirs", nargs="*")
    p.set_defaults(func=cmd_regen)
    p = sub.add_parser("selfcheck", help="check stored captures without the replay")
    p.add_argument("case_dirs", nargs="*")
    p.set_defaults(func=cmd_selfcheck)
    p = sub.add_parser("compare", help="compare two captures frame by frame")
    p.add_argument("expected")
    p.add_argument("actual")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("dump", help="list the frames of captures")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_dump)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except PcapError as e:
        print(f"error: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
