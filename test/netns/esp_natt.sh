#!/usr/bin/env bash
# NAT traversal (manual 10.6): box 1 sits behind a router that masquerades its whole network — a
# third Bulwark box — and connects to box 2. charon detects the NAT, IKE moves to UDP 4500 and the
# SAs carry UDP encapsulation with the port the NAT chose; the dataplanes send and accept ESP in
# UDP through it.
#
#   host1 ── box1 [10.0.0.2] ── [10.0.0.1] NAT (masquerading) [172.16.0.1] ── [172.16.0.2] box2 ── host2
#
# Usage: esp_natt.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"
HERE=$(cd "$(dirname "$0")" && pwd)

B1=bna-$TAG B2=bnb-$TAG NAT=bnn-$TAG X1=bnx-$TAG X2=bny-$TAG H1=bnh-$TAG H2=bni-$TAG
for ns in $B1 $B2 $NAT $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $NAT lan
link $NAT out $B2 wan
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.20/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="natt-$RANDOM-$RANDOM-$RANDOM"

cat >"$TMP/nat.yaml" <<YAML
version: 1
dataplane: {hugepages: false, memory_mb: 256, main_lcore: 0, worker_lcores: [1], file_prefix: bw-natt-$TAG}
interfaces:
  - {name: internal, role: internal, port: "net_af_packet_natt${TAG}0,iface=lan,qdisc_bypass=1", mac: "02:e7:00:00:00:01", addresses: [10.0.0.1/24]}
  - {name: external, role: external, port: "net_af_packet_natt${TAG}1,iface=out,qdisc_bypass=1", mac: "02:e7:00:00:00:02", addresses: [172.16.0.1/24]}
nat:
  masquerade:
    - {interface: external, from: 10.0.0.0/24, comment: the branch router of manual 10.6}
firewall:
  incoming: {default: drop}
  outgoing: {default: accept}
YAML
"$BULWARK" check "$TMP/nat.yaml" >/dev/null
ip netns exec $NAT "$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dpn.sock" --no-exception-path \
  >"$TMP/dataplane-nat.log" 2>&1 &
PIDS+=($!)
wait_for "the NAT box's dataplane" 20 test -S "$TMP/dpn.sock"
ip netns exec $NAT "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dpn.sock" --socket "$TMP/ctln.sock" \
  --no-exception-path --state-dir "$TMP/state-nat" "$TMP/nat.yaml" >"$TMP/control-nat.log" 2>&1 &
PIDS+=($!)

vpn_box_config 1 2 $X1 172.16.0.2 initiate ext 10.0.0.2/24 10.0.0.1 >"$TMP/box1.yaml"
vpn_box_config 2 1 $X2 "'%any'" wait wan 172.16.0.2/24 >"$TMP/box2.yaml"
start_vpn_box 2 $B2
start_vpn_box 1 $B1

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "the tunnel comes up through the masquerading router" wait_for "the tunnel" 60 up
encapsulated() {  # N: both SAs of box N carry UDP encapsulation
  [ "$("$BULWARK" sa --socket "$TMP/dp$1.sock" | grep -c '^SA .* udp ')" -eq 2 ]
}
check "charon detected the NAT: box 1's SAs are UDP-encapsulated" wait_for "the SAs" 10 encapsulated 1
check "... and box 2's, towards the port the NAT chose" wait_for "the SAs" 10 encapsulated 2
"$BULWARK" sa --socket "$TMP/dp2.sock" | grep '^SA' >"$TMP/sa2.txt"
check "... whose peer is the NAT's address, not box 1's" grep -q 'esp in 172.16.0.1 -> 172.16.0.2 udp' "$TMP/sa2.txt"

# The NAT's outside link, watched from box 2's end, which sees what the NAT sends (a dataplane
# transmits past the packet taps of its own end): only ESP in UDP, never the hosts' plaintext.
watch_wire $B2 wan 6 "$TMP/wire.json" 192.168.1.10 192.168.2.20
check "host 1 pings host 2 through the NAT" ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.2.20
check "host 2 pings host 1 back through it" ip netns exec $H2 ping -c 5 -i 0.2 -W 2 192.168.1.10
wait_wires
cat "$TMP/wire.json"
check "only ESP in UDP crossed the NAT" \
  python3 -c "import json,sys; c=json.load(open('$TMP/wire.json')); sys.exit(0 if c['esp_in_udp'] >= 10 and c['esp'] == 0 and c['plaintext'] == 0 else 1)"
check "the NAT box tracks the tunnel as one masqueraded UDP connection" \
  sh -c "'$BULWARK' conntrack --socket '$TMP/dpn.sock' | grep -q '4500'"
finish
