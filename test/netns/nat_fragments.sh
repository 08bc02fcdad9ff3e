#!/usr/bin/env bash
# Fragments through masquerading and port forwarding (docs/nat.md, "Fragments"): only a first
# fragment carries the ports these translate, so the box reassembles, translates and fragments
# again. The box's ports are net_pcap on the veths, not net_af_packet: DPDK's af_packet PMD
# joins a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel would reassemble the
# fragments before the dataplane sees them (a NIC's port hands them over as they come, like
# net_pcap).
#
#   client 192.168.1.11 ── internal ┐ Bulwark ┌ external ── server 10.1.0.100/16
#                        192.168.1.1/24       10.1.0.1/16
#
# The server has no route to 192.168.1.0/24: only translated traffic can come back.
# Checked: a 3,000-byte ping from the client (masqueraded) gets its answers; a 3,000-byte UDP
# datagram from the server to 10.1.0.1:7008 (forwarded to the client) comes back intact; the box
# counted reassembled packets and gave none up.
# Usage: nat_fragments.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"

BOX=bfb-$TAG HOST=bfh-$TAG CLIENT=bfc-$TAG SERVER=bfs-$TAG
for ns in $BOX $HOST $CLIENT $SERVER; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $SERVER eth0
ip -n $CLIENT addr add 192.168.1.11/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $SERVER addr add 10.1.0.100/16 dev eth0

cat >"$TMP/box.yaml" <<YAML
version: 1
dataplane:
  hugepages: false
  memory_mb: 256
  main_lcore: 0
  worker_lcores: [1]
  file_prefix: bw-natf-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_pcap_natf${TAG}0,rx_iface_in=int,tx_iface=int
    mac: "02:b3:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_pcap_natf${TAG}1,rx_iface_in=ext,tx_iface=ext
    mac: "02:b3:00:00:00:02"
    addresses: [10.1.0.1/16]
nat:
  masquerade:
    - {interface: external, from: 192.168.1.0/24}
  port_forwarding:
    - {protocol: udp, incoming_ip: '%extern', incoming_port: 7008, redirect_ip: 192.168.1.11, redirect_port: 7008, comment: UDP echo}
firewall:
  outgoing: {default: accept}
  incoming: {default: drop}
YAML
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null
start_box $BOX

check "masquerading: a 3,000-byte ping from the client (in fragments) gets its answers" \
  timeout 20 ip netns exec $CLIENT ping -c 3 -i 0.3 -W 3 -q -s 3000 10.1.0.100

cat >"$TMP/udp_echo.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
if sys.argv[1] == "serve":  # echo one datagram back
    s.bind((sys.argv[2], int(sys.argv[3])))
    data, peer = s.recvfrom(65536)
    s.sendto(data, peer)
else:  # send 3,000 bytes, expect them back
    data = bytes((k * 7) & 0xFF for k in range(3000))
    s.sendto(data, (sys.argv[2], int(sys.argv[3])))
    print("ok" if s.recvfrom(65536)[0] == data else "differs")
PY
ip netns exec $CLIENT python3 "$TMP/udp_echo.py" serve 192.168.1.11 7008 >/dev/null 2>&1 &
PIDS+=($!)
wait_for "the client's UDP echo" 10 ip netns exec $CLIENT sh -c "ss -lun | grep -q 192.168.1.11:7008"
check "port forwarding: a 3,000-byte UDP datagram to 10.1.0.1:7008 (in fragments) comes back intact" \
  sh -c "timeout 15 ip netns exec $SERVER python3 '$TMP/udp_echo.py' send 10.1.0.1 7008 | grep -qx ok"

"$BUILD/tools/bulwark" status --socket "$TMP/dp.sock" >"$TMP/status.txt"
check "the box reassembled the fragments it translated" \
  awk '$1 == "packets_reassembled" && $2 >= 8 {found=1} END {exit !found}' "$TMP/status.txt"
check "... and gave none up" sh -c "! grep -q reassembly_failed '$TMP/status.txt'"
finish
