#!/usr/bin/python3
"""203_port_forwarding_4_4_2: IP and port forwarding of manual 4.4.2 with the incoming list
dropping everything (docs/nat.md: a forwarding rule applies regardless of the packet filter).
* HTTP from the office computer 10.1.0.100 to 10.1.0.1:80 (the rule restricted to From IP
  10.1.0.100) reaches the PLC 192.168.1.10:80, source kept; the PLC's answers leave from
  10.1.0.1:80.
* The step 4 table: 10.1.0.1:8001/8002/8003 reach port 80 of 192.168.1.10/.20/.30, from any
  address; the answers leave from 10.1.0.1:8001/8002/8003.
* Not forwarded, decided by the incoming list as traffic to the box (filter_policy_drop): HTTP to
  10.1.0.1:80 from a computer the From IP does not match, UDP to 10.1.0.1:8001 (the rules are
  TCP), a ping to 10.1.0.1 (ICMP is never forwarded). TCP to the PLC's real address is an
  ordinary incoming connection: dropped too.
* The PLC pings 10.1.0.1: an internal host to the box, punted (not forwarded back inside).
* The 8002 forwarding has `log: true`: its new connection writes one line (fwd-3 … TO=…), the
  others none.

Writes in-*.pcap, expect-*.pcap and expect.json beside itself (or into argv[1]).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from golden import arp_reply, arp_request, generate, nat_routed, pad  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "10.1.0.1"
PLC_MAC, PLC = "02:00:00:01:00:0a", "192.168.1.10"
PLC20_MAC, PLC20 = "02:00:00:01:00:14", "192.168.1.20"
PLC30_MAC, PLC30 = "02:00:00:01:00:1e", "192.168.1.30"
PC_MAC, PC = "02:00:00:02:00:64", "10.1.0.100"       # office computer (From IP of rule 1)
PC2_MAC, PC2 = "02:00:00:02:00:65", "10.1.0.101"     # another office computer
PC3_MAC, PC3 = "02:00:00:02:00:96", "10.1.0.150"     # and a third
HTTP_GET = b"GET / HTTP/1.1\r\nHost: 10.1.0.1\r\n\r\n"


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac

    def ext(src_mac, src, dst, ident, l4):
        return Ether(dst=e, src=src_mac) / IP(src=src, dst=dst, id=ident) / l4

    def inside(src_mac, src, dst, ident, l4):
        return Ether(dst=i, src=src_mac) / IP(src=src, dst=dst, id=ident) / l4

    def syn(sport, dport, seq):
        return TCP(sport=sport, dport=dport, flags="S", seq=seq, window=64240,
                   options=[("MSS", 1460)])

    def synack(sport, dport, seq, ack):
        return TCP(sport=sport, dport=dport, flags="SA", seq=seq, ack=ack, window=8192,
                   options=[("MSS", 1460)])

    # Every host asks for the box first: all are known, nothing waits for ARP.
    first = True
    for mac, ip in ((PC_MAC, PC), (PC2_MAC, PC2), (PC3_MAC, PC3)):
        c.rx("external", pad(arp_request(mac, ip, BOX_EXT)), "consumed", same_burst=not first)
        c.tx("external", arp_reply(e, BOX_EXT, mac, ip), "generated")
        first = False
    first = True
    for mac, ip in ((PLC_MAC, PLC), (PLC20_MAC, PLC20), (PLC30_MAC, PLC30)):
        c.rx("internal", pad(arp_request(mac, ip, BOX_INT)), "consumed", same_burst=not first)
        c.tx("internal", arp_reply(i, BOX_INT, mac, ip), "generated")
        first = False

    # http://10.1.0.1 from the office computer reaches the PLC (the incoming list drops all).
    f = c.rx("external", ext(PC_MAC, PC, BOX_EXT, 0x101, syn(40000, 80, 1000)), "forwarded")
    c.tx("internal", nat_routed(f, i, PLC_MAC, dst=PLC))
    f = c.rx("internal", inside(PLC_MAC, PLC, PC, 0x201, synack(80, 40000, 5000, 1001)),
             "forwarded")
    c.tx("external", nat_routed(f, e, PC_MAC, src=BOX_EXT))
    f = c.rx("external", ext(PC_MAC, PC, BOX_EXT, 0x102,
                             TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001,
                                 window=64240) / Raw(HTTP_GET)), "forwarded")
    c.tx("internal", nat_routed(f, i, PLC_MAC, dst=PLC))

    # The step 4 table: 8001 -> .10:80, 8002 -> .20:80, 8003 -> .30:80.
    table = ((PC2_MAC, PC2, 40100, 8001, PLC_MAC, PLC),
             (PC2_MAC, PC2, 40101, 8002, PLC20_MAC, PLC20),
             (PC3_MAC, PC3, 40200, 8003, PLC30_MAC, PLC30))
    for n, (cmac, cip, sport, port, smac, sip) in enumerate(table):
        f = c.rx("external", ext(cmac, cip, BOX_EXT, 0x110 + n, syn(sport, port, 2000 + n)),
                 "forwarded")
        c.tx("internal", nat_routed(f, i, smac, dst=sip, dport=80))
        if port == 8002:  # the forwarding with `log: true` (the third): the connection as it came
            c.log(f"fwd-3 act=FORWARD IN=external OUT=internal SRC={cip} DST={BOX_EXT} LEN=44 "
                  f"TOS=0x00 TTL=64 ID={0x110 + n} PROTO=TCP SPT={sport} DPT={port} TO={sip}:80")
        f = c.rx("internal", inside(smac, sip, cip, 0x210 + n,
                                    synack(80, sport, 6000 + n, 2001 + n)), "forwarded")
        c.tx("external", nat_routed(f, e, cmac, src=BOX_EXT, sport=port))

    # Not forwarded: decided by the incoming list (drop all) as traffic to the box.
    c.rx("external", ext(PC3_MAC, PC3, BOX_EXT, 0x120, syn(40201, 80, 3000)),
         "dropped:filter_policy_drop")
    c.rx("external", ext(PC_MAC, PC, BOX_EXT, 0x121, UDP(sport=40001, dport=8001) /
                         Raw(b"not tcp")), "dropped:filter_policy_drop", same_burst=True)
    c.rx("external", ext(PC_MAC, PC, BOX_EXT, 0x122, ICMP(id=0x4D2, seq=1) /
                         Raw(bytes(range(56)))), "dropped:filter_policy_drop", same_burst=True)
    c.rx("external", ext(PC_MAC, PC, PLC, 0x123, syn(40002, 80, 4000)),
         "dropped:filter_policy_drop", same_burst=True)

    # The PLC pings the forwarded address: the box answers it itself.
    f = c.rx("internal", inside(PLC_MAC, PLC, BOX_EXT, 0x220, ICMP(id=0x99, seq=1) /
                                Raw(bytes(range(56)))), "punted")
    c.punt("internal", f)

    # The first connection lives on.
    f = c.rx("internal", inside(PLC_MAC, PLC, PC, 0x221,
                                TCP(sport=80, dport=40000, flags="A", seq=5001,
                                    ack=1001 + len(HTTP_GET), window=8192)), "forwarded",
             same_burst=True)
    c.tx("external", nat_routed(f, e, PC_MAC, src=BOX_EXT))


generate(build)
