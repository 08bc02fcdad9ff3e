#!/usr/bin/env bash
# End-to-end: network address translation (docs/nat.md) in network namespaces the test creates.
#
#   client 192.168.1.10 (+ .11) ── internal ┐ Bulwark ┌ external ── server 10.1.0.100/16
#                                192.168.1.1/24       10.1.0.1/16
#
# The server has NO route to 192.168.1.0/24: only translated traffic can come back.
# * masquerading (manual 5.4.1): the client fetches http://10.1.0.100:8080/ from 192.168.1.11,
#   the server sees 10.1.0.1;
# * 1:1 NAT (manual 3.3 / 4.4.3): 192.168.1.10 <-> 10.1.1.10 on external: the box answers ARP for
#   10.1.1.10, the server pings 10.1.1.10 and reaches 192.168.1.10 (the incoming rule names the
#   real address); the client's own connections leave from 10.1.1.10 (1:1 NAT before
#   masquerading); TCP to 10.1.1.10 has no incoming rule and stays blocked;
# * port forwarding (manual 4.4.2): the server fetches http://10.1.0.1:8081/ and reaches the
#   client's web server 192.168.1.10:8000, regardless of the incoming rules;
# * many connections at once through each kind of translation (with WORKERS=2: two workers);
# * `bulwark nat` shows the mappings (skipped with a note while the command does not exist).
# Usage: nat.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

BOX=bnb-$TAG HOST=bnh-$TAG CLIENT=bnc-$TAG SERVER=bns-$TAG
for ns in $BOX $HOST $CLIENT $SERVER; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $SERVER eth0
ip -n $CLIENT addr add 192.168.1.10/24 dev eth0
ip -n $CLIENT addr add 192.168.1.11/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $SERVER addr add 10.1.0.100/16 dev eth0
# deliberately no route to 192.168.1.0/24 in the server namespace

cat >"$TMP/box.yaml" <<YAML
version: 1
system:
  log_file: $TMP/bulwark.log
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-nat-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_nat${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b2:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_nat${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b2:00:00:00:02"
    addresses: [10.1.0.1/16]
nat:
  one_to_one:
    - {real: 192.168.1.10, virtual: 10.1.1.10, prefix: 32, interface: external, comment: client}
  masquerade:
    - {interface: external, from: 192.168.1.0/24, comment: production network}
  port_forwarding:
    - {protocol: tcp, incoming_ip: '%extern', incoming_port: 8081, redirect_ip: 192.168.1.10, redirect_port: 8000, comment: client web server}
    - {protocol: tcp, incoming_ip: '%extern', incoming_port: 7007, redirect_ip: 192.168.1.10, redirect_port: 7007, comment: transfers}
firewall:
  outgoing:
    default: accept
  incoming:
    default: rules
    rules:
      - {protocol: icmp, from: 10.1.0.0/16, to: 192.168.1.10, action: accept, comment: ping the mapped client}
YAML
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null

start_box $BOX

# Web servers: the company server on 10.1.0.100:8080, the client's on 192.168.1.10:8000.
mkdir -p "$TMP/www-server" "$TMP/www-client"
echo "company server" >"$TMP/www-server/index.html"
echo "production client" >"$TMP/www-client/index.html"
ip netns exec $SERVER python3 -m http.server --bind 10.1.0.100 --directory "$TMP/www-server" 8080 \
  >"$TMP/http-server.log" 2>&1 &
PIDS+=($!)
ip netns exec $CLIENT python3 -m http.server --bind 192.168.1.10 --directory "$TMP/www-client" 8000 \
  >"$TMP/http-client.log" 2>&1 &
PIDS+=($!)
wait_for "the server's web server" 10 ip netns exec $SERVER sh -c "ss -ltn | grep -q 10.1.0.100:8080"
wait_for "the client's web server" 10 ip netns exec $CLIENT sh -c "ss -ltn | grep -q 192.168.1.10:8000"

# fetch NS SOURCE URL: GET with the given source address (or "any"), prints the body; bounded.
cat >"$TMP/fetch.py" <<'PY'
import sys
import urllib.parse
import http.client
src, url = sys.argv[1], urllib.parse.urlsplit(sys.argv[2])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5,
                                  source_address=None if src == "any" else (src, 0))
conn.request("GET", url.path or "/")
print(conn.getresponse().read().decode().strip())
PY
fetch() { timeout 15 ip netns exec "$1" python3 "$TMP/fetch.py" "$2" "$3" 2>/dev/null; }
fetch_gets() { [ "$(fetch "$1" "$2" "$3")" = "$4" ]; }   # NS SOURCE URL EXPECTED_BODY
fetch_fails() { ! fetch "$1" "$2" "$3" >/dev/null; }      # NS SOURCE URL
logged_from() { wait_for "a request from $2 in $1" 5 grep -q "^${2//./\\.} - .*\"GET / " "$1"; }
# echo requests the kernel of namespace NS has received (Icmp InEchos of /proc/net/snmp)
in_echos() {
  ip netns exec "$1" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 }
                                      else print $col["InEchos"] }' /proc/net/snmp
}
ping_ok() { timeout 15 ip netns exec "$1" ping -c 2 -W 2 -q "$2" >/dev/null; }   # NS ADDRESS
neigh_is_box() { ip -n "$1" neigh show "$2" | grep -qi "lladdr 02:b2:00:00:00:02"; }

# --- masquerading -------------------------------------------------------------------------
check "masquerading: the client (from 192.168.1.11) fetches http://10.1.0.100:8080/" \
  fetch_gets $CLIENT 192.168.1.11 http://10.1.0.100:8080/ "company server"
check "masquerading: the server saw the request from the box's address 10.1.0.1" \
  logged_from "$TMP/http-server.log" 10.1.0.1

# --- 1:1 NAT --------------------------------------------------------------------------------
echos_before=$(in_echos $CLIENT)
check "1:1 NAT: the server pings 10.1.1.10 and gets the answers" \
  ping_ok $SERVER 10.1.1.10
check "1:1 NAT: the box answered ARP for 10.1.1.10 with its external MAC" \
  neigh_is_box $SERVER 10.1.1.10
check "1:1 NAT: the echo requests reached 192.168.1.10 in the client namespace" \
  test "$(in_echos $CLIENT)" -ge $((echos_before + 2))
check "1:1 NAT: the client's own connection (from 192.168.1.10) leaves from 10.1.1.10 (before masquerading)" \
  fetch_gets $CLIENT 192.168.1.10 http://10.1.0.100:8080/ "company server"
check "1:1 NAT: the server saw that request from 10.1.1.10" \
  logged_from "$TMP/http-server.log" 10.1.1.10
check "1:1 NAT: TCP to 10.1.1.10 stays blocked (the incoming rule allows ICMP only)" \
  fetch_fails $SERVER any http://10.1.1.10:8000/

# --- port forwarding --------------------------------------------------------------------------
check "port forwarding: the server fetches http://10.1.0.1:8081/ and reaches 192.168.1.10:8000" \
  fetch_gets $SERVER any http://10.1.0.1:8081/ "production client"
check "port forwarding: the client's web server saw the server's own address 10.1.0.100" \
  logged_from "$TMP/http-client.log" 10.1.0.100

# --- many connections at once ----------------------------------------------------------------
# With WORKERS=2 (the netns-*-2workers tests) a translated connection's directions hash to
# different queues; worker 0 must own them all (docs/conntrack.md, "Several workers").
check "masquerading: 12 concurrent TCP transfers from 192.168.1.11 arrive intact" \
  transfers $CLIENT $SERVER 10.1.0.100 7007 192.168.1.11
check "1:1 NAT: 12 concurrent TCP transfers from 192.168.1.10 arrive intact" \
  transfers $CLIENT $SERVER 10.1.0.100 7007 192.168.1.10
check "port forwarding: 12 concurrent TCP transfers to 10.1.0.1:7007 reach 192.168.1.10 intact" \
  transfers $SERVER $CLIENT 10.1.0.1 7007
if [ "${WORKERS:-1}" = 2 ]; then
  check "the second worker handed traffic to the first" \
    sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' | awk '\$1 == \"handed_to_owner\" && \$2 > 0 {found=1} END {exit !found}'"
fi

# --- visibility -----------------------------------------------------------------------------
if "$BUILD/tools/bulwark" nat --help >/dev/null 2>&1; then
  timeout 10 "$BUILD/tools/bulwark" nat --socket "$TMP/dp.sock" >"$TMP/nat.out" 2>&1 || true
  check "bulwark nat shows the 1:1 mapping 192.168.1.10 <-> 10.1.1.10" \
    sh -c "grep -q '192\.168\.1\.10' '$TMP/nat.out' && grep -q '10\.1\.1\.10' '$TMP/nat.out'"
  check "bulwark nat shows the port forwarding 8081 -> 192.168.1.10:8000" \
    sh -c "grep -q '8081' '$TMP/nat.out' && grep -q '8000' '$TMP/nat.out'"
  check "bulwark nat shows the masqueraded connection 192.168.1.11 -> 10.1.0.1 as an active translation" \
    sh -c "grep '192\.168\.1\.11:' '$TMP/nat.out' | grep -q '10\.1\.0\.1:'"
  check "bulwark nat --json prints JSON" \
    sh -c "timeout 10 '$BUILD/tools/bulwark' nat --json --socket '$TMP/dp.sock' | python3 -c 'import json, sys; json.load(sys.stdin)'"
else
  echo "note: 'bulwark nat' does not exist yet: its checks are skipped"
fi

finish
