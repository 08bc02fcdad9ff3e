#!/usr/bin/env bash
# Transport mode (manual 12.2): the two boxes protect their own traffic to each other, after
# box 1 kept trying while box 2 was misconfigured. A ping
# between their external addresses, sent by the kernels of their exception namespaces, leaves
# each dataplane as transport-mode ESP and arrives decrypted on the other's exception path; the
# wire carries ESP and IKE only.
# Usage: esp_transport.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"
HERE=$(cd "$(dirname "$0")" && pwd)

B1=bta-$TAG B2=btb-$TAG X1=btx-$TAG X2=bty-$TAG H1=bth-$TAG H2=bti-$TAG
for ns in $B1 $B2 $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $B2 wan
export VPN_PSK="transport-$RANDOM-$RANDOM"
MODE=transport vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
# Box 2 first expects another peer: box 1 is refused, and must try again by itself once box 2's
# configuration is mended (manual chapter 15: the initiator keeps trying).
MODE=transport vpn_box_config 2 1 $X2 "'%any'" wait wan 10.1.0.2/16 |
  sed 's/remote_id: box1.example.com/remote_id: box7.example.com/' >"$TMP/box2.yaml"
start_vpn_box 2 $B2
start_vpn_box 1 $B1

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "box 1 is refused while box 2 expects another peer" \
  wait_for "the refusal" 60 grep -q "the peer rejected our authentication" "$TMP/control1.log"
sed -i 's/remote_id: box7.example.com/remote_id: box1.example.com/' "$TMP/box2.yaml"
"$BULWARK" reload --socket "$TMP/ctl2.sock" >/dev/null
check "box 1 tries again by itself: the transport-mode connection comes up" wait_for "the connection" 60 up
check "... as its log says" grep -q "negotiating again after the failure" "$TMP/control1.log"
check "box 1's dataplane holds transport-mode SAs" \
  wait_for "the SAs" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp1.sock' | grep -c '^SA .* transport ') -eq 2 ]"

watch_wire $B1 ext 5 "$TMP/wire1.json" 10.1.0.1 10.1.0.2
watch_wire $B2 wan 5 "$TMP/wire2.json" 10.1.0.1 10.1.0.2
check "box 1 pings box 2, gateway to gateway" ip netns exec $X1 ping -c 5 -i 0.2 -W 2 10.1.0.2
check "box 2 pings box 1" ip netns exec $X2 ping -c 5 -i 0.2 -W 2 10.1.0.1
wait_wires
cat "$TMP/wire1.json" "$TMP/wire2.json"
check "the gateways' pings crossed the wire as ESP only" \
  python3 -c "import json,sys; a, b = (json.load(open('$TMP/wire%d.json' % n)) for n in (1, 2)); sys.exit(0 if a['esp'] + b['esp'] >= 20 and a['plaintext'] + b['plaintext'] == 0 else 1)"
check "box 2 decrypted them (transport mode)" \
  sh -c "'$BULWARK' status --socket '$TMP/dp2.sock' | grep -Eq 'esp_decrypted +([1-9][0-9])'"
finish
