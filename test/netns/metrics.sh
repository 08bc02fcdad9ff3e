#!/usr/bin/env bash
# End-to-end: Prometheus metrics (management.metrics, docs/metrics.md) in network namespaces the
# test creates.
#
#   client 192.168.1.10 ── internal ┐ Bulwark ┌ external ── server 10.1.0.100
#                                  192.168.1.1:9100/metrics
#
# The client scrapes http://192.168.1.1:9100/metrics; Python's prometheus_client parser (Debian
# python3-prometheus-client) reads every family, and the values agree with `bulwark status --json`
# (external port counters, outcomes, drop reasons, generation) and with the switches and rule
# records. Other paths and methods get 404 and 405; the server outside cannot reach the
# listener (the incoming list drops it); hostile requests leave it serving.
# Usage: metrics.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
/usr/bin/python3 -c "import prometheus_client" 2>/dev/null || { echo "python3-prometheus-client is not installed"; exit 1; }

BOX=bmb-$TAG HOST=bmh-$TAG CLIENT=bmc-$TAG SERVER=bms-$TAG
for ns in $BOX $HOST $CLIENT $SERVER; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $SERVER eth0
ip -n $CLIENT addr add 192.168.1.10/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $SERVER addr add 10.1.0.100/16 dev eth0
ip -n $SERVER route add 192.168.1.0/24 via 10.1.0.1

cat >"$TMP/box.yaml" <<YAML
version: 1
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-mt-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_mt${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b6:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_mt${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b6:00:00:00:02"
    addresses: [10.1.0.1/16]
switches:
  - {name: maintenance, initial: on}
management:
  metrics: {interfaces: [internal, external], port: 9100}
firewall:
  incoming:
    default: rules
    rules:
      - {protocol: icmp, action: accept}
      - {protocol: tcp, to_port: 22, action: Service}
  outgoing: {default: accept}
  rule_records:
    - {name: Service, controlled_by: {switch: maintenance}, rules: [{protocol: tcp, action: accept}]}
YAML
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null
start_box $BOX
wait_for "the metrics listener" 15 ip netns exec $HOST sh -c "ss -ltn | grep -q 192.168.1.1:9100"

# Traffic through the box, then nothing more on the external side while the numbers are compared.
ip netns exec $CLIENT ping -c 5 -i 0.2 -W 2 -q 10.1.0.100 >/dev/null || true
ip netns exec $SERVER sh -c "echo x >/dev/udp/192.168.1.10/9" 2>/dev/null || true   # dropped: no rule

scrape() { ip netns exec $CLIENT curl -s -m 5 http://192.168.1.1:9100/metrics; }
status_json() { "$BUILD/tools/bulwark" status --json --socket "$TMP/dp.sock" --control-socket "$TMP/ctl.sock"; }
cat >"$TMP/compare.py" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
status = json.load(open(sys.argv[2]))
def value(family, **labels):
    for s in families[family].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()) and s.name.endswith(("_total", family)):
            return s.value
    raise SystemExit(f"no sample {family} {labels}")
checks = []
ports = {p["name"]: p for p in status["ports"]}
checks.append(("external rx", value("bulwark_port_received_packets", interface="external"), ports["external"]["rx_packets"]))
checks.append(("external tx", value("bulwark_port_transmitted_packets", interface="external"), ports["external"]["tx_packets"]))
checks.append(("generation", value("bulwark_generation"), status["generation"]))
for reason, n in status["counters"]["dropped"].items():
    if reason != "l2_multicast":
        checks.append((f"dropped {reason}", value("bulwark_dropped", reason=reason), n))
checks.append(("forwarded >= 10", 1 if value("bulwark_frames", outcome="forwarded") >= 10 else 0, 1))
checks.append(("switch", value("bulwark_switch_on", switch="maintenance"), 1))
checks.append(("record", value("bulwark_rule_record_active", record="Service"), 1))
checks.append(("dataplane up", value("bulwark_dataplane_up"), 1))
needed = ["bulwark_frames", "bulwark_dropped", "bulwark_events", "bulwark_stage_packets", "bulwark_port_missed_packets",
          "bulwark_user_firewall_sessions", "bulwark_syslog_messages", "bulwark_control_generation"]
missing = [n for n in needed if n not in families]
bad = [c for c in checks if c[1] != c[2]]
for c in bad: print("differs:", c)
if missing: print("missing families:", missing)
sys.exit(1 if bad or missing else 0)
PY
compare() {
  scrape >"$TMP/metrics.txt" && status_json >"$TMP/status.json" && /usr/bin/python3 "$TMP/compare.py" "$TMP/metrics.txt" "$TMP/status.json"
}
check "a scrape parses, and its values match bulwark status --json" wait_for "matching numbers" 10 compare
/usr/bin/python3 "$TMP/compare.py" "$TMP/metrics.txt" "$TMP/status.json" >"$TMP/compare.log" 2>&1 || true
check "every drop reason is exposed, zero or not" \
  sh -c "[ \$(grep -c '^bulwark_dropped_total{reason=' '$TMP/metrics.txt') -ge 40 ]"
check "another path is 404" sh -c "[ \$(ip netns exec $CLIENT curl -s -o /dev/null -w '%{http_code}' -m 5 http://192.168.1.1:9100/) = 404 ]"
check "POST is 405" sh -c "[ \$(ip netns exec $CLIENT curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST http://192.168.1.1:9100/metrics) = 405 ]"
check "the incoming list keeps the server outside from the listener on 10.1.0.1" \
  sh -c "! ip netns exec $SERVER curl -s -m 3 http://10.1.0.1:9100/metrics >/dev/null"
"$BUILD/tools/bulwark" switch maintenance off --socket "$TMP/ctl.sock" >/dev/null
check "the switch and its record follow in the next scrape" \
  sh -c "ip netns exec $CLIENT curl -s -m 5 http://192.168.1.1:9100/metrics | grep -q '^bulwark_rule_record_active{record=\"Service\"} 0'"
# Hostile clients: a header without end, garbage, a slow client; the listener keeps serving.
ip netns exec $CLIENT python3 - <<'PY' || true
import socket
for payload in [b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70000, b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
                b"GET /metrics?" + b"%" * 5000 + b" HTTP/1.0\r\n\r\n", b"GET"]:
    try:
        s = socket.create_connection(("192.168.1.1", 9100), 3)
        s.sendall(payload)
        s.settimeout(3)
        s.recv(100)
    except OSError:
        pass
PY
check "after hostile requests it still answers" sh -c "ip netns exec $CLIENT curl -s -m 5 http://192.168.1.1:9100/metrics | grep -q '^bulwark_generation '"
finish
