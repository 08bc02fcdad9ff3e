#!/usr/bin/env bash
# Interoperation of the ESP: a Bulwark box (bulwark-control, bulwark-iked in its exception
# namespace, the dataplane on veths) against a stock Debian charon with kernel-libipsec (ESP in
# userspace, always in UDP 4500) in another namespace. Traffic between the host behind the box
# (192.168.1.10) and the stock side's network (192.168.2.1) crosses the wire as ESP in UDP only.
# Usage: esp_interop.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stock_charon.sh"
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

cat >"$TMP/box1.yaml" <<YAML
version: 1
dataplane: {hugepages: false, memory_mb: 256, main_lcore: 0, worker_lcores: [1], file_prefix: bw-espi-$TAG, exception_namespace: $X1}
interfaces:
  - {name: internal, role: internal, port: "net_af_packet_espi${TAG}0,iface=int,qdisc_bypass=1", mac: "02:e6:00:00:01:01", addresses: [192.168.1.1/24]}
  - {name: external, role: external, port: "net_af_packet_espi${TAG}1,iface=ext,qdisc_bypass=1", mac: "02:e6:00:00:01:02", addresses: [10.1.0.1/16]}
firewall:
  incoming:
    default: rules
    rules:
      - {protocol: udp, to_port: 500, action: accept, comment: IKE}
      - {protocol: udp, to_port: 4500, action: accept, comment: IKE NAT-T}
  outgoing: {default: accept}
ipsec:
  connections:
    - name: to-stock
      remote_gateway: 10.1.0.2
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box1.example.com, remote_id: box2.example.com}
      tunnels:
        - {type: tunnel, local: 192.168.1.0/24, remote: 192.168.2.0/24}
YAML
ip netns exec $B1 "$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dp.sock" >"$TMP/dataplane.log" 2>&1 &
PIDS+=($!)
wait_for "the dataplane" 20 test -S "$TMP/dp.sock"
ip netns exec $B1 "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" --socket "$TMP/ctl.sock" \
  --state-dir "$TMP/state" --iked-run-dir "$TMP/iked" "$TMP/box1.yaml" >"$TMP/control.log" 2>&1 &
PIDS+=($!)

check "the tunnel to the stock charon comes up" \
  wait_for "the CHILD_SA" 60 sh -c "swanctl --list-sas --raw --uri '$STOCK_VICI' | grep -q 'state=INSTALLED'"
check "the dataplane holds the tunnel's SAs, UDP-encapsulated" \
  wait_for "the SAs" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp.sock' | grep -c '^SA .* udp ') -eq 2 ]"

# On the stock side's end of the wire, which sees both directions (the dataplane transmits past
# the packet taps of its own end: qdisc_bypass).
ip netns exec $B2 python3 "$HERE/wire_count.py" wan 6 192.168.1.10 192.168.2.1 >"$TMP/wire.json" &
WIRE=$!
sleep 0.5
check "the host behind the box pings the stock side's network" \
  ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.2.1
check "the stock side pings the host behind the box" \
  ip netns exec $B2 ping -c 5 -i 0.2 -W 2 -I 192.168.2.1 192.168.1.10
wait $WIRE || true
cat "$TMP/wire.json"
check "only ESP in UDP crossed the wire, never the hosts' plaintext" \
  python3 -c "import json,sys; c=json.load(open('$TMP/wire.json')); sys.exit(0 if c['esp_in_udp'] >= 20 and c['plaintext'] == 0 else 1)"
check "the stock side counted the traffic in its CHILD_SA" \
  sh -c "swanctl --list-sas --raw --uri '$STOCK_VICI' | grep -Eq 'packets-in=([1-9][0-9]+)'"
finish
