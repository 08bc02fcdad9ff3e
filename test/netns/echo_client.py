#!/usr/bin/env python3
"""A long-lived TCP client for the namespace tests: echo_client.py ADDRESS PORT.

Connects (printing "connected" or "failed"), then for every line on stdin sends it and prints
"ok" when the echo comes back within two seconds, "timeout" otherwise.
"""
import socket
import sys

try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
except OSError:
    print("failed", flush=True)
    sys.exit(0)
print("connected", flush=True)
s.settimeout(2)
for line in sys.stdin:
    try:
        s.sendall(line.encode())
        data = s.recv(4096)
        print("ok" if data == line.encode() else "timeout", flush=True)
    except OSError:
        print("timeout", flush=True)
