#!/usr/bin/env bash
# Hub and spoke (manual 14.2): two branch boxes each have one tunnel, to the hub, covering every
# branch network (192.168.0.0/16); the hub has one connection per branch and forwards between
# them. Branch 1's host reaches branch 2's host through the hub: decrypted from one tunnel,
# encrypted into the other. The hub's VPN firewall of branch 2 still applies.
#
#   host1 ── spoke1 [10.1.0.1] ─┐                      ┌─ [10.1.0.2] spoke2 ── host2
#                               └─ [10.1.0.9] hub ─────┘      (one bridge between the three)
#
# Usage: esp_hub.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"

S1=bha-$TAG S2=bhb-$TAG HUB=bhc-$TAG X1=bhx-$TAG X2=bhy-$TAG XH=bhz-$TAG H1=bhh-$TAG H2=bhi-$TAG WAN=bhw-$TAG
for ns in $S1 $S2 $HUB $X1 $X2 $XH $H1 $H2 $WAN; do new_ns "$ns"; done
ip -n $WAN link add wan type bridge
ip -n $WAN link set wan up
link $S1 int $H1 eth0
link $S2 int $H2 eth0
link $S1 ext $WAN p1
link $S2 wan $WAN p2
link $HUB ext $WAN p9
for p in p1 p2 p9; do ip -n $WAN link set $p master wan; done
# The hub's company network is not part of the test: a veth whose other end stays in the hub.
ip -n $HUB link add int type veth peer name int-end
ip -n $HUB link set int up
ip -n $HUB link set int-end up
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.20/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="hub-$RANDOM-$RANDOM-$RANDOM"

REMOTE=192.168.0.0/16 vpn_box_config 1 9 $X1 10.1.0.9 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
REMOTE=192.168.0.0/16 vpn_box_config 2 9 $X2 10.1.0.9 initiate wan 10.1.0.2/16 >"$TMP/box2.yaml"
cat >"$TMP/box9.yaml" <<YAML
version: 1
dataplane: {hugepages: false, memory_mb: 256, main_lcore: 0, worker_lcores: [1], file_prefix: bw-hub-$TAG, exception_namespace: $XH}
interfaces:
  - {name: internal, role: internal, port: "net_af_packet_hubi${TAG},iface=int,qdisc_bypass=1", mac: "02:e8:00:00:00:01", addresses: [10.9.0.1/16]}
  - {name: external, role: external, port: "net_af_packet_hub${TAG},iface=ext,qdisc_bypass=1", mac: "02:e8:00:00:00:02", addresses: [10.1.0.9/16]}
firewall:
  incoming:
    default: rules
    rules:
      - {protocol: udp, to_port: 500, action: accept}
      - {protocol: udp, to_port: 4500, action: accept}
  outgoing: {default: accept}
ipsec:
  forward_between_connections: true   # "Forwarding between VPN connections" (14.2)
  connections:
    - name: branch-1
      remote_gateway: '%any'
      startup: wait
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box9.example.com, remote_id: box1.example.com}
      tunnels: [{local: 192.168.0.0/16, remote: 192.168.1.0/24}]
    - name: branch-2
      remote_gateway: '%any'
      startup: wait
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box9.example.com, remote_id: box2.example.com}
      tunnels: [{local: 192.168.0.0/16, remote: 192.168.2.0/24}]
      firewall:
        outgoing:
          default: rules
          rules:
            - {protocol: udp, to_port: 7009, action: drop, comment: not into branch 2}
            - {protocol: all, action: accept}
YAML
start_vpn_box 9 $HUB
start_vpn_box 1 $S1
start_vpn_box 2 $S2

up() { "$BULWARK" vpn status to-box9 --socket "$TMP/iked$1/iked.sock" 2>/dev/null | grep -q '^to-box9: established$'; }
check "branch 1's tunnel to the hub comes up" wait_for "branch 1" 60 up 1
check "branch 2's tunnel to the hub comes up" wait_for "branch 2" 60 up 2
check "the hub holds both tunnels' SAs" \
  wait_for "the hub's SAs" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp9.sock' | grep -c '^SA ') -eq 4 ]"
check "branch 1's host pings branch 2's host through the hub" ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.2.20
check "... and back" ip netns exec $H2 ping -c 5 -i 0.2 -W 2 192.168.1.10
check "the hub decrypted and re-encrypted them" \
  sh -c "'$BULWARK' status --socket '$TMP/dp9.sock' | grep -Eq 'esp_encrypted +([1-9][0-9])'"
ip netns exec $H1 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b'x', ('192.168.2.20', 7009))"
check "the hub's VPN firewall for branch 2 drops what its outgoing rules forbid" \
  wait_for "the drops" 5 sh -c "'$BULWARK' status --socket '$TMP/dp9.sock' | grep -Eq 'dropped filter_rule_drop +3'"
# Without "forwarding between VPN connections" the hub keeps the branches apart.
sed -i 's/forward_between_connections: true/forward_between_connections: false/' "$TMP/box9.yaml"
check "the hub reloads with forwarding between VPN connections off" \
  sh -c "'$BULWARK' reload --socket '$TMP/ctl9.sock' >/dev/null"
check "... and branch 1 no longer reaches branch 2" sh -c "! ip netns exec $H1 ping -c 3 -i 0.2 -W 1 192.168.2.20"
check "... counted as traffic from one VPN connection into another" \
  sh -c "'$BULWARK' status --socket '$TMP/dp9.sock' | grep -Eq 'dropped ipsec_vpn_to_vpn +[1-9]'"
finish
