"""ESP for the golden cases, made with Python's `cryptography` — an implementation independent of
the box's — so that expected captures prove the box's ESP right (docs/esp.md).

    sa_record(...), policy_record(...)   lines of ipsec.records (`bulwark replay --ipsec`)
    esp_gcm(key, spi, seq, payload)      ESP with AES-GCM-16 (key = AES key + 4-byte salt)
    esp_cbc_sha256(enc, integ, ...)      ESP with AES-CBC and HMAC-SHA-256-128
    outer(src, dst, proto, body, ident)  the outer IPv4 header as the box writes it (TTL 64, DF
                                         clear), with a UDP header for NAT traversal
    GcmTunnels(keys, spis, box, box_mac) the frames of several AES-GCM SAs of one box, numbered
                                         as the box numbers them
"""
import struct

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from golden import ether, inet_checksum


def sa_record(spi, direction, src, dst, enc, enc_name, enc_key, local, remote, reqid, integ=0,
              int_name="-", int_key=b"", encap=(0, 0)):
    return (f"sa spi={spi} proto=50 dir={direction} src={src} dst={dst} "
            f"encap={1 if encap[0] else 0} sport={encap[0]} dport={encap[1]} reqid={reqid} "
            f"mode=tunnel enc={enc} enc_name={enc_name} enc_key={enc_key.hex()} int={integ} "
            f"int_name={int_name} int_key={int_key.hex()} replay=32 esn=0 soft_s=0 hard_s=0 "
            f"soft_b=0 hard_b=0 soft_p=0 hard_p=0 local_ts={local} remote_ts={remote}")


def policy_record(direction, src, dst, reqid, spi):
    return f"policy dir={direction} src={src} dst={dst} proto=0 reqid={reqid} spi={spi} refs=1"


def trailer(payload, block, next_header=4):
    n = (len(payload) + 2 + block - 1) // block * block
    k = n - len(payload) - 2
    return payload + bytes(range(1, k + 1)) + bytes([k, next_header])


def esp_gcm(key, spi, seq, payload, next_header=4):
    iv = struct.pack("!Q", seq)
    head = struct.pack("!II", spi, seq)
    return head + iv + AESGCM(key[:-4]).encrypt(key[-4:] + iv, trailer(payload, 4, next_header), head)


def esp_cbc_sha256(enc, integ, spi, seq, payload, iv):
    head = struct.pack("!II", spi, seq)
    e = Cipher(algorithms.AES(enc), modes.CBC(iv)).encryptor()
    body = head + iv + e.update(trailer(payload, 16)) + e.finalize()
    h = hmac.HMAC(integ, hashes.SHA256())
    h.update(body)
    return body + h.finalize()[:16]


def outer(src, dst, proto, body, ident, tos=0, udp=None):
    if udp:
        body = struct.pack("!HHHH", udp[0], udp[1], 8 + len(body), 0) + body
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(body), ident, 0, 64, proto, 0,
                                bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))))
    hdr[10:12] = struct.pack("!H", inet_checksum(hdr))
    return bytes(hdr) + body


class GcmTunnels:
    """The ESP frames of a box's AES-GCM tunnel SAs, by SA number k (keys[k], spis[k]): sequence
    numbers per SA from 1, and the outer IP ID of what the box sends counted across all its SAs
    (from 0), as the dataplane does. `box`/`box_mac`: its external address and MAC."""

    def __init__(self, keys, spis, box, box_mac):
        self.keys, self.spis, self.box, self.box_mac = keys, spis, box, box_mac
        self.seq = {k: 0 for k in spis}
        self.ident = 0

    def esp(self, k, inner):
        self.seq[k] += 1
        return esp_gcm(self.keys[k], self.spis[k], self.seq[k], inner)

    def into(self, k, gw, gw_mac, inner):
        """What the box sends into SA k to the gateway gw: the inner packet's TOS outside."""
        frame = ether(gw_mac, self.box_mac, 0x0800) + outer(self.box, gw, 50, self.esp(k, inner), self.ident, tos=inner[1])
        self.ident += 1
        return frame

    def from_tunnel(self, k, gw, gw_mac, inner):
        """What the box receives from gw through SA k (outer IP ID 0x55)."""
        return ether(self.box_mac, gw_mac, 0x0800) + outer(gw, self.box, 50, self.esp(k, inner), 0x55)
