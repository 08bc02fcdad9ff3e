#!/usr/bin/env bash
# NAT inside tunnels end to end (manual chapter 13), with real IKE between two boxes.
# 13.2: both sites use 192.168.1.0/24. Box 1 shows its network in the tunnel as 192.168.10.0/24,
# box 2 as 192.168.20.0/24; host 1 (192.168.1.10 at site 1) reaches host 2 (192.168.1.10 at site
# 2!) as 192.168.20.10, and host 2 answers to 192.168.10.10.
# 13.5: then box 1 is reconfigured: its tunnel reaches host 2 alone (remote 192.168.20.10/32),
# shown on site 1 as 192.168.1.253 (remote 1:1 NAT), which box 1 answers ARP for.
# Usage: esp_vpn_nat.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"

B1=bva-$TAG B2=bvb-$TAG X1=bvx-$TAG X2=bvy-$TAG H1=bvh-$TAG H2=bvi-$TAG
for ns in $B1 $B2 $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $B2 wan
for h in $H1 $H2; do
  ip -n $h addr add 192.168.1.10/24 dev eth0
  ip -n $h route add default via 192.168.1.1
done
export VPN_PSK="vpnnat-$RANDOM-$RANDOM"
one_to_one() { echo "local_nat: {mode: one_to_one, mappings: [{real: 192.168.1.0, virtual: $1, prefix: 24}]}"; }
INTERNAL=192.168.1.1/24 LOCAL=192.168.10.0/24 REMOTE=192.168.20.0/24 TUNNEL_NAT=$(one_to_one 192.168.10.0) \
  vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
INTERNAL=192.168.1.1/24 LOCAL=192.168.20.0/24 REMOTE=192.168.10.0/24 TUNNEL_NAT=$(one_to_one 192.168.20.0) \
  vpn_box_config 2 1 $X2 "'%any'" wait wan 10.1.0.2/16 >"$TMP/box2.yaml"
start_vpn_box 2 $B2
start_vpn_box 1 $B1

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "the tunnel between the virtual networks comes up" wait_for "the tunnel" 60 up
for n in 1 2; do
  wait_for "the SAs in dataplane $n" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp$n.sock' | grep -c '^SA ') -eq 2 ]"
done
check "13.2: host 1 reaches host 2, its namesake, as 192.168.20.10" \
  ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.20.10
check "... and host 2 reaches host 1 as 192.168.10.10" \
  ip netns exec $H2 ping -c 5 -i 0.2 -W 2 192.168.10.10

# 13.5: box 1's tunnel now reaches host 2 alone, which appears on site 1 as 192.168.1.253.
python3 - "$TMP/box1.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("remote: 192.168.20.0/24", "remote: 192.168.20.10/32, remote_nat: {mode: one_to_one, address: 192.168.1.253}")
open(p, "w").write(s)
PY
check "the changed configuration is accepted" sh -c "'$BULWARK' reload --socket '$TMP/ctl1.sock' >/dev/null"
reached() { ip netns exec $H1 ping -c 1 -W 1 192.168.1.253 >/dev/null 2>&1; }
check "13.5: host 1 reaches host 2 as 192.168.1.253 on its own network" wait_for "the new tunnel" 30 reached
check "... because box 1 answers ARP for it" sh -c "ip -n $H1 neigh show 192.168.1.253 | grep -q '02:e5:00:00:01:01'"
# Host 2 sees host 1 as 192.168.10.10 (TCP 7007: what box 2's VPN firewall lets in).
ip netns exec $H2 python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 7007)); s.listen(1); s.settimeout(8)
print(s.accept()[1][0])" >"$TMP/seen.txt" 2>&1 &
SEEN=$!
sleep 0.5
ip netns exec $H1 python3 -c "import socket; socket.create_connection(('192.168.1.253', 7007), 5)" || true
wait $SEEN || true
check "... and host 2 sees host 1 as 192.168.10.10" grep -qx 192.168.10.10 "$TMP/seen.txt"
finish
