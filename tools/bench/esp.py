#!/usr/bin/python3
"""SAs, policies and ESP captures for the ESP benchmark scenarios (docs/performance.md).

    esp.py records --sas N --direction out|in --alg gcm128|cbc256-sha256 --out FILE
    esp.py encrypt --sas N --alg … --in PLAIN.pcap --out ESP.pcap

`records` writes `bulwark bench --ipsec` records for N tunnels (N = 1 or up to 1024) of the
box 198.51.100.2 with peers 100.64.0.1 … (behind the default gateway): for N = 1 one tunnel
192.168.0.0/16 (and 172.16.0.0/12) ↔ 10.0.0.0/14; otherwise 1024 policies, one per /24 of
10.0.0.0/14, spread over the N SAs (/24 number k uses SA k % N). `out` SAs encrypt what
tools/pcap/workload.py sends to --dst 10.0.0.0/14; `in` SAs (replay window 0: a capture
repeats its sequence numbers) decrypt what `encrypt` makes.

`encrypt` turns every frame of a plaintext capture (workload.py --src 10.0.0.0/14 --dst
172.16.0.0/16) into ESP from the SA of its source /24 to the box's external interface, with
Python's `cryptography`, sequence numbers counting per SA.
"""
import argparse
import ipaddress
import struct
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BOX = "198.51.100.2"
BOX_MAC = bytes.fromhex("026277000002")  # replay/bench default MAC of the second interface
PEER_MAC = bytes.fromhex("020000000201")
REMOTE = ipaddress.ip_network("10.0.0.0/14")


def peer(k):
    return str(ipaddress.ip_address("100.64.0.1") + k)


def keys(k, alg):
    if alg == "gcm128":
        return bytes((k + i) % 256 for i in range(16)) + struct.pack("!I", k), b""
    return bytes((k + i) % 256 for i in range(32)), bytes((k * 7 + i) % 256 for i in range(32))


def spi(k, direction):
    return (0xA0000000 if direction == "out" else 0xB0000000) + k


def blocks(n):
    """(/24 networks, index of the SA for each): the remote side of the policies."""
    if n == 1:
        return [REMOTE], [0]
    nets = list(REMOTE.subnets(new_prefix=24))
    return nets, [i % n for i in range(len(nets))]


def records(args):
    nets, owner = blocks(args.sas)
    lines = []
    enc, enc_name = (20, "AES_GCM_16_128") if args.alg == "gcm128" else (12, "AES_CBC_256")
    integ, int_name = (0, "") if args.alg == "gcm128" else (12, "HMAC_SHA2_256_128")
    local = "192.168.0.0/16,172.16.0.0/12"
    for k in range(args.sas):
        enc_key, int_key = keys(k, args.alg)
        remote = ",".join(str(n) for i, n in enumerate(nets) if owner[i] == k)
        src, dst = (BOX, peer(k)) if args.direction == "out" else (peer(k), BOX)
        lines.append(
            f"sa spi={spi(k, args.direction)} proto=50 dir={args.direction} src={src} dst={dst} encap=0 "
            f"sport=0 dport=0 reqid={k + 1} mode=tunnel enc={enc} enc_name={enc_name} enc_key={enc_key.hex()} "
            f"int={integ} int_name={int_name or '-'} int_key={int_key.hex()} "
            f"replay={32 if args.direction == 'out' else 0} esn=0 soft_s=0 hard_s=0 soft_b=0 hard_b=0 "
            f"soft_p=0 hard_p=0 local_ts={local} remote_ts={remote}")
    for i, n in enumerate(nets):
        k = owner[i]
        if args.direction == "out":
            lines.append(f"policy dir=out src=192.168.0.0/16 dst={n} proto=0 reqid={k + 1} spi={spi(k, 'out')} refs=1")
        else:
            lines.append(f"policy dir=in src={n} dst=172.16.0.0/12 proto=0 reqid={k + 1} spi={spi(k, 'in')} refs=1")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, out = 24, []
    while pos < len(data):
        _, _, n, _ = struct.unpack("<IIII", data[pos:pos + 16])
        out.append(data[pos + 16:pos + 16 + n])
        pos += 16 + n
    return data[:24], out


def checksum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def encrypt(args):
    header, frames = read_pcap(args.input)
    nets, owner = blocks(args.sas)
    seq = [0] * args.sas
    ciphers = [keys(k, args.alg) for k in range(args.sas)]
    aead = [AESGCM(c[0][:16]) for c in ciphers] if args.alg == "gcm128" else None
    out = bytearray(header)
    for i, frame in enumerate(frames):
        inner = frame[14:]
        src = ipaddress.ip_address(inner[12:16])
        k = 0 if args.sas == 1 else owner[(int(src) - int(REMOTE.network_address)) >> 8]
        seq[k] += 1
        head = struct.pack("!II", spi(k, "in"), seq[k])
        if args.alg == "gcm128":
            pad = (-(len(inner) + 2)) % 4
            plain = inner + bytes(range(1, pad + 1)) + bytes([pad, 4])
            iv = struct.pack("!Q", seq[k])
            body = head + iv + aead[k].encrypt(ciphers[k][0][16:] + iv, plain, head)
        else:
            pad = (-(len(inner) + 2)) % 16
            plain = inner + bytes(range(1, pad + 1)) + bytes([pad, 4])
            iv = struct.pack("!QQ", k, seq[k])
            e = Cipher(algorithms.AES(ciphers[k][0]), modes.CBC(iv)).encryptor()
            body = head + iv + e.update(plain) + e.finalize()
            h = hmac.HMAC(ciphers[k][1], hashes.SHA256())
            h.update(body)
            body += h.finalize()[:16]
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), i & 0xFFFF, 0, 64, 50, 0,
                                   ipaddress.ip_address(peer(k)).packed, ipaddress.ip_address(BOX).packed))
        ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
        packet = BOX_MAC + PEER_MAC + b"\x08\x00" + bytes(ip) + body
        out += struct.pack("<IIII", 1764201600, i % 1000000, len(packet), len(packet)) + packet
    with open(args.out, "wb") as f:
        f.write(out)
    print(f"{len(frames)} ESP frames for {args.sas} SAs", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("records")
    r.add_argument("--direction", choices=("out", "in"), required=True)
    e = sub.add_parser("encrypt")
    e.add_argument("--in", dest="input", required=True)
    for p in (r, e):
        p.add_argument("--sas", type=int, default=1)
        p.add_argument("--alg", choices=("gcm128", "cbc256-sha256"), default="gcm128")
        p.add_argument("--out", required=True)
    args = ap.parse_args()
    if not 1 <= args.sas <= 1024:
        ap.error("--sas: 1 to 1024")
    records(args) if args.cmd == "records" else encrypt(args)


if __name__ == "__main__":
    main()
