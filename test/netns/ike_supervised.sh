#!/usr/bin/env bash
# A box as deployed: bulwark-dataplane and bulwark-control, which runs bulwark-iked for the VPN
# connection of the configuration (box 1); a plain bulwark-iked answers on box 2. The tunnel
# comes up, the dataplane holds its SAs, a killed bulwark-iked is restarted and the tunnel comes
# back, `bulwark reload` reaches the IKE daemon, and what bulwark-iked prints reaches bulwark-control's
# log.
# Usage: ike_supervised.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
BULWARK="$BUILD/tools/bulwark"

B1=bwk1-$TAG B2=bwk2-$TAG
new_ns $B1
new_ns $B2
link $B1 ext $B2 wan
ip -n $B1 addr add 10.1.0.101/16 dev ext
ip -n $B2 addr add 10.1.0.102/16 dev wan
export VPN_PSK="supervised-$RANDOM-$RANDOM"

tunnel_config() {  # N PEER GATEWAY STARTUP
  cat <<YAML
version: 1
system: {log_file: $TMP/box$1.log}
dataplane: {hugepages: false, memory_mb: 256, main_lcore: 0, worker_lcores: [1], file_prefix: bw-iks-$TAG}
interfaces:
  - {name: internal, role: internal, port: net_null_iks${TAG}0, addresses: [192.168.$1.1/24]}
  - {name: external, role: external, port: net_null_iks${TAG}1, addresses: [10.1.0.10$1/16]}
firewall:
  rule_records:
    - name: Maintenance
      controlled_by: {vpn: to-box$2}
      rules:
        - {protocol: tcp, from: 192.168.$2.0/24, to: 192.168.$1.10/32, to_port: 22, action: accept}
ipsec:
  connections:
    - name: to-box$2
      remote_gateway: $3
      startup: $4
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box$1.example.com, remote_id: box$2.example.com}
      tunnels:
        - {type: tunnel, local: 192.168.$1.0/24, remote: 192.168.$2.0/24}
YAML
}
tunnel_config 1 2 10.1.0.102 initiate >"$TMP/box1.yaml"
tunnel_config 2 1 "'%any'" wait >"$TMP/box2.yaml"

ip netns exec $B2 "$BUILD/control/ike/bulwark-iked" --run-dir "$TMP/box2" "$TMP/box2.yaml" >"$TMP/box2.log" 2>&1 &
PIDS+=($!)
ip netns exec $B1 "$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dp.sock" --no-exception-path \
  >"$TMP/dataplane.log" 2>&1 &
PIDS+=($!)
wait_for "the dataplane socket" 20 test -S "$TMP/dp.sock"
ip netns exec $B1 "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" --socket "$TMP/ctl.sock" \
  --no-exception-path --state-dir "$TMP/state" --iked-run-dir "$TMP/iked1" "$TMP/box1.yaml" \
  >"$TMP/control.log" 2>&1 &
PIDS+=($!)

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "bulwark-control starts bulwark-iked and the tunnel comes up" wait_for "the tunnel" 30 up
check "the dataplane holds the tunnel's two SAs" \
  wait_for "the SAs in the dataplane" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp.sock' | grep -c '^SA ') -eq 2 ]"

record() { "$BULWARK" record Maintenance --socket "$TMP/ctl.sock" 2>/dev/null | grep -q "^Maintenance: $1"; }
check "the rule record controlled by the VPN connection is active while it is up" wait_for "the record" 10 record active
check "bulwark vpn down switches the record off" \
  sh -c "'$BULWARK' vpn down to-box2 --socket '$TMP/iked1/iked.sock' >/dev/null && for i in \$(seq 100); do '$BULWARK' record Maintenance --socket '$TMP/ctl.sock' | grep -q '^Maintenance: inactive' && exit 0; sleep 0.1; done; exit 1"
check "the record cannot be switched by hand" \
  sh -c "! '$BULWARK' record Maintenance on --socket '$TMP/ctl.sock' 2>&1 | grep -q active"
check "bulwark vpn up brings tunnel and record back" \
  sh -c "'$BULWARK' vpn up to-box2 --socket '$TMP/iked1/iked.sock' >/dev/null && for i in \$(seq 100); do '$BULWARK' record Maintenance --socket '$TMP/ctl.sock' | grep -q '^Maintenance: active' && exit 0; sleep 0.1; done; exit 1"

IKED=$(sed -n 's/.*started bulwark-iked (pid \([0-9]*\)).*/\1/p' "$TMP/control.log" | tail -n1)
kill -9 "$IKED"
check "its exit takes the VPN connection down in bulwark-control" \
  wait_for "the down" 10 sh -c "[ \$(grep -c '^VPN to-box2 down: rule records follow' '$TMP/control.log') -ge 2 ]"
check "a killed bulwark-iked is restarted" \
  wait_for "the restart" 20 sh -c "[ \$(grep -c 'started bulwark-iked' '$TMP/control.log') -ge 2 ]"
check "... and the tunnel comes back" wait_for "the tunnel again" 30 up
check "... and with it the rule record" wait_for "the record again" 10 record active
check "bulwark-iked's messages reach bulwark-control's log file (system.log_file)" \
  grep -q "ike: .*loaded 1 VPN connections" "$TMP/box1.log"
check "bulwark reload reaches the IKE daemon" \
  sh -c "'$BULWARK' reload --socket '$TMP/ctl.sock' >/dev/null && for i in \$(seq 100); do [ \$(grep -c 'loaded 1 VPN connections' '$TMP/control.log') -ge 3 ] && exit 0; sleep 0.1; done; exit 1"
finish
