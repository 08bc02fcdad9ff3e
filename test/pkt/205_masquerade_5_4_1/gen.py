#!/usr/bin/python3
"""205_masquerade_5_4_1: IP masquerading of manual 5.4.1, 192.168.1.0/24 behind 10.1.0.1
(docs/nat.md: source port kept when the translated connection does not collide with another of
the same translated address, port, peer address and peer port; otherwise a free port of the
range probed from a hash of the connection; ICMP query identifiers the same way;
address-and-port-dependent mapping).
* Client A 192.168.1.10:40000 -> web server 10.1.0.200:80 leaves as 10.1.0.1:40000 (kept), the
  server's answers to 10.1.0.1:40000 reach A.
* Client B 192.168.1.11:40000 -> the same server and port collides and gets the hashed port
  BP (masquerade_port), and back.
* A BP -> another server 10.1.0.201:80 keeps BP: a different peer, no collision with B's
  10.1.0.1:BP -> 10.1.0.200:80.
* Pings: A's identifier 0x1234 is kept, B's 0x1234 becomes a hashed one (ICMP checksum right);
  the echo replies get the clients' identifiers back.
* UDP (with a checksum) both ways; GRE gets its source address translated (no port
  allocation, the GRE header left as it is), and the answer comes back.
* Fragments (docs/nat.md, "Fragments"): only a first fragment carries the ports, so the box
  reassembles what it masquerades. A UDP datagram from A in two pieces leaves whole and
  translated (the first piece counts as consumed); its answer, in two pieces out of order, comes
  back whole to A; a 3,000-byte ping from B in three pieces leaves with B's translated
  identifier, fragmented again for the external MTU, and so does its answer on the way in.
* Masqueraded hosts cannot be reached from outside: a SYN to 10.1.0.1:40000 from another host,
  and one from the web server's port 81 (not the connection's peer port), and UDP to
  10.1.0.1:50000 from another host are traffic to the box, dropped by the incoming list
  (filter_policy_drop).

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import (arp_reply, arp_request, ether, fragments, generate, ip_pieces,  # noqa: E402
                    masquerade_port, nat_routed, pad)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
A_MAC, A = "02:00:00:01:00:0a", "192.168.1.10"       # client (5.3)
B_MAC, B = "02:00:00:01:00:0b", "192.168.1.11"       # a second client
SRV_MAC, SRV = "02:00:00:02:00:c8", "10.1.0.200"     # web server (5.3)
OTH_MAC, OTH = "02:00:00:02:00:c9", "10.1.0.201"     # another company host
PING = bytes(range(56))
BP = masquerade_port(B, SRV, 40000, 80, 6, taken={40000})          # B's translated TCP port
B_ID = masquerade_port(B, SRV, 0x1234, 0x1234, 1, taken={0x1234})  # B's translated identifier


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def inside(mac, src, dst, ident, l4):
        return Ether(dst=i, src=mac) / IP(src=src, dst=dst, id=ident) / l4

    def ext(mac, src, ident, l4):
        return Ether(dst=e, src=mac) / IP(src=src, dst=BOX_EXT, id=ident) / l4

    def syn(sport, dport, seq):
        return TCP(sport=sport, dport=dport, flags="S", seq=seq, window=64240,
                   options=[("MSS", 1460)])

    def synack(sport, dport, seq, ack):
        return TCP(sport=sport, dport=dport, flags="SA", seq=seq, ack=ack, window=8192,
                   options=[("MSS", 1460)])

    def ack(sport, dport, seq, ack_):
        return TCP(sport=sport, dport=dport, flags="A", seq=seq, ack=ack_, window=64240)

    c.rx("external", pad(arp_request(SRV_MAC, SRV, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, SRV_MAC, SRV), "generated")
    c.rx("external", pad(arp_request(OTH_MAC, OTH, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, OTH_MAC, OTH), "generated")
    c.rx("internal", pad(arp_request(A_MAC, A, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, A_MAC, A), "generated")
    c.rx("internal", pad(arp_request(B_MAC, B, BOX_INT)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, BOX_INT, B_MAC, B), "generated")

    # A: port 40000 kept.
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x101, syn(40000, 80, 1000)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x201, synack(80, 40000, 5000, 1001)), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x102, ack(40000, 80, 1001, 5001)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))

    # B: the same source port to the same server and port -> the hashed port BP.
    f = c.rx("internal", inside(B_MAC, B, SRV, 0x301, syn(40000, 80, 3000)), "forwarded",
             same_burst=True)
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT, sport=BP))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x202, synack(80, BP, 7000, 3001)), "forwarded")
    c.tx("internal", nat_routed(f, i, B_MAC, dst=B, dport=40000))
    f = c.rx("internal", inside(B_MAC, B, SRV, 0x302, ack(40000, 80, 3001, 7001)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT, sport=BP))

    # A's BP to another peer: no collision with B's 10.1.0.1:BP -> 10.1.0.200:80.
    f = c.rx("internal", inside(A_MAC, A, OTH, 0x103, syn(BP, 80, 1500)), "forwarded",
             same_burst=True)
    c.tx("external", nat_routed(f, e, OTH_MAC, src=BOX_EXT))
    f = c.rx("external", ext(OTH_MAC, OTH, 0x251, synack(80, BP, 8000, 1501)), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))

    # Pings with the same identifier: A keeps 0x1234, B gets B_ID.
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x104, ICMP(id=0x1234, seq=1) / Raw(PING)),
             "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("internal", inside(B_MAC, B, SRV, 0x303, ICMP(id=0x1234, seq=1) / Raw(PING)),
             "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT, icmp_id=B_ID))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x203, ICMP(type=0, id=B_ID, seq=1) / Raw(PING)),
             "forwarded")
    c.tx("internal", nat_routed(f, i, B_MAC, dst=B, icmp_id=0x1234))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x204, ICMP(type=0, id=0x1234, seq=1) / Raw(PING)),
             "forwarded", same_burst=True)
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))

    # UDP with a checksum, both ways.
    f = c.rx("internal", inside(A_MAC, A, SRV, 0x105, UDP(sport=50000, dport=53) /
                                Raw(b"\x12\x34\x01\x00\x00\x01query")), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x205, UDP(sport=53, dport=50000) /
                             Raw(b"\x12\x34\x81\x80\x00\x01answer")), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))

    # GRE: the source address is translated, the GRE header left as it is; and the answer.
    f = c.rx("internal", Ether(dst=i, src=A_MAC) / IP(src=A, dst=SRV, id=0x106, proto=47) /
             Raw(b"\x00\x00\x08\x00" + bytes(28)), "forwarded")
    c.tx("external", nat_routed(f, e, SRV_MAC, src=BOX_EXT))
    f = c.rx("external", Ether(dst=e, src=SRV_MAC) / IP(src=SRV, dst=BOX_EXT, id=0x209, proto=47) /
             Raw(b"\x00\x00\x08\x00" + bytes(range(28))), "forwarded")
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))

    # A fragmented UDP datagram from A: reassembled, masqueraded (port 50001 kept) and sent whole.
    data = bytes((5 * k + 1) & 0xFF for k in range(600))
    whole = IP(src=A, dst=SRV, id=0x107) / UDP(sport=50001, dport=9000) / Raw(data)
    first, second = ip_pieces(bytes(whole), [304, 304])
    c.rx("internal", ether(i, A_MAC, 0x0800) + first, "consumed")
    c.rx("internal", ether(i, A_MAC, 0x0800) + second, "forwarded", same_burst=True)
    c.tx("external", nat_routed(Ether(dst=i, src=A_MAC) / whole, e, SRV_MAC, src=BOX_EXT))
    # Its answer in two pieces, the last first: back to A whole.
    answer = IP(src=SRV, dst=BOX_EXT, id=0x210) / UDP(sport=9000, dport=50001) / Raw(data[::-1])
    first, second = ip_pieces(bytes(answer), [304, 304])
    c.rx("external", ether(e, SRV_MAC, 0x0800) + second, "consumed")
    c.rx("external", ether(e, SRV_MAC, 0x0800) + first, "forwarded", same_burst=True)
    c.tx("internal", nat_routed(Ether(dst=e, src=SRV_MAC) / answer, i, A_MAC, dst=A))

    # A 3,000-byte ping from B in three pieces: reassembled, B's identifier translated, and
    # fragmented again for the external interface's MTU (1500); the answer the same way back.
    big = bytes((7 * k + 3) & 0xFF for k in range(2992))
    ping = IP(src=B, dst=SRV, id=0x304) / ICMP(id=0x1234, seq=2) / Raw(big)
    pieces = ip_pieces(bytes(ping), [1480, 1480, 40])
    c.rx("internal", ether(i, B_MAC, 0x0800) + pieces[0], "consumed")
    c.rx("internal", ether(i, B_MAC, 0x0800) + pieces[1], "consumed", same_burst=True)
    c.rx("internal", ether(i, B_MAC, 0x0800) + pieces[2], "forwarded", same_burst=True)
    # (fragments() routes: TTL minus one; it gets the translated packet as received.)
    translated = IP(src=BOX_EXT, dst=SRV, id=0x304) / ICMP(id=B_ID, seq=2) / Raw(big)
    out = fragments(Ether(dst=i, src=B_MAC) / translated, 1500, e, SRV_MAC)
    c.tx("external", out[0])
    for piece in out[1:]:
        c.tx("external", piece, "generated")
    pong = IP(src=SRV, dst=BOX_EXT, id=0x211) / ICMP(type=0, id=B_ID, seq=2) / Raw(big)
    pieces = ip_pieces(bytes(pong), [1480, 1480, 40])
    c.rx("external", ether(e, SRV_MAC, 0x0800) + pieces[0], "consumed")
    c.rx("external", ether(e, SRV_MAC, 0x0800) + pieces[1], "consumed", same_burst=True)
    c.rx("external", ether(e, SRV_MAC, 0x0800) + pieces[2], "forwarded", same_burst=True)
    translated = IP(src=SRV, dst=B, id=0x211) / ICMP(type=0, id=0x1234, seq=2) / Raw(big)
    out = fragments(Ether(dst=e, src=SRV_MAC) / translated, 1500, i, B_MAC)
    c.tx("internal", out[0])
    for piece in out[1:]:
        c.tx("internal", piece, "generated")

    # From outside, masquerade ports lead to the box, not to the clients.
    c.rx("external", ext(OTH_MAC, OTH, 0x252, syn(5555, 40000, 9000)),
         "dropped:filter_policy_drop")
    c.rx("external", ext(SRV_MAC, SRV, 0x206, syn(81, 40000, 9100)),
         "dropped:filter_policy_drop", same_burst=True)
    c.rx("external", ext(OTH_MAC, OTH, 0x253, UDP(sport=53, dport=50000) / Raw(b"unsolicited")),
         "dropped:filter_policy_drop", same_burst=True)

    # The connections are still there.
    f = c.rx("external", ext(SRV_MAC, SRV, 0x207, TCP(sport=80, dport=BP, flags="PA",
                                                      seq=7001, ack=3001, window=8192) /
                             Raw(b"HTTP/1.1 200 OK\r\n\r\n")), "forwarded", same_burst=True)
    c.tx("internal", nat_routed(f, i, B_MAC, dst=B, dport=40000))
    f = c.rx("external", ext(SRV_MAC, SRV, 0x208, TCP(sport=80, dport=40000, flags="PA",
                                                      seq=5001, ack=1001, window=8192) /
                             Raw(b"HTTP/1.1 200 OK\r\n\r\n")), "forwarded", same_burst=True)
    c.tx("internal", nat_routed(f, i, A_MAC, dst=A))


generate(build)
