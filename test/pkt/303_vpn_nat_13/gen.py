#!/usr/bin/python3
"""303_vpn_nat_13: NAT inside tunnels (manual chapter 13, docs/esp.md), SAs with known keys.
* 13.2, local 1:1 NAT: 192.168.1.10 sends to the branch's 192.168.20.5; in the tunnel it is
  192.168.10.10 → 192.168.20.5 (encrypted to 198.51.100.2). The answer arrives for
  192.168.10.10 and is forwarded to 192.168.1.10. A packet in the tunnel for a virtual address
  outside the mapping's SA selectors is refused.
* 13.5, remote 1:1 NAT: the box answers ARP for 192.168.1.253; the controller 192.168.1.47
  sends to it, in the tunnel that is 192.168.1.47 → 10.1.0.32 (to 198.51.100.3); the service
  PC's answer from 10.1.0.32 reaches the controller from 192.168.1.253.
* 13.4, local masquerading: 192.168.1.10 reaches the control center's 10.1.5.5 from 172.16.0.5
  (its own port, free), the answer comes back to it; a connection from the control center to
  172.16.0.5 is refused (one-directional). Masquerading translates ports, which only a first
  fragment carries: a 1,200-byte datagram of the host in two pieces enters the tunnel whole, and
  the center's answer, fragmented before encryption (two ESP packets), is decrypted, reassembled
  and reaches the host whole.
* 12.4, virtual IP: the controller 192.168.1.47 is the client of the virtual IP 172.16.1.1 towards
  company network 2 (192.168.2.0/24): it reaches 192.168.2.9 as 172.16.1.1, and 192.168.2.9 opens
  a connection to 172.16.1.1 that reaches the controller (1:1, both ways).
Checksums (IPv4, UDP, TCP) are updated for every translation.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import GcmTunnels, policy_record, sa_record  # noqa: E402
from golden import (arp_reply, arp_request, ether, generate, ip_packet, ip_pieces, pad,  # noqa: E402
                    routed)
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "198.51.100.10"
HOST_MAC, HOST = "02:00:00:01:00:0a", "192.168.1.10"
CTRL_MAC, CTRL = "02:00:00:01:00:2f", "192.168.1.47"
BRANCH_GW_MAC, BRANCH_GW = "02:00:00:02:00:02", "198.51.100.2"
SERVICE_GW_MAC, SERVICE_GW = "02:00:00:02:00:03", "198.51.100.3"
CENTER_GW_MAC, CENTER_GW = "02:00:00:02:00:04", "198.51.100.4"
COMPANY2_GW_MAC, COMPANY2_GW = "02:00:00:02:00:05", "198.51.100.5"
KEYS = {k: bytes(range(16 * k, 16 * k + 16)) + bytes([k] * 4) for k in range(1, 9)}
SPI = {1: 0xC0000001, 2: 0xC1000001, 3: 0xC0000003, 4: 0xC1000003, 5: 0xC0000005, 6: 0xC1000005,
       7: 0xC0000007, 8: 0xC1000007}


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    virtual, branch = "192.168.10.0/24", "192.168.20.0/24"
    local, service = "192.168.1.0/24", "10.1.0.32/32"
    c.ipsec_records = [
        sa_record(SPI[1], "out", BOX_EXT, BRANCH_GW, 20, "AES_GCM_16_128", KEYS[1], virtual, branch, 1),
        sa_record(SPI[2], "in", BRANCH_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[2], virtual, branch, 1),
        sa_record(SPI[3], "out", BOX_EXT, SERVICE_GW, 20, "AES_GCM_16_128", KEYS[3], local, service, 2),
        sa_record(SPI[4], "in", SERVICE_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[4], local, service, 2),
        policy_record("out", virtual, branch, 1, SPI[1]),
        policy_record("in", branch, virtual, 1, SPI[2]),
        policy_record("out", local, service, 2, SPI[3]),
        policy_record("in", service, local, 2, SPI[4]),
        sa_record(SPI[5], "out", BOX_EXT, CENTER_GW, 20, "AES_GCM_16_128", KEYS[5], "172.16.0.5/32", "10.1.0.0/16", 3),
        sa_record(SPI[6], "in", CENTER_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[6], "172.16.0.5/32", "10.1.0.0/16", 3),
        policy_record("out", "172.16.0.5/32", "10.1.0.0/16", 3, SPI[5]),
        policy_record("in", "10.1.0.0/16", "172.16.0.5/32", 3, SPI[6]),
        sa_record(SPI[7], "out", BOX_EXT, COMPANY2_GW, 20, "AES_GCM_16_128", KEYS[7], "172.16.1.1/32", "192.168.2.0/24", 4),
        sa_record(SPI[8], "in", COMPANY2_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[8], "172.16.1.1/32", "192.168.2.0/24", 4),
        policy_record("out", "172.16.1.1/32", "192.168.2.0/24", 4, SPI[7]),
        policy_record("in", "192.168.2.0/24", "172.16.1.1/32", 4, SPI[8]),
    ]
    tunnels = GcmTunnels(KEYS, SPI, BOX_EXT, e)
    into, from_tunnel = tunnels.into, tunnels.from_tunnel

    def ip(src, dst, ident, l4, ttl=64):
        return bytes(IP(src=src, dst=dst, id=ident, ttl=ttl) / l4)

    c.rx("internal", pad(arp_request(HOST_MAC, HOST, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, HOST_MAC, HOST), "generated")
    c.rx("internal", pad(arp_request(CTRL_MAC, CTRL, BOX_INT)), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, BOX_INT, CTRL_MAC, CTRL), "generated")
    c.rx("internal", pad(arp_request(CTRL_MAC, CTRL, "192.168.1.253")), "consumed", same_burst=True)
    c.tx("internal", arp_reply(i, "192.168.1.253", CTRL_MAC, CTRL), "generated")
    c.rx("external", pad(arp_request(BRANCH_GW_MAC, BRANCH_GW, BOX_EXT)), "consumed")
    c.tx("external", arp_reply(e, BOX_EXT, BRANCH_GW_MAC, BRANCH_GW), "generated")
    c.rx("external", pad(arp_request(SERVICE_GW_MAC, SERVICE_GW, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, SERVICE_GW_MAC, SERVICE_GW), "generated")
    c.rx("external", pad(arp_request(CENTER_GW_MAC, CENTER_GW, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, CENTER_GW_MAC, CENTER_GW), "generated")
    c.rx("external", pad(arp_request(COMPANY2_GW_MAC, COMPANY2_GW, BOX_EXT)), "consumed", same_burst=True)
    c.tx("external", arp_reply(e, BOX_EXT, COMPANY2_GW_MAC, COMPANY2_GW), "generated")

    # 13.2: out through the local 1:1 NAT, and back.
    udp = UDP(sport=5000, dport=6000) / Raw(b"same network")
    f = c.rx("internal", Ether(dst=i, src=HOST_MAC) / IP(src=HOST, dst="192.168.20.5", id=0x101) / udp,
             "forwarded")
    c.tx("external", into(1, BRANCH_GW, BRANCH_GW_MAC, ip("192.168.10.10", "192.168.20.5", 0x101, udp, ttl=63)))
    back = UDP(sport=6000, dport=5000) / Raw(b"reply")
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, ip("192.168.20.5", "192.168.10.10", 0x201, back)),
         "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + ip("192.168.20.5", HOST, 0x201, back), i, HOST_MAC))
    # In the tunnel, the branch cannot reach the real company network: outside the selectors.
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, ip("192.168.20.5", HOST, 0x202, back)),
         "dropped:esp_selector_mismatch", same_burst=True)

    # 13.5: the controller reaches the service PC as 192.168.1.253.
    syn = TCP(sport=40000, dport=502, flags="S", seq=1)
    f = c.rx("internal", Ether(dst=i, src=CTRL_MAC) / IP(src=CTRL, dst="192.168.1.253", id=0x301) / syn,
             "forwarded")
    c.tx("external", into(3, SERVICE_GW, SERVICE_GW_MAC, ip(CTRL, "10.1.0.32", 0x301, syn, ttl=63)))
    synack = TCP(sport=502, dport=40000, flags="SA", seq=9, ack=2)
    c.rx("external", from_tunnel(4, SERVICE_GW, SERVICE_GW_MAC, ip("10.1.0.32", CTRL, 0x401, synack)), "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + ip("192.168.1.253", CTRL, 0x401, synack), i, CTRL_MAC))


    # 13.4: masqueraded into the control center's tunnel, the answer back, nothing unsolicited.
    udp = UDP(sport=5000, dport=6000) / Raw(b"to the control center")
    c.rx("internal", Ether(dst=i, src=HOST_MAC) / IP(src=HOST, dst="10.1.5.5", id=0x501) / udp, "forwarded")
    c.tx("external", into(5, CENTER_GW, CENTER_GW_MAC, ip("172.16.0.5", "10.1.5.5", 0x501, udp, ttl=63)))
    answer = UDP(sport=6000, dport=5000) / Raw(b"ok")
    c.rx("external", from_tunnel(6, CENTER_GW, CENTER_GW_MAC, ip("10.1.5.5", "172.16.0.5", 0x601, answer)),
         "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + ip("10.1.5.5", HOST, 0x601, answer), i, HOST_MAC))
    unsolicited = UDP(sport=6000, dport=7777) / Raw(b"hello?")
    c.rx("external", from_tunnel(6, CENTER_GW, CENTER_GW_MAC, ip("10.1.5.5", "172.16.0.5", 0x602, unsolicited)),
         "dropped:vpn_nat_unsolicited", same_burst=True)
    # The same connection's fragments, both ways.
    big = UDP(sport=5000, dport=6000) / Raw(bytes((3 * k) & 0xFF for k in range(1200)))
    first, second = ip_pieces(ip(HOST, "10.1.5.5", 0x503, big), [600, 608])
    c.rx("internal", ether(i, HOST_MAC, 0x0800) + first, "consumed")
    c.rx("internal", ether(i, HOST_MAC, 0x0800) + second, "forwarded", same_burst=True)
    c.tx("external", into(5, CENTER_GW, CENTER_GW_MAC, ip("172.16.0.5", "10.1.5.5", 0x503, big, ttl=63)))
    big_answer = UDP(sport=6000, dport=5000) / Raw(bytes((5 * k) & 0xFF for k in range(1200)))
    first, second = ip_pieces(ip("10.1.5.5", "172.16.0.5", 0x603, big_answer), [600, 608])
    c.rx("external", from_tunnel(6, CENTER_GW, CENTER_GW_MAC, first), "consumed")
    c.rx("external", from_tunnel(6, CENTER_GW, CENTER_GW_MAC, second), "forwarded", same_burst=True)
    c.tx("internal", routed(ether(i, e, 0x0800) + ip("10.1.5.5", HOST, 0x603, big_answer), i, HOST_MAC))

    # 12.4: the controller is the client behind the virtual IP 172.16.1.1, both ways.
    udp = UDP(sport=5100, dport=6100) / Raw(b"from the client")
    c.rx("internal", Ether(dst=i, src=CTRL_MAC) / IP(src=CTRL, dst="192.168.2.9", id=0x701) / udp, "forwarded")
    c.tx("external", into(7, COMPANY2_GW, COMPANY2_GW_MAC, ip("172.16.1.1", "192.168.2.9", 0x701, udp, ttl=63)))
    syn = TCP(sport=41000, dport=502, flags="S", seq=7)
    c.rx("external", from_tunnel(8, COMPANY2_GW, COMPANY2_GW_MAC, ip("192.168.2.9", "172.16.1.1", 0x801, syn)),
         "forwarded")
    c.tx("internal", routed(ether(i, e, 0x0800) + ip("192.168.2.9", CTRL, 0x801, syn), i, CTRL_MAC))


generate(build)
