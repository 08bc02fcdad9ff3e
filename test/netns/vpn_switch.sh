#!/usr/bin/env bash
# VPN connections started and stopped by a switch and by a deactivation timeout (manual 10.2,
# 10.9), with real IKE between two boxes. Box 1's connection to box 2 follows the switch
# "service" (off at first) together with a rule record, and stops 25 s after it was started.
# * switch off: no negotiation, the sites do not reach each other;
# * switch on: the tunnel comes up, host 1 pings host 2; `bulwark vpn status` names the switch and
#   the time left; the record the switch controls is active; /metrics counts the SAs' packets;
# * the deactivation timeout stops the connection (the switch stays on);
# * off and on again starts it again; off stops it at once.
# Usage: vpn_switch.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"

B1=bwa-$TAG B2=bwb-$TAG X1=bwx-$TAG X2=bwy-$TAG H1=bwh-$TAG H2=bwi-$TAG
for ns in $B1 $B2 $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $B2 wan
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.10/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="vpnswitch-$RANDOM-$RANDOM"
vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
vpn_box_config 2 1 $X2 "'%any'" wait wan 10.1.0.2/16 >"$TMP/box2.yaml"
python3 - "$TMP/box1.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("      startup: initiate\n",
              "      startup: initiate\n      controlled_by: {switch: service}\n      deactivation_timeout: 25s\n")
s = s.replace("  outgoing: {default: accept}\n",
              "  outgoing: {default: accept}\n  rule_records:\n"
              "    - {name: maintenance, controlled_by: {switch: service}, rules: [{protocol: tcp, action: accept}]}\n", 1)
s += "switches:\n  - {name: service, initial: off}\nmanagement:\n  metrics: {interfaces: [internal]}\n"
open(p, "w").write(s)
PY
start_vpn_box 2 $B2
start_vpn_box 1 $B1

status() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null; }
up() { status | grep -q '^to-box2: established$'; }
down() { ! up; }
pings() { ip netns exec $H1 ping -c 3 -i 0.2 -W 2 -q 192.168.2.10 >/dev/null; }
switch() { "$BULWARK" switch service "$1" --socket "$TMP/ctl1.sock" >>"$TMP/switch.log" 2>&1; }

wait_for "bulwark-iked of box 1" 30 test -S "$TMP/iked1/iked.sock"
sleep 5
check "switch off: the connection is not started" down
check "... and the sites do not reach each other" sh -c "! ip netns exec $H1 ping -c 1 -W 1 -q 192.168.2.10 >/dev/null"
check "bulwark vpn status says which switch controls it" sh -c "'$BULWARK' vpn status to-box2 --socket '$TMP/iked1/iked.sock' | grep -q 'controlled by    switch service'"

check "bulwark switch service on" switch on
started=$(date +%s)
check "the tunnel comes up" wait_for "the tunnel" 40 up
check "host 1 reaches host 2 through it" pings
metrics_ok() {
  ip netns exec $H1 curl -s -m 5 http://192.168.1.1:9100/metrics >"$TMP/metrics.txt" &&
    grep -q '^bulwark_vpn_connection_up{connection="to-box2"} 1$' "$TMP/metrics.txt" &&
    grep -Eq '^bulwark_sa_packets_total\{spi="[0-9a-f]{8}",dst="10.1.0.2"\} [1-9]' "$TMP/metrics.txt" &&
    grep -q '^bulwark_switch_on{switch="service"} 1$' "$TMP/metrics.txt"
}
check "metrics: the connection is up, its SAs counted the pings" wait_for "the metrics" 10 metrics_ok
check "status names the switch that started it and the time left" \
  sh -c "'$BULWARK' vpn status to-box2 --socket '$TMP/iked1/iked.sock' | grep -Eq 'started +by switch service at .*, stops in [0-9]+ s'"
check "the rule record the switch controls is active" \
  sh -c "'$BULWARK' record maintenance --socket '$TMP/ctl1.sock' | grep -q 'maintenance: active, controlled by switch service'"

check "the deactivation timeout (25 s) stops it, the switch still on" wait_for "the timeout" 45 down
check "... not before its time" test $(( $(date +%s) - started )) -ge 24
check "the log says why" wait_for "the log line" 5 grep -q "VPN to-box2: deactivation timeout of 25 s reached" "$TMP/control1.log"

check "switched off and on again, it starts again" sh -c "$(declare -f switch); BULWARK='$BULWARK' TMP='$TMP' switch off && BULWARK='$BULWARK' TMP='$TMP' switch on"
check "... and comes up" wait_for "the tunnel again" 40 up
check "switch off stops it at once" switch off
check "... down" wait_for "the tunnel to go" 15 down
check "and the record goes inactive with it" \
  sh -c "'$BULWARK' record maintenance --socket '$TMP/ctl1.sock' | grep -q 'maintenance: inactive'"
finish
