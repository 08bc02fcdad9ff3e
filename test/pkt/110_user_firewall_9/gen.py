#!/usr/bin/python3
"""110_user_firewall_9: the user firewall of manual chapter 9 in the packet filter
(docs/firewall.md, "User firewall in the dataplane").
Grants (users-0.json, as bulwark-control sends them after the logins): session 1, hpotter from
192.168.1.10 (internal), gets "Access Web-Server (HTTP)" (tcp to http and https, from the
address it logged in from) and "Branch maintenance" (bound to the VPN connection branch);
session 2, an administrator who unlocked "Technician" for the fixed source 192.168.1.50.
* A (192.168.1.10): HTTP and HTTPS SYNs pass, masqueraded behind 10.1.0.1, and the server's
  answers come back. Its HTTP connection is decided by the user rule, before the outgoing list's
  rule that rejects port 80 for everyone (manual 9.1: user rules first); the template rule logs.
* A's SSH: no template rule, no outgoing rule: filter_no_match. A's tcp/8080: the grant of the
  VPN-bound template does nothing on plain traffic: filter_no_match.
* B (192.168.1.11, not logged in): HTTP is rejected by the outgoing rule (TCP reset).
* T (192.168.1.50): SSH to 10.1.0.200 passes by the technician's fixed-source template; SSH to
  another server does not.
* Then session 1 logs out (users-T.json holds session 2 only): the next packets of A's HTTP and
  HTTPS connections, from either side, are dropped (user_session_ended) and the connections are
  gone; a new HTTP SYN from A is rejected like B's. T's SSH connection goes on.

Writes in-*.pcap, expect-*.pcap, expect.json and users-*.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import generate, nat_routed, tcp_reset  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"      # hpotter's computer
B_MAC, B = "02:00:00:01:00:0b", "192.168.1.11"      # nobody logged in here
T_MAC, T = "02:00:00:01:00:32", "192.168.1.50"      # the technician's computer
SRV_MAC, SRV = "02:00:00:02:00:c8", "10.1.0.200"    # web (and SSH) server in the company network
OTH_MAC, OTH = "02:00:00:02:00:c9", "10.1.0.201"    # another company server
WEB = "Access Web-Server (HTTP)"
GRANTS = [
    {"session": 1, "source": A, "login_role": "internal", "template": WEB},
    {"session": 1, "source": A, "login_role": "internal", "template": "Branch maintenance"},
    {"session": 2, "source": T, "login_role": "internal", "template": "Technician"},
]


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    c.users(GRANTS)

    def out(mac, src, dst, ident, tcp):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident) / tcp

    def back(mac, src, ident, tcp):
        return Ether(dst=e, src=mac) / IP(src=src, dst=BOX_EXT, id=ident) / tcp

    def syn(sport, dport, seq):
        return TCP(sport=sport, dport=dport, flags="S", seq=seq, window=64240)

    def synack(sport, dport, seq, ack):
        return TCP(sport=sport, dport=dport, flags="SA", seq=seq, ack=ack, window=8192)

    def data(sport, dport, seq, ack, payload):
        return TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=ack, window=8192) / Raw(payload)

    c.neighbour_asks("external", SRV_MAC, SRV, BOX_EXT)
    c.neighbour_asks("external", OTH_MAC, OTH, BOX_EXT, same_burst=True)
    c.neighbour_asks("internal", A_MAC, A, BOX_INT)
    c.neighbour_asks("internal", B_MAC, B, BOX_INT, same_burst=True)
    c.neighbour_asks("internal", T_MAC, T, BOX_INT, same_burst=True)

    # hpotter's HTTP: the user rule accepts it before the outgoing list would reject it.
    f = c.rx("internal", out(A_MAC, A, SRV, 0x101, syn(40000, 80, 1000)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    c.log("fw-user-outgoing-1 act=ACCEPT IN=internal OUT=external SRC=192.168.1.10 DST=10.1.0.200 LEN=40 "
          "TOS=0x00 TTL=64 ID=257 PROTO=TCP SPT=40000 DPT=80 RULE=2 TEMPLATE=\"Access Web-Server (HTTP)\" SESSION=1")
    f = c.rx("external", back(SRV_MAC, SRV, 0x201, synack(80, 40000, 5000, 1001)), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))
    # HTTPS, the template's second rule.
    f = c.rx("internal", out(A_MAC, A, SRV, 0x102, syn(40001, 443, 2000)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("external", back(SRV_MAC, SRV, 0x202, synack(443, 40001, 6000, 2001)), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))
    # SSH is in no template of A's, and no outgoing rule accepts it.
    c.rx("internal", out(A_MAC, A, SRV, 0x103, syn(40002, 22, 3000)), "dropped:filter_no_match")
    # The VPN-bound template grants nothing outside its tunnel.
    c.rx("internal", out(A_MAC, A, SRV, 0x104, syn(40003, 8080, 3100)), "dropped:filter_no_match",
         same_burst=True)

    # B is not logged in: the outgoing list rejects its HTTP.
    f = c.rx("internal", out(B_MAC, B, SRV, 0x301, syn(41000, 80, 4000)), "dropped:filter_reject")
    c.tx("internal", tcp_reset(f, i, B_MAC), "generated")

    # The technician's fixed source: SSH to the server it names, not to another one.
    f = c.rx("internal", out(T_MAC, T, SRV, 0x501, syn(42000, 22, 7000)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("external", back(SRV_MAC, SRV, 0x203, synack(22, 42000, 8000, 7001)), "forwarded")
    c.tx("internal", nat_routed(f, i, T_MAC, dst=T))
    c.rx("internal", out(T_MAC, T, OTH, 0x502, syn(42001, 22, 7100)), "dropped:filter_no_match")

    # hpotter logs out: bulwark-control sends the set without session 1.
    c.users([g for g in GRANTS if g["session"] != 1], at_us=c.now_us + 5000)

    # A's connections end at their next packet, from either side.
    c.rx("external", back(SRV_MAC, SRV, 0x204, data(80, 40000, 5001, 1001, b"HTTP/1.1 200 OK\r\n\r\n")),
         "dropped:user_session_ended")
    c.rx("internal", out(A_MAC, A, SRV, 0x105, data(40001, 443, 2001, 6001, b"\x16\x03\x01")),
         "dropped:user_session_ended")
    # ... and are gone: the server's next segment belongs to no connection.
    c.rx("external", back(SRV_MAC, SRV, 0x205, data(80, 40000, 5001, 1001, b"HTTP/1.1 200 OK\r\n\r\n")),
         "dropped:tcp_no_connection")
    # A new HTTP SYN from A: the outgoing list decides again.
    f = c.rx("internal", out(A_MAC, A, SRV, 0x106, syn(40004, 80, 9000)), "dropped:filter_reject")
    c.tx("internal", tcp_reset(f, i, A_MAC), "generated")
    # Session 2 is still logged in: T's SSH goes on.
    f = c.rx("internal", out(T_MAC, T, SRV, 0x503, data(42000, 22, 7001, 8001, b"SSH-2.0-x\r\n")),
             "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))


generate(build)
