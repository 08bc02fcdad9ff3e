#!/usr/bin/env bash
# End-to-end: the box between a company network and an external network, with the chapter 2
# additional internal route, in network namespaces it creates itself.
#
#   office (10.1.0.100) ── internal ┐            ┌ external ── server (172.16.0.100)
#   r1 (10.1.0.1 / 192.168.1.254) ──┤ Bulwark    │
#   plc (192.168.1.10) ── r1        └────────────┘
#
# The office reaches the external server through the box; the PLC network is reached through
# the box's additional internal route 192.168.1.0/24 via 10.1.0.1 (manual chapter 2); a ping to
# the box's own address is answered by the kernel on the exception path.
# Usage: routing.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"

BOX=bwb-$TAG HOST=bwh-$TAG OFFICE=bwo-$TAG R1=bwr-$TAG PLC=bwp-$TAG SERVER=bws-$TAG
# HOST is the exception namespace: created here, because a namespace that bulwark-control
# created under `ip netns exec` would live in that command's private mount namespace only.
for ns in $BOX $HOST $OFFICE $R1 $PLC $SERVER; do new_ns "$ns"; done

# The company LAN is a bridge in the box namespace's peer: office and r1 share it with the box.
new_ns bwl-$TAG
ip -n bwl-$TAG link add lan type bridge
ip -n bwl-$TAG link set lan up
link $BOX int bwl-$TAG p-box
link $OFFICE eth0 bwl-$TAG p-office
link $R1 lan0 bwl-$TAG p-r1
for p in p-box p-office p-r1; do ip -n bwl-$TAG link set $p master lan; done
link $BOX ext $SERVER eth0
link $R1 plc0 $PLC eth0

ip -n $OFFICE addr add 10.1.0.100/16 dev eth0
ip -n $OFFICE route add default via 10.1.0.254
ip -n $R1 addr add 10.1.0.1/16 dev lan0
ip -n $R1 addr add 192.168.1.254/24 dev plc0
ip netns exec $R1 sysctl -qw net.ipv4.ip_forward=1
ip -n $PLC addr add 192.168.1.10/24 dev eth0
ip -n $PLC route add default via 192.168.1.254
ip -n $SERVER addr add 172.16.0.100/24 dev eth0
ip -n $SERVER route add default via 172.16.0.2

cat >"$TMP/box.yaml" <<YAML
version: 1
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-e2e-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_e2e${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b0:00:00:00:01"
    addresses: [10.1.0.254/16]
    routes:
      - {network: 192.168.1.0/24, gateway: 10.1.0.1, comment: manual chapter 2}
  - name: external
    role: external
    port: net_af_packet_e2e${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b0:00:00:00:02"
    addresses: [172.16.0.2/24]
default_gateway: 172.16.0.1
YAML
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null

start_box $BOX
wait_for "the exception path" 20 ip -n $HOST addr show dev bw-internal

ip netns exec $SERVER python3 -m http.server --bind 172.16.0.100 8080 --directory "$TMP" >"$TMP/http.log" 2>&1 &
PIDS+=($!)
echo "hello through bulwark" >"$TMP/index.txt"
wait_for "the web server" 10 ip netns exec $SERVER python3 -c "import socket; socket.create_connection(('172.16.0.100', 8080), 1)"

check "office pings the external server through the box" \
  ip netns exec $OFFICE ping -c 3 -i 0.2 -W 2 172.16.0.100
check "office fetches a page from the external server (TCP both ways)" \
  sh -c "ip netns exec $OFFICE python3 -c \"import urllib.request; print(urllib.request.urlopen('http://172.16.0.100:8080/index.txt', timeout=5).read().decode())\" | grep -q 'hello through bulwark'"
check "office reaches the PLC through the chapter 2 additional route" \
  ip netns exec $OFFICE ping -c 3 -i 0.2 -W 2 192.168.1.10
check "the box answers a ping to its own address (exception path)" \
  ip netns exec $OFFICE ping -c 3 -i 0.2 -W 2 10.1.0.254
check "bulwark status shows forwarded traffic" \
  sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"counters\"][\"forwarded\"] > 0 and d[\"counters\"][\"punted\"] > 0, d'"
check "bulwark arp lists the office host" \
  sh -c "'$BUILD/tools/bulwark' arp --socket '$TMP/dp.sock' | grep -q 10.1.0.100"

# Reload with a broken file keeps the running generation; a good one moves it on.
cp "$TMP/box.yaml" "$TMP/good.yaml"
echo "firewal: {}" >>"$TMP/box.yaml"
check "a broken reload is refused with its error" \
  sh -c "'$BUILD/tools/bulwark' reload --socket '$TMP/ctl.sock' >'$TMP/reload.out' 2>&1; test \$? -eq 1 && grep -q \"unknown key 'firewal'\" '$TMP/reload.out'"
check "forwarding continues after the refused reload" \
  ip netns exec $OFFICE ping -c 2 -i 0.2 -W 2 172.16.0.100
cp "$TMP/good.yaml" "$TMP/box.yaml"
check "a good reload applies a new generation" \
  sh -c "'$BUILD/tools/bulwark' reload --socket '$TMP/ctl.sock' | grep -q 'applied generation'"

# Restarting the control plane does not stop forwarding.
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
check "forwarding continues without the control plane" \
  ip netns exec $OFFICE ping -c 2 -i 0.2 -W 2 172.16.0.100
ip netns exec $BOX "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" \
  --socket "$TMP/ctl2.sock" "$TMP/box.yaml" >"$TMP/control2.log" 2>&1 &
PIDS+=($!)
check "a restarted control plane re-synchronises" \
  wait_for "re-sync" 20 grep -q "applied generation 3" "$TMP/control2.log"

# A clean shutdown through the control socket.
DATAPLANE_PID=${PIDS[0]}
check "bulwark stop shuts the dataplane down cleanly" \
  sh -c "'$BUILD/tools/bulwark' stop --socket '$TMP/dp.sock' && for i in \$(seq 100); do kill -0 $DATAPLANE_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"

finish
