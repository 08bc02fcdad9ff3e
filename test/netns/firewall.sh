#!/usr/bin/env bash
# End-to-end: the stateful packet filter in network namespaces the test creates.
#
#   client 192.168.1.10 ── internal ┐ Bulwark ┌ external ── server 10.1.0.100
#
# Outgoing connections pass and their answers come back (stateful); incoming ones are blocked
# until the rule record "Maintenance" is switched on at runtime; switching it off leaves an open
# connection alive without "abort existing connections on firewall reconfiguration", and cuts it
# with the option. Logged rules reach the log file. Usage: firewall.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

BOX=bfb-$TAG HOST=bfh-$TAG CLIENT=bfc-$TAG SERVER=bfs-$TAG
for ns in $BOX $HOST $CLIENT $SERVER; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $SERVER eth0
ip -n $CLIENT addr add 192.168.1.10/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $SERVER addr add 10.1.0.100/16 dev eth0
ip -n $SERVER route add 192.168.1.0/24 via 10.1.0.1

write_config() {  # ABORT(true|false)
  cat >"$TMP/box.yaml" <<YAML
version: 1
system:
  log_file: $TMP/firewall.log
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-fw-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_fw${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b1:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_fw${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b1:00:00:00:02"
    addresses: [10.1.0.1/16]
firewall:
  abort_on_reconfiguration: $1
  outgoing:
    default: accept
  incoming:
    default: rules
    rules:
      - {interface: external, protocol: tcp, from: 10.1.0.0/16, to: 192.168.1.10, to_port: 8080, action: Maintenance, log: true, comment: maintenance access}
      - {protocol: tcp, to_port: 9090, action: Service}
      - {protocol: tcp, to_port: 9191, action: Short}
  rule_records:
    - name: Maintenance
      initial_mode: inactive
      rules: [{protocol: tcp, from: 10.1.0.100, action: accept}]
    - name: Service
      controlled_by: {switch: CMD1}
      rules: [{protocol: tcp, action: accept}]
    - name: Short
      initial_mode: inactive
      deactivation_timeout: 2s
      rules: [{protocol: tcp, action: accept}]
switches:
  - {name: CMD1, initial: off}
YAML
}
write_config false
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null

start_box $BOX

ip netns exec $SERVER python3 "$HERE/echo_server.py" 10.1.0.100 7000 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec $CLIENT python3 "$HERE/echo_server.py" 192.168.1.10 8080 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
bw() { "$BUILD/tools/bulwark" "$@"; }

# client → server: allowed outgoing, the answers come back through the stateful filter.
check "an outgoing TCP connection works both ways" \
  sh -c "echo hello | timeout 10 ip netns exec $CLIENT python3 '$HERE/echo_client.py' 10.1.0.100 7000 | grep -q '^ok'"
check "the connection is tracked" \
  sh -c "bw() { '$BUILD/tools/bulwark' \"\$@\"; }; bw conntrack --socket '$TMP/dp.sock' --port 7000 | grep -q 10.1.0.100"

# server → client: blocked while the record is off.
check "an incoming connection is blocked while the record is inactive" \
  sh -c "timeout 10 ip netns exec $SERVER python3 '$HERE/echo_client.py' 192.168.1.10 8080 </dev/null | grep -q '^failed'"
check "bulwark record shows the record inactive" \
  sh -c "'$BUILD/tools/bulwark' record Maintenance --socket '$TMP/ctl.sock' | grep -q 'Maintenance: inactive'"

# Switched on at runtime: the connection opens; a long-lived one stays open.
bw record Maintenance on --socket "$TMP/ctl.sock" >/dev/null
coproc LONG { ip netns exec $SERVER python3 "$HERE/echo_client.py" 192.168.1.10 8080; }
read -t 10 -r first <&"${LONG[0]}" || first=none
check "with the record on, the incoming connection opens" test "$first" = connected
echo ping >&"${LONG[1]}"; read -t 5 -r answer <&"${LONG[0]}" || answer=none
check "and carries data" test "$answer" = ok
check "the logged rule produced a log line" \
  wait_for "the log line" 10 grep -q "fw-incoming-1 act=ACCEPT IN=external OUT=internal SRC=10.1.0.100 DST=192.168.1.10" "$TMP/firewall.log"
check "bulwark status --rules counts the hit" \
  sh -c "'$BUILD/tools/bulwark' status --rules --socket '$TMP/dp.sock' | grep -q 'maintenance access'"

# Switched off without the abort option: the open connection lives on, new ones are blocked.
bw record Maintenance off --socket "$TMP/ctl.sock" >/dev/null
echo ping >&"${LONG[1]}"; read -t 5 -r answer <&"${LONG[0]}" || answer=none
check "without abort_on_reconfiguration the open connection survives the switch" test "$answer" = ok
check "but a new one is blocked again" \
  sh -c "timeout 10 ip netns exec $SERVER python3 '$HERE/echo_client.py' 192.168.1.10 8080 </dev/null | grep -q '^failed'"
exec {LONG[1]}>&-
wait "$LONG_PID" 2>/dev/null || true

# With the option, the same switch cuts the open connection.
write_config true
bw reload --socket "$TMP/ctl.sock" >/dev/null
bw record Maintenance on --socket "$TMP/ctl.sock" >/dev/null
coproc LONG2 { ip netns exec $SERVER python3 "$HERE/echo_client.py" 192.168.1.10 8080; }
read -t 10 -r first <&"${LONG2[0]}" || first=none
echo ping >&"${LONG2[1]}"; read -t 5 -r answer <&"${LONG2[0]}" || answer=none
check "with abort_on_reconfiguration a new connection works while the record is on" \
  test "$first/$answer" = connected/ok
bw record Maintenance off --socket "$TMP/ctl.sock" >/dev/null
echo ping >&"${LONG2[1]}"; read -t 5 -r answer <&"${LONG2[0]}" || answer=none
check "and switching the record off cuts it" test "$answer" = timeout
exec {LONG2[1]}>&-
wait "$LONG2_PID" 2>/dev/null || true

# A record that follows a switch, and one that switches itself off.
check "a switch-controlled record follows its switch" \
  sh -c "'$BUILD/tools/bulwark' record Service --socket '$TMP/ctl.sock' | grep -q 'Service: inactive, controlled by switch CMD1' &&
         '$BUILD/tools/bulwark' switch CMD1 on --socket '$TMP/ctl.sock' >/dev/null &&
         '$BUILD/tools/bulwark' record Service --socket '$TMP/ctl.sock' | grep -q 'Service: active'"
check "a switch-controlled record cannot be switched directly" \
  sh -c "! '$BUILD/tools/bulwark' record Service off --socket '$TMP/ctl.sock' 2>/dev/null"
bw record Short on --socket "$TMP/ctl.sock" >/dev/null
check "a record with a deactivation timeout is on at first" \
  sh -c "'$BUILD/tools/bulwark' record Short --socket '$TMP/ctl.sock' | grep -q 'Short: active, switches off in'"
check "and switches itself off when the timeout has passed" \
  wait_for "the deactivation" 10 sh -c "'$BUILD/tools/bulwark' record Short --socket '$TMP/ctl.sock' | grep -q 'Short: inactive'"

check "bulwark conntrack flush empties the table" \
  sh -c "'$BUILD/tools/bulwark' conntrack flush --socket '$TMP/dp.sock' | grep -q flushed && test -z \"\$('$BUILD/tools/bulwark' conntrack --socket '$TMP/dp.sock')\""

finish
