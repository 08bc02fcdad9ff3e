#!/usr/bin/python3
"""Differential test: Bulwark against Linux nftables + conntrack on the same probes.

The box of box.yaml (manual chapters 3-8: masquerading, 1:1 NAT, port forwarding, an incoming
list with accept and reject rules, an active and an inactive rule record) is built twice:
* the reference: a Linux network namespace `gw` configured with reference.nft, its interfaces
  int0/ext0 (the box's MACs) joined by veth pairs to two namespaces where this script sends
  and captures frames on raw sockets;
* Bulwark: `bulwark replay` of the same frames through box.yaml.
Every probe (a frame, sometimes several) is sent to both; whatever each gateway transmits in
answer is parsed into fields (addresses, ports, TTL, TCP flags and numbers, ICMP type and code,
the quoted header's addresses, ports, TTL and length, every checksum's validity) and compared
field by field. Where the manual prescribes other behaviour than the kernel's, or the two may
legitimately differ, the difference is listed in INTENDED with its reason, field by field;
anything else that differs fails the test.

Usage: nat_vs_nftables.py BULWARK [--keep DIR]   (root: it creates network namespaces)
"""
import argparse
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pcap"))
from golden import arp_request, inet_checksum, pad, read_pcap, separator_frame, write_pcap  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BOX_INT_MAC, BOX_EXT_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
HOSTS_IN = {"A": ("02:00:00:01:00:0b", "192.168.1.11"), "PLC": ("02:00:00:01:00:0a", "192.168.1.10"),
            "R": ("02:00:00:01:00:c8", "192.168.1.200")}
HOSTS_OUT = {"S": ("02:00:00:02:00:64", "10.1.0.100"), "SRV": ("02:00:00:02:00:c8", "10.1.0.200"),
             "RTR": ("02:00:00:02:00:fe", "10.1.0.254")}
V = "10.1.1.10"
DEAD = "10.1.0.77"  # on the external network, answers nobody's ARP
SIDE = {"internal": "lan", "external": "wan"}


def mac(h):
    return (HOSTS_IN.get(h) or HOSTS_OUT[h])[0]


def ip_of(h):
    return (HOSTS_IN.get(h) or HOSTS_OUT[h])[1]


def inside(h, dst, l4, ident, ttl=64, flags=0):
    return bytes(Ether(dst=BOX_INT_MAC, src=mac(h)) / IP(src=ip_of(h), dst=dst, id=ident, ttl=ttl, flags=flags) / l4)


def outside(h, dst, l4, ident, ttl=64, flags=0):
    return bytes(Ether(dst=BOX_EXT_MAC, src=mac(h)) / IP(src=ip_of(h), dst=dst, id=ident, ttl=ttl, flags=flags) / l4)


def icmp_about(to_mac, h, dst, kind, quote, ident):
    return bytes(Ether(dst=to_mac, src=mac(h)) / IP(src=ip_of(h), dst=dst, tos=0xC0, id=ident) /
                 ICMP(type=kind[0], code=kind[1]) / Raw(quote))


def translated(frame, **fields):
    """The IP packet of `frame` as a gateway forwards it with the given fields changed (the quote
    of an error about it), TTL one less, checksums fresh."""
    p = IP(frame[14:])
    for k, v in fields.items():
        if k in ("sport", "dport"):
            setattr(p.payload, k, v)
        else:
            setattr(p, k, v)
    p.ttl -= 1
    del p.chksum
    if p.payload.name in ("TCP", "UDP"):
        del p.payload.chksum
    return bytes(p)


class Probe:
    def __init__(self, name, what, frames, settle=0.3):
        self.name, self.what, self.frames, self.settle = name, what, frames, settle


def probes():
    """The scenarios, in order: each builds on the connections of those before it."""
    udp = lambda s, d, data=b"probe": UDP(sport=s, dport=d) / Raw(data)  # noqa: E731
    syn = lambda s, d, seq: TCP(sport=s, dport=d, flags="S", seq=seq, window=64240)  # noqa: E731
    a_first = inside("A", ip_of("SRV"), udp(5000, 6000, b"masqueraded"), 0x101)
    a_syn = inside("A", ip_of("SRV"), syn(5001, 80, 1000), 0x102)
    r_frame = outside("S", V, udp(7001, 5001, b"to the mapped host"), 0x203)
    big = outside("S", V, udp(7000, 5001, bytes(1422)), 0x202, flags="DF")
    frag_src = IP(src=ip_of("A"), dst=ip_of("SRV"), id=0x1F0, ttl=64) / UDP(sport=5002, dport=6000) / Raw(bytes(range(256)) * 8)
    from scapy.all import fragment
    frags = [bytes(Ether(dst=BOX_INT_MAC, src=mac("A")) / f) for f in fragment(frag_src, fragsize=1368)]
    return [
        Probe("masquerade", "5.4.1: A's UDP leaves from 10.1.0.1", [("internal", a_first)]),
        Probe("masquerade-reply", "the server's answer reaches A",
              [("external", outside("SRV", BOX_EXT, udp(6000, 5000, b"answer"), 0x301))]),
        Probe("masquerade-ttl1", "TTL 1 on A's established flow: time exceeded to A",
              [("internal", inside("A", ip_of("SRV"), udp(5000, 6000, b"ttl one"), 0x103, ttl=1))]),
        Probe("masquerade-error-in", "the server's port unreachable about A's datagram, back to A",
              [("external", icmp_about(BOX_EXT_MAC, "SRV", BOX_EXT, (3, 3), translated(a_first, src=BOX_EXT), 0x302))]),
        Probe("masquerade-syn", "A's TCP SYN leaves masqueraded", [("internal", a_syn)]),
        Probe("masquerade-error-8-bytes", "a router's time exceeded quoting 8 bytes of A's SYN",
              [("external", icmp_about(BOX_EXT_MAC, "RTR", BOX_EXT, (11, 0), translated(a_syn, src=BOX_EXT)[:28], 0x303))]),
        Probe("masquerade-rst-in", "the server resets A's connection",
              [("external", outside("SRV", BOX_EXT, TCP(sport=80, dport=5001, flags="RA", seq=0, ack=1001), 0x304))]),
        Probe("masquerade-port-reuse", "A's next SYN from the same port after the reset",
              [("internal", inside("A", ip_of("SRV"), syn(5001, 80, 5000), 0x104))]),
        Probe("masquerade-ttl1-new", "TTL 1 on a new outgoing connection",
              [("internal", inside("A", ip_of("SRV"), udp(5003, 7000), 0x105, ttl=1))]),
        Probe("masquerade-fragments", "a fragmented datagram through masquerading",
              [("internal", f) for f in frags]),
        Probe("forwarding-syn", "4.4.2: 10.1.0.1:8080 reaches the PLC's port 80",
              [("external", outside("S", BOX_EXT, syn(40000, 8080, 100), 0x201))]),
        Probe("forwarding-synack", "the PLC's answer leaves from 10.1.0.1:8080",
              [("internal", inside("PLC", ip_of("S"), TCP(sport=80, dport=40000, flags="SA", seq=900, ack=101), 0x401))]),
        Probe("forwarding-ttl1", "TTL 1 on a new forwarded connection",
              [("external", outside("S", BOX_EXT, syn(40001, 8080, 200), 0x204, ttl=1))]),
        Probe("one-to-one-syn", "3.3: 10.1.1.10:22 reaches 192.168.1.200",
              [("external", outside("S", V, syn(40002, 22, 300), 0x205))]),
        Probe("one-to-one-synack", "its answer leaves from 10.1.1.10",
              [("internal", inside("R", ip_of("S"), TCP(sport=22, dport=40002, flags="SA", seq=700, ack=301), 0x501))]),
        Probe("one-to-one-out", "the mapped host's own UDP leaves from 10.1.1.10",
              [("internal", inside("R", ip_of("S"), udp(6100, 9000), 0x502))]),
        Probe("one-to-one-reject-tcp", "reject of TCP 23 through 1:1 NAT: a reset",
              [("external", outside("S", V, syn(40003, 23, 400), 0x206))]),
        Probe("one-to-one-reject-udp", "reject of UDP 161 through 1:1 NAT: port unreachable",
              [("external", outside("S", V, udp(7002, 161, b"get public"), 0x207))]),
        Probe("one-to-one-frag-needed", "DF, 1450 bytes, internal MTU 1400: fragmentation needed", [("external", big)]),
        Probe("one-to-one-datagram", "a datagram to the mapped host", [("external", r_frame)]),
        Probe("one-to-one-error-out", "the mapped host's port unreachable about it",
              [("internal", icmp_about(BOX_INT_MAC, "R", ip_of("S"), (3, 3), translated(r_frame, dst=ip_of("R")), 0x503))]),
        Probe("record-accept", "chapter 8: the active record's accept rule (TCP 8443 to 10.1.1.10)",
              [("external", outside("S", V, syn(40010, 8443, 600), 0x209))]),
        Probe("record-reject", "the active record's reject rule: a reset from 10.1.1.10",
              [("external", outside("S", V, syn(40011, 8444, 610), 0x20A))]),
        Probe("record-no-match", "a port the list rule selects but no rule of its record",
              [("external", outside("S", V, syn(40012, 8445, 620), 0x20B))]),
        Probe("record-inactive", "the inactive record's rule does nothing: the list's default drops",
              [("external", outside("S", V, syn(40013, 9000, 630), 0x20C))]),
        Probe("incoming-drop", "a connection no incoming rule accepts",
              [("external", outside("S", ip_of("A"), syn(40004, 22, 500), 0x208))]),
        Probe("host-unreachable", "a destination that never answers ARP (after about 3 s)",
              [("internal", inside("A", DEAD, udp(5004, 6000, b"anyone?"), 0x106))], settle=4.5),
    ]


# Where the two may differ, per probe and field (or "*": every probe), and why. Every other
# field of every frame must be equal.
LINUX_TTL_QUOTE = ("Bulwark quotes the packet as it arrived (RFC 1812 4.3.2.3: the original "
                   "datagram); Linux's forward path has already decremented the TTL when the "
                   "reject or neighbour failure builds the error")
INTENDED = {
    ("*", "ip.id"): "IP ID of packets the gateway generates: Linux numbers them, Bulwark sends 0 "
                    "(RFC 6864: any value for packets that are never fragmented)",
    ("*", "ip.flags"): "DF on generated resets: Linux sets it, Bulwark does not (both valid for a "
                       "40-byte packet)",
    ("masquerade-fragments", "ip.len"): "after reassembling for masquerading Linux cuts the packet "
                                        "again at the largest fragment it received, Bulwark at the "
                                        "egress MTU (both RFC 791 fragments)",
    ("masquerade-fragments", "ip.frag"): "the same: other fragment boundaries",
    ("one-to-one-reject-udp", "quote.ip.ttl"): LINUX_TTL_QUOTE,
    ("host-unreachable", "quote.ip.ttl"): LINUX_TTL_QUOTE,
    ("host-unreachable", "ip.src"): "Linux sends it from the address the packet had been masqueraded "
                                    "to (10.1.0.1); Bulwark from its address on the interface the "
                                    "error leaves by, towards the sender (RFC 1812 4.3.2.4)",
}

# --- parsing what a gateway sent --------------------------------------------------------------

def l4_ok(ip_bytes):
    ihl = (ip_bytes[0] & 15) * 4
    total = int.from_bytes(ip_bytes[2:4], "big")
    if len(ip_bytes) < total:
        return None  # cut short: cannot tell
    seg, proto = ip_bytes[ihl:total], ip_bytes[9]
    if proto == 1:
        return inet_checksum(seg) == 0
    if proto in (6, 17):
        if proto == 17 and seg[6:8] == b"\0\0":
            return True
        pseudo = ip_bytes[12:20] + bytes([0, proto]) + len(seg).to_bytes(2, "big")
        return inet_checksum(pseudo + seg) == 0
    return None


def describe_ip(b, quoted=False):
    d = {}
    ihl = (b[0] & 15) * 4
    d["ip.src"], d["ip.dst"] = socket.inet_ntoa(b[12:16]), socket.inet_ntoa(b[16:20])
    d["ip.proto"], d["ip.ttl"], d["ip.tos"] = b[9], b[8], b[1]
    d["ip.len"] = int.from_bytes(b[2:4], "big")
    d["ip.id"] = int.from_bytes(b[4:6], "big")
    d["ip.flags"] = b[6] >> 5
    d["ip.frag"] = int.from_bytes(b[6:8], "big") & 0x1FFF
    d["ip.checksum_ok"] = inet_checksum(b[:ihl]) == 0
    l4 = b[ihl:]
    frag = d["ip.frag"] != 0
    if d["ip.proto"] in (6, 17) and len(l4) >= 4 and not frag:
        d["l4.sport"], d["l4.dport"] = int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big")
    if d["ip.proto"] == 6 and len(l4) >= 14 and not frag:
        d["tcp.seq"], d["tcp.ack"] = int.from_bytes(l4[4:8], "big"), int.from_bytes(l4[8:12], "big")
        d["tcp.flags"] = l4[13] & 0x3F
    if d["ip.proto"] == 1 and len(l4) >= 8 and not frag:
        d["icmp.type"], d["icmp.code"] = l4[0], l4[1]
        d["icmp.word2"] = int.from_bytes(l4[4:8], "big")
        if not quoted and l4[0] in (3, 4, 5, 11, 12) and len(l4) >= 28:
            inner = describe_ip(l4[8:], quoted=True)
            d.update({"quote." + k: v for k, v in inner.items() if k != "ip.id"})
            d["quote.ip.id"] = inner["ip.id"]
            d["quote.bytes"] = len(l4) - 8
        elif l4[0] in (0, 8):
            d["icmp.id"] = int.from_bytes(l4[4:6], "big")
    if not frag:
        ok = l4_ok(b) if not quoted else (l4_ok(b) if len(b) >= d["ip.len"] else None)
        if ok is not None:
            d[("quote." if False else "") + "l4.checksum_ok"] = ok
    return d


def describe(frame):
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None  # ARP, IPv6: not compared
    d = {"eth.src": ":".join(f"{x:02x}" for x in frame[6:12]), "eth.dst": ":".join(f"{x:02x}" for x in frame[0:6])}
    d.update(describe_ip(frame[14:]))
    return d


# --- the Linux reference ---------------------------------------------------------------------

libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3


def run(*cmd, ns=None):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    subprocess.run(full, check=True, capture_output=True, timeout=20)


class Namespaces:
    def __init__(self, tag):
        self.names = {k: f"bwdiff{tag}-{k}" for k in ("gw", "lan", "wan")}

    def __enter__(self):
        n = self.names
        for v in n.values():
            run("ip", "netns", "add", v)
        run("ip", "link", "add", "int0", "netns", n["gw"], "type", "veth", "peer", "name", "eth0", "netns", n["lan"])
        run("ip", "link", "add", "ext0", "netns", n["gw"], "type", "veth", "peer", "name", "eth0", "netns", n["wan"])
        for ns in n.values():
            run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
            run("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
            run("ip", "link", "set", "lo", "up", ns=ns)
        gw = n["gw"]
        run("ip", "link", "set", "int0", "address", BOX_INT_MAC, "mtu", "1400", "up", ns=gw)
        run("ip", "link", "set", "ext0", "address", BOX_EXT_MAC, "up", ns=gw)
        run("ip", "addr", "add", BOX_INT + "/24", "dev", "int0", ns=gw)
        run("ip", "addr", "add", BOX_EXT + "/16", "dev", "ext0", ns=gw)
        # Checksums in software: a veth hands the reset's TCP checksum to the peer unfinished.
        for dev in ("int0", "ext0"):
            run("ethtool", "-K", dev, "tx", "off", ns=gw)
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0", "net.ipv4.conf.all.send_redirects=0",
                    "net.ipv4.conf.int0.send_redirects=0", "net.ipv4.conf.ext0.send_redirects=0",
                    "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.int0.rp_filter=0", "net.ipv4.conf.ext0.rp_filter=0"):
            run("sysctl", "-qw", key, ns=gw)
        for hosts, dev in ((HOSTS_IN, "int0"), (HOSTS_OUT, "ext0")):
            for m, a in hosts.values():
                run("ip", "neigh", "replace", a, "lladdr", m, "dev", dev, "nud", "permanent", ns=gw)
        run("nft", "-f", os.path.join(HERE, "reference.nft"), ns=gw)
        for side in ("lan", "wan"):
            run("ip", "link", "set", "eth0", "mtu", "1400" if side == "lan" else "1500", "promisc", "on", "up", ns=n[side])
        return self

    def __exit__(self, *exc):
        for v in self.names.values():
            subprocess.run(["ip", "netns", "del", v], capture_output=True, timeout=20)


def raw_socket_in(ns):
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind(("eth0", 0))
        s.setblocking(False)
        return s
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(target)


def drain(sock):
    out = []
    while True:
        try:
            data, addr = sock.recvfrom(65535)
        except BlockingIOError:
            return out
        if addr[2] != socket.PACKET_OUTGOING:
            out.append(data)


def linux_run(all_probes, tag):
    results = []
    with Namespaces(tag) as n:
        socks = {"internal": raw_socket_in(n.names["lan"]), "external": raw_socket_in(n.names["wan"])}
        time.sleep(0.3)
        for s in socks.values():
            drain(s)
        for p in all_probes:
            for iface, frame in p.frames:
                socks[iface].send(frame)
                time.sleep(0.02)
            time.sleep(p.settle)
            got = [(iface, f) for iface, s in socks.items() for f in drain(s)]
            results.append(got)
        for s in socks.values():
            s.close()
    return results


# --- Bulwark ---------------------------------------------------------------------------------

STEP_US = 1_000_000
START_US = 1_700_000_000 * 1_000_000


def bulwark_run(bulwark, all_probes, work):
    inputs = {"internal": [], "external": []}
    t = START_US
    for hosts, iface, box in ((HOSTS_IN, "internal", BOX_INT), (HOSTS_OUT, "external", BOX_EXT)):
        for m, a in hosts.values():  # the gateway knows every host, as the reference's permanent entries
            inputs[iface].append((t, pad(arp_request(m, a, box))))
            t += 1000
    # Replay makes one burst of consecutive frames of one input (docs/dataplane.md, Replay), its
    # clock the burst's first frame: a frame for nobody on the other input just before each
    # probe makes the probe a burst of its own, stamped with its start. A probe that waits (ARP
    # retries) gets more of them afterwards, alternating, so that the replay clock moves on.
    starts = []
    t = START_US + STEP_US
    for p in all_probes:
        first, other = p.frames[0][0], "external" if p.frames[0][0] == "internal" else "internal"
        inputs[other].append((t - 500_000, separator_frame()))
        starts.append(t)
        for iface, frame in p.frames:
            inputs[iface].append((t, frame))
            t += 1000
        for k in range(round(p.settle / 1.2)):
            t = starts[-1] + (k + 1) * 1_200_000
            inputs[other if k % 2 == 0 else first].append((t, separator_frame()))
        t = max(t, starts[-1]) + STEP_US
    for iface, frames in inputs.items():
        frames.sort()
        write_pcap(os.path.join(work, f"in-{iface}.pcap"), frames)
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    cmd = [bulwark, "replay", "--config", os.path.join(HERE, "box.yaml"),
           "--in", f"internal={work}/in-internal.pcap", "--in", f"external={work}/in-external.pcap",
           "--out-dir", out, "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"replay failed: {res.stdout}\n{res.stderr}")
    results = [[] for _ in all_probes]
    for iface in ("internal", "external"):
        for ts_ns, frame in read_pcap(os.path.join(out, f"{iface}.pcap")):
            t_us = ts_ns // 1000
            k = max((i for i, s in enumerate(starts) if s <= t_us), default=None)
            if k is not None:
                results[k].append((iface, frame))
    return results


# --- comparing ---------------------------------------------------------------------------------

def canonical(got):
    """The IPv4 frames of one probe's answer, parsed, in a stable order."""
    rows = [(iface, describe(f)) for iface, f in got]
    rows = [(i, d) for i, d in rows if d is not None]
    return sorted(rows, key=lambda r: (r[0], r[1].get("ip.dst", ""), r[1].get("ip.frag", 0), r[1].get("ip.id", 0)))


def intended(probe, field):
    return INTENDED.get((probe, field)) or INTENDED.get(("*", field))


def compare(name, linux, bulwark):
    problems, accepted = [], []
    if len(linux) != len(bulwark):
        problems.append(f"{len(linux)} frames from Linux, {len(bulwark)} from Bulwark")
    for n, ((li, ld), (bi, bd)) in enumerate(zip(linux, bulwark)):
        if li != bi:
            problems.append(f"frame {n}: sent on {li} by Linux, on {bi} by Bulwark")
        for field in sorted(set(ld) | set(bd)):
            lv, bv = ld.get(field, "-"), bd.get(field, "-")
            if lv == bv:
                continue
            why = intended(name, field)
            (accepted if why else problems).append(f"frame {n} {field}: Linux {lv}, Bulwark {bv}" + (f" ({why})" if why else ""))
    return problems, accepted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bulwark")
    ap.add_argument("--keep", help="keep the captures in this directory")
    args = ap.parse_args()
    all_probes = probes()
    work = args.keep or tempfile.mkdtemp(prefix="bulwark-differential-")
    os.makedirs(work, exist_ok=True)
    try:
        linux = linux_run(all_probes, str(os.getpid()))
        mine = bulwark_run(args.bulwark, all_probes, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = 0
    for p, l, b in zip(all_probes, linux, mine):
        problems, accepted = compare(p.name, canonical(l), canonical(b))
        status = "FAIL" if problems else "ok"
        failed += bool(problems)
        print(f"{status}: {p.name}: {p.what} ({len(canonical(l))} frame(s))")
        for line in problems:
            print(f"    differs: {line}")
        for line in accepted:
            print(f"    intended: {line}")
    print(f"{len(all_probes) - failed} of {len(all_probes)} probes agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
