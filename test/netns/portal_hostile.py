#!/usr/bin/env python3
"""Hostile clients against the user firewall's HTTPS login portal; run inside a namespace that
reaches it, with an address for the attacker and another for a legitimate user:

  portal_hostile.py --portal 192.168.1.1 --attacker 192.168.1.20 --legit 192.168.1.21 \
      --field-sources 192.168.1.22,... --user hpotter --password PW --control-pid PID

Attacks, each bounded: a 100 KB header, a 10 MB POST body, slowloris (many TLS connections that
send a header byte every 2 s), garbage instead of TLS, TLS 1.0 and 1.1 handshakes
(`openssl s_client`, which must be refused while TLS 1.2 works), form fields with NUL, CR/LF and
invalid UTF-8, and 1,000 wrong passwords from one address (rate-limited: 429 after a few, and
fast). After each (and during slowloris), the legitimate user must log in (and out) from the
other address within --legit-within seconds and bulwark-control (--control-pid) must still run.
Prints "ok: ..." / "FAIL: ..." per check and "N passed, N failed"; exit 1 when any failed.
The whole run stops at --budget seconds (60).
"""
import argparse
import http.client
import os
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--portal", required=True)
ap.add_argument("--port", type=int, default=443)
ap.add_argument("--attacker", required=True)
ap.add_argument("--legit", required=True)
ap.add_argument("--field-sources", required=True, help="comma-separated addresses, one per malformed-field case")
ap.add_argument("--user", required=True)
ap.add_argument("--password", required=True)
ap.add_argument("--control-pid", type=int, required=True)
ap.add_argument("--legit-within", type=float, default=5.0)
ap.add_argument("--budget", type=float, default=60.0)
args = ap.parse_args()
START = time.monotonic()
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}" + (f" ({detail})" if detail else ""), flush=True)
    else:
        failed += 1
        print(f"FAIL: {what}" + (f" ({detail})" if detail else ""), flush=True)


def left():
    return args.budget - (time.monotonic() - START)


def context():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def tls_socket(source, timeout=5.0):
    raw = socket.create_connection((args.portal, args.port), timeout=timeout, source_address=(source, 0))
    return context().wrap_socket(raw, server_hostname=args.portal)


def post(source, path, fields=None, body=None, timeout=10.0):
    """(status, body, headers) of a POST from source; (None, error, {}) when it failed."""
    conn = http.client.HTTPSConnection(args.portal, args.port, timeout=timeout,
                                       source_address=(source, 0), context=context())
    try:
        if body is None:
            body = urllib.parse.urlencode(fields or {}).encode()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e), {}
    finally:
        conn.close()


def legit(after):
    """The legitimate user logs in and out from the other address; bulwark-control still runs."""
    t = time.monotonic()
    status, _, _ = post(args.legit, "/login", {"username": args.user, "password": args.password},
                        timeout=args.legit_within)
    took = time.monotonic() - t
    out, _, _ = post(args.legit, "/logout", timeout=args.legit_within)
    check(f"after {after}: a legitimate login from {args.legit} succeeds within {args.legit_within:.0f} s",
          status == 200 and took <= args.legit_within, f"HTTP {status}, {took:.2f} s; logout HTTP {out}")
    try:
        os.kill(args.control_pid, 0)
        alive = True
    except OSError:
        alive = False
    check(f"after {after}: bulwark-control is still running", alive)


def read_status(s, limit):
    """The status code of the first response on TLS socket s, or 'closed'/'timeout'."""
    s.settimeout(limit)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return "closed" if not data else data[:40].decode(errors="replace")
            data += chunk
    except socket.timeout:
        return "timeout"
    except (OSError, ssl.SSLError):
        return "closed"
    parts = data.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else data[:40].decode(errors="replace")


def refused(result):
    return result == "closed" or (isinstance(result, int) and 400 <= result < 500)


# 1. A 100 KB header.
t = time.monotonic()
try:
    s = tls_socket(args.attacker)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: " + args.portal.encode() + b"\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
    except OSError:
        pass  # the portal may close while we still send
    result = read_status(s, 10)
    s.close()
except OSError as e:
    result = f"connect failed: {e!r}"
check("a 100 KB header is refused (4xx or closed) within 10 s", refused(result) and time.monotonic() - t < 10,
      f"{result}, {time.monotonic() - t:.2f} s")
legit("the 100 KB header")

# 2. A 10 MB body to /login.
t = time.monotonic()
sent = 0
try:
    s = tls_socket(args.attacker)
    s.sendall(f"POST /login HTTP/1.1\r\nHost: {args.portal}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              f"Content-Length: {10 * 1024 * 1024}\r\n\r\n".encode())
    chunk = b"username=" + b"x" * (64 * 1024 - 9)
    s.settimeout(5)
    try:
        while sent < 10 * 1024 * 1024 and time.monotonic() - t < 15:
            s.sendall(chunk)
            sent += len(chunk)
            chunk = b"x" * (64 * 1024)
    except (OSError, ssl.SSLError):
        pass
    result = read_status(s, 5)
    s.close()
except OSError as e:
    result = f"connect failed: {e!r}"
# Refused means refused before the whole body was taken in: a login form is a few hundred bytes,
# and a 401 after reading (and parsing) 10 MB means any client can make the portal do that.
whole = sent >= 10 * 1024 * 1024
check("a 10 MB POST body is refused (413/400 or closed, not read to its end) within 20 s",
      (result == "closed" or result in (400, 413) or (refused(result) and not whole)) and time.monotonic() - t < 20,
      f"{result} after {sent / 1048576:.1f} MB sent, {time.monotonic() - t:.2f} s")
legit("the 10 MB body")

# 3. Slowloris: many connections that send a header byte every 2 s; the legitimate login during it.
SLOW = 100
t = time.monotonic()
slow, opened, cut = [], 0, 0
stop = threading.Event()


def open_slow():
    global opened
    try:
        s = tls_socket(args.attacker, timeout=3)
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
        opened += 1
    except (OSError, ssl.SSLError):
        pass


threads = [threading.Thread(target=open_slow) for _ in range(SLOW)]
for th in threads:
    th.start()
for th in threads:
    th.join(5)


def trickle():
    global cut
    while not stop.wait(2):
        for s in list(slow):
            try:
                s.sendall(random.choice([b"X", b"-", b"a", b"b"]))
            except (OSError, ssl.SSLError):
                slow.remove(s)
                cut += 1


trickler = threading.Thread(target=trickle, daemon=True)
trickler.start()
time.sleep(min(4, max(0, left() - 40)))
legit(f"slowloris opened {opened} of {SLOW} connections (during it)")
time.sleep(min(6, max(0, left() - 35)))
stop.set()
trickler.join(3)
print(f"  slowloris: {opened} connections opened, {cut} cut by the portal while trickling, "
      f"{len(slow)} still open after {time.monotonic() - t:.0f} s", flush=True)
for s in slow:
    s.close()
legit("slowloris")

# 4. Garbage instead of TLS, then TLS 1.0 and 1.1 (refused) and 1.2 (accepted).
t = time.monotonic()
try:
    raw = socket.create_connection((args.portal, args.port), timeout=5, source_address=(args.attacker, 0))
    # Plain HTTP's first byte, then seeded noise: not the start of a TLS record, so the portal
    # must close at once. (Random noise may begin like a record header and is then held until
    # the connection timeout, like the partial ClientHello below.)
    noise = random.Random(7)
    raw.sendall(b"G" + bytes(noise.getrandbits(8) for _ in range(4095)))
    raw.settimeout(5)
    try:
        while raw.recv(4096):
            pass
        result = "closed"
    except socket.timeout:
        result = "timeout"
    except OSError:
        result = "closed"
    raw.close()
except OSError as e:
    result = f"connect failed: {e!r}"
check("garbage instead of a TLS handshake is dropped within 5 s", result == "closed", result)
# Partial ClientHello header followed by silence: the portal must not wait for it forever.
try:
    raw = socket.create_connection((args.portal, args.port), timeout=5, source_address=(args.attacker, 0))
    raw.sendall(b"\x16\x03\x01\x40\x00\x01")
    raw.close()
except OSError:
    pass


def s_client(version):
    # SECLEVEL=0: OpenSSL 3 itself would not offer TLS 1.0/1.1 otherwise, and the test would prove
    # nothing about the portal.
    cmd = ["openssl", "s_client", f"-{version}", "-cipher", "DEFAULT:@SECLEVEL=0",
           "-connect", f"{args.portal}:{args.port}", "-servername", "portal"]
    try:
        p = subprocess.run(cmd, input=b"", capture_output=True, timeout=10)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"


for version in ("tls1", "tls1_1"):
    rc, out = s_client(version)
    offered = "no protocols available" not in out and "unsupported protocol" not in out.split("CONNECTED")[0]
    negotiated = "Cipher is (NONE)" not in out and ("New, TLSv1" in out or "Protocol  : TLSv1" in out)
    check(f"a {version.replace('tls1_1', 'TLS 1.1').replace('tls1', 'TLS 1.0')} handshake is refused",
          rc not in (0, None) and offered and not negotiated,
          f"s_client rc {rc}: " + " | ".join(l for l in out.splitlines() if "alert" in l or "error" in l.lower())[:200])
rc, out = s_client("tls1_2")
check("a TLS 1.2 handshake is accepted", rc == 0 and "Cipher is (NONE)" not in out, f"s_client rc {rc}")
legit("invalid TLS")

# 5. Form fields with NUL, CR/LF and invalid UTF-8, each from an address of its own.
sources = args.field_sources.split(",")
cases = [
    ("a NUL inside the user name", b"username=hp%00otter&password=" + urllib.parse.quote(args.password).encode()),
    ("a NUL after the user name, with the right password",
     b"username=" + args.user.encode() + b"%00&password=" + urllib.parse.quote(args.password).encode()),
    ("the right password followed by NUL and garbage",
     b"username=" + args.user.encode() + b"&password=" + urllib.parse.quote(args.password).encode() + b"%00garbage"),
    ("CR/LF (a header injection) in the user name",
     b"username=x%0d%0aX-Injected:%20yes%0d%0a&password=x"),
    ("invalid UTF-8 (percent-encoded) in both fields", b"username=%C3%28%FF%FE&password=%80%80"),
    ("raw invalid UTF-8 and control bytes in the body", b"username=\xff\xfe\x00\r\n\x1b&password=\xc0\xaf"),
]
for (what, body), source in zip(cases, sources):
    status, text, headers = post(source, "/login", body=body)
    injected = any(k.lower() == "x-injected" for k in headers)
    check(f"{what}: refused without an error of the portal", status in (400, 401, 403, 422) and not injected,
          f"HTTP {status}")
legit("the malformed fields")

# 6. 1,000 wrong passwords from one address: 429 after a few, fast.
t = time.monotonic()
statuses = {}
first_429 = None
conn = None
for i in range(1000):
    if left() < 8:
        break
    if conn is None:
        conn = http.client.HTTPSConnection(args.portal, args.port, timeout=5,
                                           source_address=(args.attacker, 0), context=context())
    try:
        conn.request("POST", "/login", body=f"username={args.user}&password=wrong{i}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        status = r.status
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = None
    except (OSError, http.client.HTTPException):
        status = "error"
        conn.close()
        conn = None
    statuses[status] = statuses.get(status, 0) + 1
    if status == 429 and first_429 is None:
        first_429 = i + 1
attempts = sum(statuses.values())
took = time.monotonic() - t
print(f"  1,000 wrong passwords: {attempts} sent in {took:.1f} s, answers {statuses}", flush=True)
check("1,000 wrong passwords from one address are rate-limited (429) after a few (at most 20)",
      first_429 is not None and first_429 <= 20, f"first 429 at attempt {first_429}")
check("and all 1,000 are answered fast (in at most 30 s)", attempts == 1000 and took <= 30, f"{attempts} in {took:.1f} s")
status, _, _ = post(args.attacker, "/login", {"username": args.user, "password": args.password})
print(f"  the right password from the rate-limited address now gets HTTP {status}", flush=True)
legit("1,000 wrong passwords")

print(f"{passed} passed, {failed} failed ({time.monotonic() - START:.0f} s)")
sys.exit(1 if failed else 0)
