#!/usr/bin/python3
"""305_esp_transport: ESP in transport mode to the box (docs/esp.md), keys in ipsec.records.
* A ping from the peer 10.1.0.2 in transport-mode ESP: decrypted, its IPv4 header carries the
  payload's protocol and length again, and it goes to the exception path.
* The same ping in plaintext is refused: the policy says the gateways talk ESP.
* IKE (UDP 500) between the gateways is never subject to that and goes to the exception path.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import esp_gcm, policy_record  # noqa: E402
from golden import ether, generate, inet_checksum  # noqa: E402
from scapy.all import ICMP, IP, UDP, Raw  # noqa: E402

BOX, PEER, PEER_MAC = "10.1.0.1", "10.1.0.2", "02:00:00:02:00:02"
IN_SPI, IN_KEY = 0xC1000005, bytes(range(0x40, 0x50)) + bytes.fromhex("0a0b0c0d")


def with_protocol(header, protocol, payload_length):
    h = bytearray(header)
    h[9] = protocol
    h[2:4] = struct.pack("!H", len(h) + payload_length)
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", inet_checksum(h))
    return bytes(h)


def build(c):
    e = c.iface("external").mac
    c.ipsec_records = [
        (f"sa spi={IN_SPI} proto=50 dir=in src={PEER} dst={BOX} encap=0 sport=0 dport=0 reqid=5 mode=transport "
         f"enc=20 enc_name=AES_GCM_16_128 enc_key={IN_KEY.hex()} int=0 int_name=- int_key= replay=32 esn=0 "
         f"soft_s=0 hard_s=0 soft_b=0 hard_b=0 soft_p=0 hard_p=0 local_ts={BOX}/32 remote_ts={PEER}/32"),
        policy_record("in", f"{PEER}/32", f"{BOX}/32", 5, IN_SPI),
    ]
    ping = bytes(IP(src=PEER, dst=BOX, id=0x42) / ICMP(type=8, id=3, seq=1) / Raw(b"transport"))
    header, icmp = ping[:20], ping[20:]
    esp = esp_gcm(IN_KEY, IN_SPI, 1, icmp, next_header=1)
    frame = ether(e, PEER_MAC, 0x0800) + with_protocol(header, 50, len(esp)) + esp
    c.rx("external", frame, "punted")
    c.punt("external", ether(e, PEER_MAC, 0x0800) + ping)
    c.rx("external", ether(e, PEER_MAC, 0x0800) + ping, "dropped:ipsec_plaintext", same_burst=True)
    ike = ether(e, PEER_MAC, 0x0800) + bytes(IP(src=PEER, dst=BOX, id=0x43) / UDP(sport=500, dport=500) /
                                              Raw(b"\x11" * 28))
    c.rx("external", ike, "punted", same_burst=True)
    c.punt("external", ike)


generate(build)
