#!/usr/bin/python3
"""Writes the sample captures that README command 1 replays through the built-in default
configuration (config/default.yaml): a few seconds of a small office behind the box.

    internal.pcap  hosts 192.168.1.10 and .11: ARP for the box, DNS, a TCP handshake, pings to
                   the Internet, a ping to the box itself, a packet with TTL 1, one truncated
                   frame and one IPv6 frame
    external.pcap  the upstream router 198.51.100.1 answering the box's ARP, and the servers'
                   replies — to the box's external address 198.51.100.2, since the default
                   configuration masquerades the internal hosts (their source ports are kept)

Deterministic (fixed timestamps, no randomness). Interface MACs are those replay gives
interfaces without a configured MAC: 02:62:77:00:00:01 (internal), :02 (external).
Run with Debian's /usr/bin/python3 (python3-scapy).
"""
import logging
import os
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, DNS, DNSQR, ICMP, IP, IPv6, TCP, UDP, Ether, wrpcap  # noqa: E402

BOX_INT, BOX_EXT = "02:62:77:00:00:01", "02:62:77:00:00:02"
HOST_A, HOST_B, GATEWAY = "02:00:00:00:01:0a", "02:00:00:00:01:0b", "02:00:00:00:02:01"
START = 1764201600.0  # 2025-11-27 00:00:00 UTC


def at(frame, t):
    frame.time = START + t
    return frame


def main(out_dir):
    internal, external = [], []
    i = internal.append
    e = external.append
    i(at(Ether(src=HOST_A, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=HOST_A, psrc="192.168.1.10", pdst="192.168.1.1"), 0.000))
    i(at(Ether(src=HOST_B, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=HOST_B, psrc="192.168.1.11", pdst="192.168.1.1"), 0.010))
    i(at(Ether(src=HOST_A, dst=BOX_INT) / IP(src="192.168.1.10", dst="203.0.113.53") /
         UDP(sport=40001, dport=53) / DNS(rd=1, qd=DNSQR(qname="plc.example.com")), 0.100))
    # The box asks for its gateway; the answer arrives 2 ms later.
    e(at(Ether(src=GATEWAY, dst=BOX_EXT) /
         ARP(op=2, hwsrc=GATEWAY, psrc="198.51.100.1", hwdst=BOX_EXT, pdst="198.51.100.2"), 0.102))
    e(at(Ether(src=GATEWAY, dst=BOX_EXT) / IP(src="203.0.113.53", dst="198.51.100.2") /
         UDP(sport=53, dport=40001) / DNS(qr=1, qd=DNSQR(qname="plc.example.com")), 0.130))
    i(at(Ether(src=HOST_B, dst=BOX_INT) / IP(src="192.168.1.11", dst="203.0.113.80") /
         TCP(sport=50000, dport=80, flags="S", seq=1000), 0.200))
    e(at(Ether(src=GATEWAY, dst=BOX_EXT) / IP(src="203.0.113.80", dst="198.51.100.2") /
         TCP(sport=80, dport=50000, flags="SA", seq=5000, ack=1001), 0.230))
    i(at(Ether(src=HOST_B, dst=BOX_INT) / IP(src="192.168.1.11", dst="203.0.113.80") /
         TCP(sport=50000, dport=80, flags="A", seq=1001, ack=5001), 0.260))
    for n in range(3):
        t = 1.0 + n
        i(at(Ether(src=HOST_A, dst=BOX_INT) / IP(src="192.168.1.10", dst="203.0.113.1") /
             ICMP(type=8, id=7, seq=n) / (b"ping" * 8), t))
        e(at(Ether(src=GATEWAY, dst=BOX_EXT) / IP(src="203.0.113.1", dst="198.51.100.2") /
             ICMP(type=0, id=7, seq=n) / (b"ping" * 8), t + 0.020))
    i(at(Ether(src=HOST_A, dst=BOX_INT) / IP(src="192.168.1.10", dst="192.168.1.1") /
         ICMP(type=8, id=8, seq=1), 3.500))
    i(at(Ether(src=HOST_B, dst=BOX_INT) / IP(src="192.168.1.11", dst="203.0.113.9", ttl=1) /
         UDP(sport=33434, dport=33434), 3.600))
    i(at(Ether(src=HOST_B, dst=BOX_INT, type=0x0800) / b"\x45\x00\x00", 3.700))
    i(at(Ether(src=HOST_A, dst=BOX_INT) / IPv6(src="fe80::1", dst="fe80::2") / ICMP(), 3.800))
    wrpcap(os.path.join(out_dir, "internal.pcap"), internal)
    wrpcap(os.path.join(out_dir, "external.pcap"), external)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples"))
