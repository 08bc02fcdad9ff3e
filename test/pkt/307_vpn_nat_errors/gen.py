#!/usr/bin/python3
"""307_vpn_nat_errors: errors and resets about tunnel traffic describe the packet as its sender
sent it and go back the way it came (docs/nat.md, "ICMP errors and resets through translation"):
* From the branch (local 1:1 NAT, 13.2), to 192.168.10.10 = the host 192.168.1.10: TTL 1 →
  time exceeded, a rejected UDP 161 → port unreachable, a rejected TCP 23 → reset; each quotes
  or answers 192.168.10.10 (never 192.168.1.10), comes from it (the box's own addresses are not
  in the tunnel's local network) and is encrypted into the branch's tunnel. The same to the
  switched-off 192.168.10.99: host unreachable from it, into the tunnel, once ARP gives up.
* Into the branch's tunnel: the host's 1,200-byte datagram with DF exceeds the IPsec MTU
  (1000): fragmentation needed to the host 192.168.1.10 itself, quoting its own address — not
  192.168.10.10, which would send the error into the tunnel.
* From the service PC (remote 1:1 NAT, 13.5) and from the plain tunnel: TTL 1 → time exceeded
  from the box's internal address 192.168.1.254 (inside both tunnels' local network), quoting
  10.1.0.32 (never 192.168.1.253) and encrypted into each tunnel.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "pcap"))
from esp_frames import GcmTunnels, policy_record, sa_record  # noqa: E402
from golden import (arp_reply, arp_request, ether, generate, icmp_error, ip_packet, pad,  # noqa: E402
                    separator_frame, tcp_reset)
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

BOX_INT, BOX_EXT = "192.168.1.254", "198.51.100.10"
HOST_MAC, HOST = "02:00:00:01:00:0a", "192.168.1.10"
DEAD = "192.168.1.99"
BRANCH_GW_MAC, BRANCH_GW = "02:00:00:02:00:02", "198.51.100.2"
SERVICE_GW_MAC, SERVICE_GW = "02:00:00:02:00:03", "198.51.100.3"
PLAIN_GW_MAC, PLAIN_GW = "02:00:00:02:00:04", "198.51.100.4"
BRANCH_HOST, SERVICE_PC, PLAIN_HOST = "192.168.20.5", "10.1.0.32", "192.168.30.7"
KEYS = {k: bytes(range(16 * k, 16 * k + 16)) + bytes([k] * 4) for k in range(1, 7)}
SPI = {1: 0xC7000001, 2: 0xC7100001, 3: 0xC7000003, 4: 0xC7100003, 5: 0xC7000005, 6: 0xC7100005}
TIME_EXCEEDED, PORT_UNREACHABLE, HOST_UNREACHABLE, FRAG_NEEDED = (11, 0), (3, 3), (3, 1), (3, 4)


def build(c):
    i, e = c.iface("internal").mac, c.iface("external").mac
    virtual, branch = "192.168.10.0/24", "192.168.20.0/24"
    local, service, plain = "192.168.1.0/24", "10.1.0.32/32", "192.168.30.0/24"
    c.ipsec_records = [
        sa_record(SPI[1], "out", BOX_EXT, BRANCH_GW, 20, "AES_GCM_16_128", KEYS[1], virtual, branch, 1),
        sa_record(SPI[2], "in", BRANCH_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[2], virtual, branch, 1),
        sa_record(SPI[3], "out", BOX_EXT, SERVICE_GW, 20, "AES_GCM_16_128", KEYS[3], local, service, 2),
        sa_record(SPI[4], "in", SERVICE_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[4], local, service, 2),
        sa_record(SPI[5], "out", BOX_EXT, PLAIN_GW, 20, "AES_GCM_16_128", KEYS[5], local, plain, 3),
        sa_record(SPI[6], "in", PLAIN_GW, BOX_EXT, 20, "AES_GCM_16_128", KEYS[6], local, plain, 3),
        policy_record("out", virtual, branch, 1, SPI[1]),
        policy_record("in", branch, virtual, 1, SPI[2]),
        policy_record("out", local, service, 2, SPI[3]),
        policy_record("in", service, local, 2, SPI[4]),
        policy_record("out", local, plain, 3, SPI[5]),
        policy_record("in", plain, local, 3, SPI[6]),
    ]
    tunnels = GcmTunnels(KEYS, SPI, BOX_EXT, e)
    into, from_tunnel = tunnels.into, tunnels.from_tunnel

    def ip(src, dst, ident_, l4, ttl=64, flags=0):
        return bytes(IP(src=src, dst=dst, id=ident_, ttl=ttl, flags=flags) / l4)

    def error(inner, kind, src, mtu=0):
        """The error about the inner packet `inner` as its sender sent it, from `src`."""
        return ip_packet(icmp_error(ether(i, e, 0x0800) + inner, kind, src, i, i, mtu=mtu))

    c.rx("internal", pad(arp_request(HOST_MAC, HOST, BOX_INT)), "consumed")
    c.tx("internal", arp_reply(i, BOX_INT, HOST_MAC, HOST), "generated")
    for gw_mac, gw in ((BRANCH_GW_MAC, BRANCH_GW), (SERVICE_GW_MAC, SERVICE_GW), (PLAIN_GW_MAC, PLAIN_GW)):
        c.rx("external", pad(arp_request(gw_mac, gw, BOX_EXT)), "consumed", same_burst=gw != BRANCH_GW)
        c.tx("external", arp_reply(e, BOX_EXT, gw_mac, gw), "generated")

    # From the branch, through its local 1:1 NAT.
    ttl1 = ip(BRANCH_HOST, "192.168.10.10", 0x101, UDP(sport=5000, dport=6000) / Raw(b"ttl one"), ttl=1)
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, ttl1), "dropped:ttl_exceeded")
    c.tx("external", into(1, BRANCH_GW, BRANCH_GW_MAC, error(ttl1, TIME_EXCEEDED, "192.168.10.10")), "generated")
    snmp = ip(BRANCH_HOST, "192.168.10.10", 0x102, UDP(sport=5001, dport=161) / Raw(b"get public"), ttl=63)
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, snmp), "dropped:filter_reject")
    c.tx("external", into(1, BRANCH_GW, BRANCH_GW_MAC, error(snmp, PORT_UNREACHABLE, "192.168.10.10")), "generated")
    telnet = ip(BRANCH_HOST, "192.168.10.10", 0x103, TCP(sport=40000, dport=23, flags="S", seq=99), ttl=63)
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, telnet), "dropped:filter_reject")
    c.tx("external", into(1, BRANCH_GW, BRANCH_GW_MAC, ip_packet(tcp_reset(ether(i, e, 0x0800) + telnet, i, i))),
         "generated")

    # Into the branch's tunnel: too big for the IPsec MTU.
    big = Ether(dst=i, src=HOST_MAC) / IP(src=HOST, dst=BRANCH_HOST, id=0x201, flags="DF") / \
        UDP(sport=5002, dport=6000) / Raw(bytes(1172))
    f = c.rx("internal", big, "dropped:mtu_exceeded")
    c.tx("internal", icmp_error(f, FRAG_NEEDED, BOX_INT, i, HOST_MAC, mtu=1000), "generated")

    # From the service PC (remote 1:1 NAT) and from the plain tunnel: from the box's own address.
    service_ttl1 = ip(SERVICE_PC, HOST, 0x301, TCP(sport=502, dport=40001, flags="S", seq=7), ttl=1)
    c.rx("external", from_tunnel(4, SERVICE_GW, SERVICE_GW_MAC, service_ttl1), "dropped:ttl_exceeded")
    c.tx("external", into(3, SERVICE_GW, SERVICE_GW_MAC, error(service_ttl1, TIME_EXCEEDED, BOX_INT)), "generated")
    plain_ttl1 = ip(PLAIN_HOST, HOST, 0x401, UDP(sport=5003, dport=6000) / Raw(b"plain"), ttl=1)
    c.rx("external", from_tunnel(6, PLAIN_GW, PLAIN_GW_MAC, plain_ttl1), "dropped:ttl_exceeded")
    c.tx("external", into(5, PLAIN_GW, PLAIN_GW_MAC, error(plain_ttl1, TIME_EXCEEDED, BOX_INT)), "generated")

    # From the branch to a host that never answers ARP: host unreachable into the tunnel.
    dead = ip(BRANCH_HOST, "192.168.10.99", 0x104, UDP(sport=5004, dport=6000) / Raw(b"anyone there?"), ttl=20)
    c.rx("external", from_tunnel(2, BRANCH_GW, BRANCH_GW_MAC, dead), "dropped:neighbour_unresolved")
    c.tx("internal", arp_request(i, BOX_INT, DEAD), "generated")
    for _ in range(2):
        c.rx("internal", separator_frame(), "dropped:l2_not_for_us", after_s=1.2)
        c.tx("internal", arp_request(i, BOX_INT, DEAD), "generated")
    c.rx("internal", separator_frame(), "dropped:l2_not_for_us", after_s=1.2)
    c.tx("external", into(1, BRANCH_GW, BRANCH_GW_MAC, error(dead, HOST_UNREACHABLE, "192.168.10.99")), "generated")


generate(build)
