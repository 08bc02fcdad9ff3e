#!/usr/bin/python3
"""Writes a synthetic benchmark capture for `bulwark bench` / `bulwark replay`: N Ethernet IPv4
frames of one size (or the simple IMIX) spread over F flows, UDP or TCP.

    workload.py --out FILE --frames N [--size 64…1518|imix] [--flows F]
                [--proto udp|tcp-syn|tcp-ack] [--src NET] [--dst NET]
                [--src-mac MAC] [--dst-mac MAC] [--dst-port P] [--seed S]

Frames
    --size is the wire frame size including the 4-byte FCS, as in RFC 2544 tables; the capture
    holds size - 4 bytes (64 -> 60, 1518 -> 1514). The IPv4 datagram fills the frame (no Ethernet
    padding); what the headers leave is payload (bytes 0, 1, 2, … modulo 256), so even a 64-byte
    TCP SYN carries 6 data bytes. `imix` is the simple IMIX 7:4:1 of 64, 594 and 1518: every
    block of 12 frames holds exactly 7, 4 and 1 of them, in an order shuffled from the seed.
    IPv4: TTL 64, DF, ID = frame index & 0xffff, correct header checksum, no options.
    udp      UDP with a correct checksum, source port of the flow, destination --dst-port (9000)
    tcp-syn  TCP SYN (no ACK) with a per-flow initial sequence number, window 64240: each flow's
             first frame opens a connection, later frames of the flow are retransmissions. With
             more flows than the connection table holds this is a new-connection storm.
    tcp-ack  TCP ACK segments with payload, the sequence number advancing by the payload length
             within each flow. No handshake precedes them: a stateful gateway does not open
             connections for them (they measure the unmatched-TCP path unless the bench primes
             its connection table).
    Correct TCP checksums; destination port --dst-port (80).

Flows
    Frame i belongs to flow i % F. A flow is a unique (source address, source port) pair: source
    addresses are the hosts of --src (default 192.168.0.0/16, network and broadcast addresses
    skipped), source ports 1024..65535, addresses walking first (flow f: host f % H, port
    1024 + f // H). The destination address is a host of --dst (default 203.0.113.0/24), chosen
    per flow from the seed.

Capture
    Classic pcap, little-endian, microsecond timestamps, linktype 1 (Ethernet), snaplen 65535.
    Frame i is stamped 2025-11-27 00:00:00 UTC + i µs. The same arguments give a byte-identical
    file (the seed drives Python's random.random(), whose sequence Python guarantees).

Prints one line: frames, flows, frame bytes (and on the wire with FCS), file size.
Pure Python (struct), no scapy: about 2 µs a frame. Run with /usr/bin/python3.
"""
import argparse
import ipaddress
import os
import random
import struct
import sys

EPOCH = 1764201600  # 2025-11-27 00:00:00 UTC, as tools/pcap/make_sample.py
SIZES = (64, 128, 256, 512, 1024, 1518)
IMIX = (64,) * 7 + (594,) * 4 + (1518,)
FCS = 4
ETH_LEN, IP_LEN, UDP_LEN, TCP_LEN = 14, 20, 8, 20
PROTO_UDP, PROTO_TCP = 17, 6
TCP_SYN, TCP_ACK = 0x02, 0x10
TCP_WINDOW = 64240
PORT_FIRST, PORT_LAST = 1024, 65535
CHUNK = 16384  # frames per write

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
RECORD = struct.Struct("<IIII")
IP_HDR = "BBHHHBBHII"  # version/IHL, TOS, total length, ID, flags/fragment, TTL, protocol, checksum, src, dst
UDP_FRAME = struct.Struct("!" + IP_HDR + "HHHH")
TCP_FRAME = struct.Struct("!" + IP_HDR + "HHIIBBHHH")


def parse_mac(text):
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise argparse.ArgumentTypeError(f"not a MAC address: {text}")
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a MAC address: {text}") from None


def parse_net(text):
    try:
        net = ipaddress.IPv4Network(text, strict=False)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an IPv4 network: {text} ({e})") from None
    first, count = int(net.network_address), net.num_addresses
    if net.prefixlen < 31:  # skip the network and broadcast addresses
        first, count = first + 1, count - 2
    return first, count


def parse_size(text):
    if text == "imix":
        return text
    if text.isdigit() and 64 <= int(text) <= 1518:
        return int(text)
    raise argparse.ArgumentTypeError(f"size must be 64…1518 (the RFC 2544 sizes are {', '.join(map(str, SIZES))}) or imix")


def positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text}")
    return value


def port(text):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return int(text)


def word_sum(data):
    """Sum of the big-endian 16-bit words of data (zero-padded to even length), unfolded."""
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="capture to write")
    ap.add_argument("--frames", type=positive, required=True, help="number of frames")
    ap.add_argument("--size", type=parse_size, default=64,
                    help="wire frame size incl. FCS (capture holds size-4 bytes), or imix (default 64)")
    ap.add_argument("--flows", type=positive, default=1, help="number of flows (default 1)")
    ap.add_argument("--proto", choices=("udp", "tcp-syn", "tcp-ack"), default="udp")
    ap.add_argument("--src", type=parse_net, default="192.168.0.0/16", help="source network")
    ap.add_argument("--dst", type=parse_net, default="203.0.113.0/24", help="destination network")
    ap.add_argument("--src-mac", type=parse_mac, default="02:00:00:00:01:0a")
    ap.add_argument("--dst-mac", type=parse_mac, default="02:62:77:00:00:01",
                    help="default: the MAC replay/bench give the first interface without a configured MAC")
    ap.add_argument("--dst-port", type=port, help="destination port (default 9000 for udp, 80 for tcp)")
    ap.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    args = ap.parse_args(argv)

    n, flows = args.frames, args.flows
    src_first, src_hosts = args.src
    dst_first, dst_hosts = args.dst
    if flows > src_hosts * (PORT_LAST - PORT_FIRST + 1):
        ap.error(f"--flows {flows}: the source network has room for only "
                 f"{src_hosts * (PORT_LAST - PORT_FIRST + 1)} (address, port) pairs")
    tcp = args.proto != "udp"
    dport = args.dst_port if args.dst_port is not None else (80 if tcp else 9000)
    l4_len = TCP_LEN if tcp else UDP_LEN
    proto = PROTO_TCP if tcp else PROTO_UDP
    flags = TCP_SYN if args.proto == "tcp-syn" else TCP_ACK
    advance = args.proto == "tcp-ack"  # sequence numbers advance with the payload

    # Per size (capture length): IP total length, payload bytes and their word sum.
    caplens = sorted({s - FCS for s in (IMIX if args.size == "imix" else (args.size,))})
    per_size = {}
    for caplen in caplens:
        ip_len = caplen - ETH_LEN
        payload = bytes(k & 0xFF for k in range(ip_len - IP_LEN - l4_len))
        per_size[caplen] = (ip_len, payload, word_sum(payload), RECORD.size + caplen)
    eth = args.dst_mac + args.src_mac + b"\x08\x00"
    # Constant parts of the sums: IPv4 header (0x4500, flags/fragment 0x4000 = DF, TTL/protocol)
    # and the pseudo-header protocol plus the destination port.
    ip_const = 0x4500 + 0x4000 + ((64 << 8) | proto)
    l4_const = proto + dport + (((5 << 4) << 8) | flags) + TCP_WINDOW if tcp else proto + dport

    flow_rng = random.Random(args.seed << 1)
    size_rng = random.Random((args.seed << 1) | 1)
    cache = []  # per-flow parameters, kept only when flows repeat (flows < frames)
    keep = flows < n
    seqs = []  # per-flow next sequence number (tcp-ack)
    block = list(IMIX)

    def new_flow(f):
        src = src_first + f % src_hosts
        sport = PORT_FIRST + f // src_hosts
        dst = dst_first + int(flow_rng.random() * dst_hosts)
        isn = int(flow_rng.random() * 0x100000000)
        ack = int(flow_rng.random() * 0x100000000)
        if flags == TCP_SYN:
            ack = 0  # no ACK flag: acknowledgment number 0
        addr_sum = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)
        # Word sum of the pseudo-header addresses and the L4 header fields fixed for the flow.
        l4_sum = addr_sum + l4_const + sport
        if tcp:
            l4_sum += (ack >> 16) + (ack & 0xFFFF)
        return src, dst, sport, ip_const + addr_sum, l4_sum, isn, ack

    size = None if args.size == "imix" else args.size - FCS
    total = 0
    with open(args.out, "wb") as out:
        out.write(PCAP_HEADER)
        parts = []
        for i in range(n):
            if i < flows:
                fl = new_flow(i)
                if keep:
                    cache.append(fl)
                    if advance:
                        seqs.append(fl[5])
                f = i
            else:
                f = i % flows
                fl = cache[f]
            src, dst, sport, ip_sum, l4_sum, isn, ack = fl
            if size is None:
                k = i % 12
                if k == 0:  # Fisher-Yates with random(), whose sequence Python guarantees
                    for j in range(11, 0, -1):
                        r = int(size_rng.random() * (j + 1))
                        block[j], block[r] = block[r], block[j]
                caplen = block[k] - FCS
            else:
                caplen = size
            ip_len, payload, payload_sum, reclen = per_size[caplen]
            ident = i & 0xFFFF
            s = ip_sum + ip_len + ident
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            ip_csum = ~s & 0xFFFF
            seg_len = ip_len - IP_LEN
            if tcp:
                if advance:
                    if keep:
                        seq = seqs[f]
                        seqs[f] = (seq + seg_len - TCP_LEN) & 0xFFFFFFFF
                    else:
                        seq = isn
                else:
                    seq = isn
                s = l4_sum + seg_len + (seq >> 16) + (seq & 0xFFFF) + payload_sum
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                hdr = TCP_FRAME.pack(0x45, 0, ip_len, ident, 0x4000, 64, proto, ip_csum, src, dst,
                                     sport, dport, seq, ack, 5 << 4, flags, TCP_WINDOW, ~s & 0xFFFF, 0)
            else:
                s = l4_sum + seg_len + seg_len + payload_sum  # pseudo-header length + UDP length
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                hdr = UDP_FRAME.pack(0x45, 0, ip_len, ident, 0x4000, 64, proto, ip_csum, src, dst,
                                     sport, dport, seg_len, (~s & 0xFFFF) or 0xFFFF)
            parts.append(RECORD.pack(EPOCH + i // 1000000, i % 1000000, caplen, caplen))
            parts.append(eth)
            parts.append(hdr)
            parts.append(payload)
            total += caplen
            if len(parts) >= 4 * CHUNK:
                out.write(b"".join(parts))
                parts.clear()
        out.write(b"".join(parts))
    used = min(flows, n)
    print(f"{args.out}: {n} frames, {used} flows, {total} bytes of frames "
          f"({total + FCS * n} on the wire with FCS), file {os.path.getsize(args.out)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
