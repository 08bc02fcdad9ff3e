#!/usr/bin/env bash
# Interoperation of the ESP: a Bulwark box (bulwark-control, bulwark-iked in its exception
# namespace, the dataplane on veths) against a stock Debian charon with kernel-libipsec (ESP in
# userspace, always in UDP 4500) in another namespace. Traffic between the host behind the box
# (192.168.1.10) and the stock side's network (192.168.2.1) crosses the wire as ESP in UDP only.
# Usage: esp_interop.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stock_charon.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"
HERE=$(cd "$(dirname "$0")" && pwd)

B1=bia-$TAG X1=bie-$TAG H1=bih-$TAG B2=bis-$TAG
for ns in $B1 $X1 $H1 $B2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B1 ext $B2 wan
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $B2 addr add 10.1.0.2/16 dev wan
# kernel-libipsec routes the tunnel through its TUN device from an address of the local network.
ip -n $B2 addr add 192.168.2.1/24 dev lo
export VPN_PSK="espinterop-$RANDOM-$RANDOM"
check "the stock charon starts and loads its connection" \
  start_stock_charon $B2 10.1.0.2 192.168.2.0/24 192.168.1.0/24 yes

# Box 1 is the box of the other ESP tests (vpn_box.sh); the stock side answers as box 2.
vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
start_vpn_box 1 $B1

check "the tunnel to the stock charon comes up" \
  wait_for "the CHILD_SA" 60 sh -c "swanctl --list-sas --raw --uri '$STOCK_VICI' | grep -q 'state=INSTALLED'"
check "the dataplane holds the tunnel's SAs, UDP-encapsulated" \
  wait_for "the SAs" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp1.sock' | grep -c '^SA .* udp ') -eq 2 ]"

# On the stock side's end of the wire, which sees both directions (the dataplane transmits past
# the packet taps of its own end: qdisc_bypass).
watch_wire $B2 wan 6 "$TMP/wire.json" 192.168.1.10 192.168.2.1
check "the host behind the box pings the stock side's network" \
  ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.2.1
check "the stock side pings the host behind the box" \
  ip netns exec $B2 ping -c 5 -i 0.2 -W 2 -I 192.168.2.1 192.168.1.10
wait_wires
cat "$TMP/wire.json"
check "only ESP in UDP crossed the wire, never the hosts' plaintext" \
  python3 -c "import json,sys; c=json.load(open('$TMP/wire.json')); sys.exit(0 if c['esp_in_udp'] >= 20 and c['plaintext'] == 0 else 1)"
check "the stock side counted the traffic in its CHILD_SA" \
  sh -c "swanctl --list-sas --raw --uri '$STOCK_VICI' | grep -Eq 'packets-in=([1-9][0-9]+)'"
finish
