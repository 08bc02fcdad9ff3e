#!/usr/bin/env python3
"""Counts what crosses a wire, for the namespace tests: wire_count.py READY IFACE SECONDS ADDRESS…

Listens on IFACE (AF_PACKET, every frame in both directions) for SECONDS and prints one JSON
object: frames that are ESP, ESP in UDP (port 4500, non-zero SPI), IKE (UDP 500, or 4500 with
the non-ESP marker), and `plaintext`: other IPv4 frames whose source or destination is one of
the ADDRESSes (traffic that should only ever cross inside a tunnel). Creates the file READY once
its socket is bound, so that a test starts its traffic only when every frame will be counted
(lib.sh's watch_wire waits for it: interpreter start-up in a busy namespace takes longer than
any fixed sleep).
"""
import json
import socket
import struct
import sys
import time

ready, iface, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
watched = {socket.inet_aton(a) for a in sys.argv[4:]}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((iface, 0))
s.settimeout(0.2)
open(ready, "w").close()
counts = {"esp": 0, "esp_in_udp": 0, "ike": 0, "plaintext": 0, "frames": 0}
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        frame = s.recv(65535)
    except socket.timeout:
        continue
    counts["frames"] += 1
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    proto, src, dst = ip[9], ip[12:16], ip[16:20]
    kind = "plaintext"
    if proto == 50:
        kind = "esp"
    elif proto == 17 and len(ip) >= ihl + 12:
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        if 500 in (sport, dport):
            kind = "ike"
        elif 4500 in (sport, dport):
            kind = "ike" if ip[ihl + 8:ihl + 12] == b"\0\0\0\0" else "esp_in_udp"
    if kind != "plaintext":
        counts[kind] += 1
    elif src in watched or dst in watched:
        counts["plaintext"] += 1
print(json.dumps(counts), flush=True)
