#!/usr/bin/env python3
"""A long-lived HTTP/1.1 client for the namespace tests: http_keepalive.py URL [SOURCE].

Opens one keep-alive connection (from SOURCE if given) and GETs URL on it, printing "connected"
or "failed"; then for every line on stdin GETs it again on the SAME connection and prints "ok"
when the answer comes within two seconds, "closed" when the connection was reset or closed (it is
not reopened), "timeout" otherwise.
"""
import http.client
import socket
import sys
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
source = (sys.argv[2], 0) if len(sys.argv) > 2 else None
cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
kwargs = {"timeout": 3, "source_address": source}
if url.scheme == "https":
    import ssl
    kwargs["context"] = ssl._create_unverified_context()
conn = cls(url.hostname, url.port, **kwargs)
# Never reconnect silently: http.client reopens a closed connection on the next request.
conn.auto_open = 0


def get():
    conn.request("GET", url.path or "/")
    response = conn.getresponse()
    response.read()
    return response.status == 200


try:
    conn.connect()
    ok = get()
except OSError:
    ok = False
print("connected" if ok else "failed", flush=True)
if not ok:
    sys.exit(0)
conn.sock.settimeout(2)
for _ in sys.stdin:
    try:
        print("ok" if get() else "timeout", flush=True)
    except socket.timeout:
        print("timeout", flush=True)
    except (OSError, http.client.HTTPException):
        print("closed", flush=True)
