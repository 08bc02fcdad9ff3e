#!/usr/bin/env bash
# Fragmented ESP (docs/esp.md, "Fragmented ESP"): box 1 reaches box 2 through a Linux router
# whose link to box 2 has an MTU of 1200. Box 1's ESP packets (up to the IPsec MTU of 1414 plus
# ESP's overhead) leave with DF clear, so the router fragments them; box 2 must reassemble them
# before it can authenticate and decrypt. Box 2 knows its link's MTU and fragments large inner
# packets before encryption instead, so nothing it sends needs the router's help. Box 2's
# external port is net_pcap on the veth, not net_af_packet: DPDK's af_packet PMD joins a fanout
# group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel would reassemble the fragments before the
# dataplane sees them (a NIC's port hands them over as they come, like net_pcap).
#
#   host1 ── box1 [10.0.0.2] ── [10.0.0.1] router [172.16.0.1] ══ MTU 1200 ══ [172.16.0.2] box2 ── host2
#
# Checked: big pings without DF pass both ways; a TCP transfer of 2 MB from host 1 arrives intact
# (host 1 learns the tunnel's MTU from box 1's "fragmentation needed", its full-size segments are
# then fragmented by the router as ESP); box 2 counted the reassembled packets and gave none up.
# Usage: esp_fragments.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"

B1=bfa-$TAG B2=bfb-$TAG R=bfr-$TAG X1=bfx-$TAG X2=bfy-$TAG H1=bfh-$TAG H2=bfi-$TAG
for ns in $B1 $B2 $R $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $R lan
link $R out $B2 wan
ip -n $R addr add 10.0.0.1/24 dev lan
ip -n $R addr add 172.16.0.1/24 dev out
ip -n $R link set out mtu 1200
ip -n $B2 link set wan mtu 1200
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.20/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="frag-$RANDOM-$RANDOM-$RANDOM"

vpn_box_config 1 2 $X1 172.16.0.2 initiate ext 10.0.0.2/24 10.0.0.1 >"$TMP/box1.yaml"
EXTERNAL_MTU=1200 EXTERNAL_PORT="net_pcap_esp2${TAG}1,rx_iface_in=wan,tx_iface=wan" vpn_box_config 2 1 $X2 "'%any'" wait wan 172.16.0.2/24 172.16.0.1 >"$TMP/box2.yaml"
start_vpn_box 2 $B2
start_vpn_box 1 $B1

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "the tunnel comes up through the router" wait_for "the tunnel" 60 up

check "host 1 pings host 2 with 1,300-byte payloads (ESP fragmented by the router)" \
  ip netns exec $H1 ping -c 5 -i 0.2 -W 2 -s 1300 -M dont 192.168.2.20
check "host 2 pings host 1 with 1,300-byte payloads (inner fragments, each sealed by box 2)" \
  ip netns exec $H2 ping -c 5 -i 0.2 -W 2 -s 1300 -M dont 192.168.1.10

# 2 MB over TCP 7007 (the VPN firewall's echo service port), checked by digest at the far end.
ip netns exec $H2 python3 -c "
import hashlib, socket
srv = socket.create_server(('192.168.2.20', 7007)); srv.settimeout(30)
c, _ = srv.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())" >"$TMP/received.txt" 2>"$TMP/sink.log" &
SINK=$!
PIDS+=($SINK)
wait_for "the TCP sink" 10 sh -c "ip netns exec $H2 ss -ltn | grep -q 192.168.2.20:7007"
ip netns exec $H1 python3 -c "
import hashlib, os, socket
data = os.urandom(2 * 1024 * 1024)
s = socket.create_connection(('192.168.2.20', 7007), timeout=30); s.sendall(data); s.close()
print(len(data), hashlib.sha256(data).hexdigest())" >"$TMP/sent.txt" 2>"$TMP/source.log" || true
wait $SINK || true
cat "$TMP/sent.txt" "$TMP/received.txt"
check "2 MB of TCP from host 1 arrive at host 2 intact" \
  sh -c "[ -s '$TMP/sent.txt' ] && cmp -s '$TMP/sent.txt' '$TMP/received.txt'"

"$BULWARK" status --socket "$TMP/dp2.sock"
check "box 2 reassembled the router's fragments of ESP" sh -c "[ $(dp_event 2 packets_reassembled) -ge 100 ]"
check "... and gave none up" sh -c "! '$BULWARK' status --socket '$TMP/dp2.sock' | grep -q reassembly_failed"
check "... and decrypted every one (no ESP failures)" \
  sh -c "! '$BULWARK' sa --socket '$TMP/dp2.sock' | grep -v 'replayed 0, authentication failed 0, malformed 0' | grep -q 'replayed'"
finish
