#!/usr/bin/env bash
# End-to-end: remote syslog (system.syslog) to a real rsyslog, in network namespaces the test
# creates.
#
#   client 192.168.1.10 ── internal ┐ Bulwark ┌ external ── server 10.1.0.100 (rsyslog, UDP 514)
#
# A logged incoming rule's line reaches rsyslog as an RFC 5424 message from the box's own
# address 10.1.0.1, with the configured host name; a reload that removes the server stops the
# messages. Usage: syslog_remote.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

BOX=bsb-$TAG HOST=bsh-$TAG CLIENT=bsc-$TAG SERVER=bss-$TAG
for ns in $BOX $HOST $CLIENT $SERVER; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $SERVER eth0
ip -n $CLIENT addr add 192.168.1.10/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $SERVER addr add 10.1.0.100/16 dev eth0
ip -n $SERVER route add 192.168.1.0/24 via 10.1.0.1

mkdir -p "$TMP/rsyslog"
cat >"$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP/rsyslog")
module(load="imudp")
input(type="imudp" address="10.1.0.100" port="514")
template(name="raw" type="string" string="%fromhost-ip% %rawmsg%\n")
*.* action(type="omfile" file="$TMP/remote.log" template="raw")
CONF
ip netns exec $SERVER rsyslogd -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslog.pid" >"$TMP/rsyslogd.log" 2>&1 &
PIDS+=($!)
wait_for "rsyslog on 10.1.0.100:514" 10 ip netns exec $SERVER sh -c "ss -lun | grep -q 10.1.0.100:514"

write_config() {  # SYSLOG-LIST
  cat >"$TMP/box.yaml" <<YAML
version: 1
system:
  hostname: mguard1
  log_file: $TMP/firewall.log
  syslog: $1
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-sl-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_sl${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b5:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_sl${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b5:00:00:00:02"
    addresses: [10.1.0.1/16]
firewall:
  outgoing: {default: accept}
  incoming:
    default: rules
    rules:
      - {protocol: tcp, from: 10.1.0.0/16, to: 192.168.1.10, to_port: 8080, action: accept, log: true, comment: maintenance access}
YAML
}
write_config "[{address: 10.1.0.100}]"
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null
start_box $BOX

ip netns exec $CLIENT python3 "$HERE/echo_server.py" 192.168.1.10 8080 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
connect() { echo ping | timeout 10 ip netns exec $SERVER python3 "$HERE/echo_client.py" 192.168.1.10 8080 >/dev/null; }

connect
check "the logged rule's line reaches rsyslog" \
  wait_for "the remote line" 10 grep -q "fw-incoming-1 act=ACCEPT IN=external OUT=internal SRC=10.1.0.100" "$TMP/remote.log"
check "as an RFC 5424 message (PRI daemon.info, version 1, host mguard1, APP-NAME bulwark, MSGID firewall)" \
  grep -qE '^[0-9.]+ <30>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z mguard1 bulwark [0-9]+ firewall - fw-incoming-1 ' "$TMP/remote.log"
check "sent from the box's own address 10.1.0.1" grep -q '^10\.1\.0\.1 <30>1 ' "$TMP/remote.log"
check "and the local log file has the line too" grep -q "fw-incoming-1 act=ACCEPT" "$TMP/firewall.log"
check "bulwark status counts the messages sent to the one server" \
  sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' |
         grep -qE '^syslog: 1 remote server, [1-9][0-9]* messages sent, 0 dropped'"
check "and --json has them too" \
  sh -c "'$BUILD/tools/bulwark' status --json --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' |
         /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)[\"syslog\"]; sys.exit(not (s[\"servers\"] == 1 and s[\"sent\"] >= 1))'"

write_config "[]"
"$BUILD/tools/bulwark" reload --socket "$TMP/ctl.sock" >/dev/null
before=$(grep -c "fw-incoming-1" "$TMP/remote.log")
connect
wait_for "the local line" 10 sh -c "test \$(grep -c 'fw-incoming-1' '$TMP/firewall.log') -ge 2" || true
sleep 1
check "without system.syslog nothing more reaches rsyslog" test "$(grep -c 'fw-incoming-1' "$TMP/remote.log")" = "$before"
finish
