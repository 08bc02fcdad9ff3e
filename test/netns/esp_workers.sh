#!/usr/bin/env bash
# Tunnel traffic with two workers per box (docs/esp.md, "Workers"). Each box's ports have two
# queues, and the kernel spreads frames over them by a symmetric flow hash: a connection's
# plaintext side by the hosts' addresses and ports, its ESP by the two gateways' addresses — so
# without one worker owning the tunnel, the answers of most TCP connections reach the worker
# that does not know them. Box 2 also translates its site into the tunnel (local 1:1 NAT,
# 192.168.2.0/24 shown as 192.168.20.0/24), so the owner must be found in the tunnel's view.
#
#   host1 (192.168.1.10) ── box1 ══ ESP ══ box2 ── host2 (192.168.2.20, in the tunnel 192.168.20.20)
#
# Checked: ping both ways; 12 concurrent TCP transfers each way arrive intact; both boxes handed
# tunnel traffic from worker 2 to worker 1 and dropped nothing for an unknown connection or a
# full handover ring.
# Usage: esp_workers.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"
export WORKERS=2

B1=bwa-$TAG B2=bwb-$TAG X1=bwx-$TAG X2=bwy-$TAG H1=bwh-$TAG H2=bwi-$TAG
for ns in $B1 $B2 $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $B2 wan
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.20/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="workers-$RANDOM-$RANDOM-$RANDOM"

REMOTE=192.168.20.0/24 vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
LOCAL=192.168.20.0/24 REMOTE=192.168.1.0/24 \
  TUNNEL_NAT="local_nat: {mode: one_to_one, mappings: [{real: 192.168.2.0, virtual: 192.168.20.0, prefix: 24}]}" \
  vpn_box_config 2 1 $X2 "'%any'" wait wan 10.1.0.2/16 >"$TMP/box2.yaml"
start_vpn_box 2 $B2
start_vpn_box 1 $B1

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "the tunnel comes up between boxes with two workers each" wait_for "the tunnel" 60 up
for n in 1 2; do
  wait_for "the SAs in dataplane $n" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp$n.sock' | grep -c '^SA ') -eq 2 ]"
done
check "host 1 pings host 2 (192.168.20.20 in the tunnel)" ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.20.20
check "host 2 pings host 1" ip netns exec $H2 ping -c 5 -i 0.2 -W 2 192.168.1.10

check "12 concurrent TCP transfers from host 1 to host 2 arrive intact" transfers $H1 $H2 192.168.20.20 7007
check "12 concurrent TCP transfers from host 2 to host 1 arrive intact" transfers $H2 $H1 192.168.1.10 7007

for n in 1 2; do
  "$BULWARK" status --socket "$TMP/dp$n.sock" >"$TMP/status$n.txt"
  check "box $n's second worker handed tunnel traffic to the first" sh -c "[ $(dp_event $n handed_to_owner) -gt 0 ]"
  check "box $n dropped no TCP segment for an unknown connection, none for a full ring" \
    sh -c "! grep -Eq 'tcp_no_connection|owner_ring_full' '$TMP/status$n.txt'"
done
finish
