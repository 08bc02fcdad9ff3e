#!/usr/bin/env bash
# End-to-end: router mode with the external address from a real DHCP server (docs/dhcp.md).
#
#   client 192.168.1.10 ── internal ┐ Bulwark ┌ external (dhcp: true) ── ISP: dnsmasq 198.51.100.1/24
#                        192.168.1.1/24                                  (router, web server, UDP sink)
#
# * the box gets 198.51.100.50/24 from dnsmasq, its default route via 198.51.100.1, and the
#   address is the exception path's (the ISP pings it) and %extern (the ISP reaches the client's
#   web server through port forwarding); masquerading hides the client behind it;
# * the ISP renumbers: dnsmasq restarts with only 198.51.100.60 to give and NAKs the old lease
#   at the box's renewal (T1, at most 60 s with dnsmasq's shortest lease of 2 minutes); the box
#   takes 198.51.100.60 without a restart: forwarding, masquerading and ping follow, the old
#   address is gone, and the masqueraded UDP flow of the old address was aborted (conntrack_aborted)
#   and continues as a new connection from the new address.
# Usage: dhcp_uplink.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

command -v udhcpc >/dev/null || [ -x /sbin/udhcpc ] || { echo "udhcpc is not installed"; exit 1; }
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || { echo "dnsmasq is not installed"; exit 1; }

BOX=bdb-$TAG HOST=bdh-$TAG CLIENT=bdc-$TAG ISP=bdi-$TAG
for ns in $BOX $HOST $CLIENT $ISP; do new_ns "$ns"; done
link $BOX int $CLIENT eth0
link $BOX ext $ISP eth0
ip -n $CLIENT addr add 192.168.1.10/24 dev eth0
ip -n $CLIENT route add default via 192.168.1.1
ip -n $ISP addr add 198.51.100.1/24 dev eth0
# The ISP has no route to 192.168.1.0/24: only translated traffic comes back.

# dnsmasq as the ISP's DHCP server, handing out the one address FIRST; DHCP only (port 0: no DNS).
start_dhcp() {
  rm -f "$TMP/isp.leases"
  ip netns exec $ISP /usr/sbin/dnsmasq --conf-file=/dev/null --no-daemon --port=0 --user=root \
    --interface=eth0 --bind-interfaces --dhcp-authoritative --log-dhcp \
    --dhcp-range="$1,$1,255.255.255.0,2m" --dhcp-option=option:router,198.51.100.1 \
    --dhcp-leasefile="$TMP/isp.leases" >>"$TMP/dnsmasq.log" 2>&1 &
  DHCP_PID=$!
  PIDS+=($DHCP_PID)
}
start_dhcp 198.51.100.50

cat >"$TMP/box.yaml" <<YAML
version: 1
system:
  hostname: branch-box
  log_file: $TMP/bulwark.log
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-dhcp-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_dhcp${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b4:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_dhcp${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b4:00:00:00:02"
    dhcp: true
nat:
  masquerade:
    - {interface: external, from: 192.168.1.0/24}
  port_forwarding:
    - {protocol: tcp, incoming_ip: '%extern', incoming_port: 8081, redirect_ip: 192.168.1.10, redirect_port: 8000}
firewall:
  outgoing: {default: accept}
  incoming:
    default: rules
    rules:
      - {protocol: icmp, action: accept, comment: the ISP may ping the box}
YAML
"$BUILD/tools/bulwark" check "$TMP/box.yaml" >/dev/null
start_box $BOX

mkdir -p "$TMP/www-client" "$TMP/www-isp"
echo "production client" >"$TMP/www-client/index.html"
echo "the internet" >"$TMP/www-isp/index.html"
ip netns exec $CLIENT python3 -m http.server --bind 192.168.1.10 --directory "$TMP/www-client" 8000 \
  >"$TMP/http-client.log" 2>&1 &
PIDS+=($!)
ip netns exec $ISP python3 -m http.server --bind 198.51.100.1 --directory "$TMP/www-isp" 8080 \
  >"$TMP/http-isp.log" 2>&1 &
PIDS+=($!)
# The ISP's UDP sink writes the source of every datagram; the client sends one every 0.2 s from
# port 40000 for the whole test: one masqueraded connection that outlives the first lease.
cat >"$TMP/udp.py" <<'PY'
import socket, sys, time
if sys.argv[1] == "sink":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.1", 9999))
    while True:
        data, (host, port) = s.recvfrom(2048)
        print(host, port, flush=True)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("192.168.1.10", 40000))
    while True:
        try:
            s.sendto(b"tick", ("198.51.100.1", 9999))
        except OSError:
            pass
        time.sleep(0.2)
PY
ip netns exec $ISP python3 "$TMP/udp.py" sink >"$TMP/udp-sources.txt" 2>"$TMP/udp-sink.log" &
PIDS+=($!)
ip netns exec $CLIENT python3 "$TMP/udp.py" source 2>"$TMP/udp-source.log" &
PIDS+=($!)
wait_for "the client's web server" 10 ip netns exec $CLIENT sh -c "ss -ltn | grep -q 192.168.1.10:8000"
wait_for "the ISP's web server" 10 ip netns exec $ISP sh -c "ss -ltn | grep -q 198.51.100.1:8080"

cat >"$TMP/fetch.py" <<'PY'
import sys, urllib.parse, http.client
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
conn.request("GET", url.path or "/")
print(conn.getresponse().read().decode().strip())
PY
fetch_gets() { [ "$(timeout 15 ip netns exec "$1" python3 "$TMP/fetch.py" "$2" 2>/dev/null)" = "$3" ]; }
ping_ok() { timeout 10 ip netns exec "$1" ping -c 1 -W 2 -q "$2" >/dev/null; }
ping_fails() { ! timeout 10 ip netns exec "$1" ping -c 2 -W 1 -q "$2" >/dev/null; }
tap_has() { ip -n $HOST -4 -o addr show dev bw-external | grep -q " inet $1 "; }
status() { "$BUILD/tools/bulwark" status --socket "$TMP/dp.sock" --control-socket "$TMP/ctl.sock"; }
drops() { status | awk -v name="$1" '$1 == "dropped" && $2 == name {print $3; found=1} END {if (!found) print 0}'; }
udp_seen_from() { wait_for "a datagram from $1" 10 grep -q "^${1//./\\.} " "$TMP/udp-sources.txt"; }

# --- the first lease ------------------------------------------------------------------------
check "the box gets 198.51.100.50/24 from dnsmasq (bulwark status)" \
  wait_for "the first lease" 30 sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' | grep -q 'dhcp external: 198.51.100.50/24 router 198.51.100.1'"
status >"$TMP/status-first-lease.log" 2>&1 || true
check "the exception path has the leased address" wait_for "the address on the tap" 10 tap_has 198.51.100.50/24
check "and the default route via the lease's router" wait_for "the default route" 10 \
  sh -c "ip -n $HOST route show default | grep -q 'via 198.51.100.1 dev bw-external'"
check "dnsmasq logged the box's host name" wait_for "the host name" 5 grep -q "branch-box" "$TMP/dnsmasq.log"
check "the ISP pings the box at 198.51.100.50" ping_ok $ISP 198.51.100.50
check "port forwarding to %extern: the ISP reaches the client's web server at 198.51.100.50:8081" \
  fetch_gets $ISP http://198.51.100.50:8081/ "production client"
check "masquerading: the client fetches a page from the ISP" fetch_gets $CLIENT http://198.51.100.1:8080/ "the internet"
check "masquerading: the ISP sees the client's datagrams from 198.51.100.50" udp_seen_from 198.51.100.50
aborted_before=$(drops conntrack_aborted)

# --- renumbering -----------------------------------------------------------------------------
kill $DHCP_PID
wait $DHCP_PID 2>/dev/null || true
start_dhcp 198.51.100.60
check "at its renewal the box is refused the old address and gets 198.51.100.60/24" \
  wait_for "the new lease" 90 tap_has 198.51.100.60/24
check "the old address is gone from the exception path" wait_for "the old address to go" 10 sh -c "! ip -n $HOST -4 -o addr show dev bw-external | grep -q 198.51.100.50"
check "bulwark status shows the new lease" sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' | grep -q 'dhcp external: 198.51.100.60/24'"
check "bulwark status --json has the lease under dhcp" \
  sh -c "'$BUILD/tools/bulwark' status --json --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' |
         python3 -c 'import json, sys; d = json.load(sys.stdin)[\"dhcp\"][\"external\"]; assert d[\"address\"] == \"198.51.100.60/24\" and d[\"router\"] == \"198.51.100.1\" and d[\"lease_seconds\"] == 120, d'"
check "the default route is still via 198.51.100.1" \
  sh -c "ip -n $HOST route show default | grep -q 'via 198.51.100.1 dev bw-external'"
check "the ISP pings the box at 198.51.100.60" ping_ok $ISP 198.51.100.60
check "nothing answers at the old address 198.51.100.50" ping_fails $ISP 198.51.100.50
check "port forwarding follows: 198.51.100.60:8081 reaches the client's web server" \
  fetch_gets $ISP http://198.51.100.60:8081/ "production client"
check "masquerading follows: the client's datagrams now come from 198.51.100.60" udp_seen_from 198.51.100.60
check "the masqueraded connection of the old address was aborted (conntrack_aborted)" \
  sh -c "[ $(drops conntrack_aborted) -gt $aborted_before ]"
check "the control log tells the old lease's end and the new lease" \
  sh -c "grep -q 'dhcp: external: lease of 198.51.100.50/24 ended (nak)' '$TMP/control.log' &&
         grep -q 'dhcp: external: lease 198.51.100.60/24 router 198.51.100.1 from 198.51.100.1 for 120 s' '$TMP/control.log'"
status >"$TMP/status.log" 2>&1 || true
finish
