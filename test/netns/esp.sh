#!/usr/bin/env bash
# End-to-end: two Bulwark boxes connect their production networks by an IPsec tunnel (manual
# chapter 10): bulwark-control runs bulwark-iked in each box's exception namespace, IKE reaches it
# through the exception path, the SAs go to the dataplanes, and the dataplanes encrypt and
# decrypt the traffic between the hosts behind them.
#
#   host1 (192.168.1.10) ── box1 [192.168.1.1 | 10.1.0.1] ══ ESP ══ [10.1.0.2 | 192.168.2.1] box2 ── host2 (192.168.2.20)
#
# Checked: the tunnel comes up, both dataplanes hold its SAs, ping and TCP pass between the hosts
# and only ESP (never their plaintext) crosses the wire between the boxes, the VPN firewall drops
# what its rules forbid, the SAs count the traffic and charon sees those counters (query_sa), and
# after `bulwark vpn down` the hosts cannot reach each other in plaintext.
# Usage: esp.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vpn_box.sh"
BULWARK="$BUILD/tools/bulwark"
HERE=$(cd "$(dirname "$0")" && pwd)

B1=bxa-$TAG B2=bxb-$TAG X1=bea-$TAG X2=beb-$TAG H1=bha-$TAG H2=bhb-$TAG
for ns in $B1 $B2 $X1 $X2 $H1 $H2; do new_ns "$ns"; done
link $B1 int $H1 eth0
link $B2 int $H2 eth0
link $B1 ext $B2 wan  # box 2 calls its end "wan": the pair needs two names
ip -n $H1 addr add 192.168.1.10/24 dev eth0
ip -n $H1 route add default via 192.168.1.1
ip -n $H2 addr add 192.168.2.20/24 dev eth0
ip -n $H2 route add default via 192.168.2.1
export VPN_PSK="esp-$RANDOM-$RANDOM-$RANDOM"

vpn_box_config 1 2 $X1 10.1.0.2 initiate ext 10.1.0.1/16 >"$TMP/box1.yaml"
vpn_box_config 2 1 $X2 "'%any'" wait wan 10.1.0.2/16 >"$TMP/box2.yaml"

start_vpn_box 2 $B2
start_vpn_box 1 $B1
wait_for "box 1's exception path" 30 ip -n $X1 addr show dev bw-external
wait_for "box 2's exception path" 30 ip -n $X2 addr show dev bw-external

up() { "$BULWARK" vpn status to-box2 --socket "$TMP/iked1/iked.sock" 2>/dev/null | grep -q '^to-box2: established$'; }
check "the tunnel comes up through both exception paths" wait_for "the tunnel" 60 up
for n in 1 2; do
  check "dataplane $n holds the tunnel's two SAs" \
    wait_for "SAs in dataplane $n" 10 sh -c "[ \$('$BULWARK' sa --socket '$TMP/dp$n.sock' | grep -c '^SA ') -eq 2 ]"
done

# Each end of the wire sees what the other box sends (a dataplane transmits past the packet taps
# of its own end: qdisc_bypass), so both ends are watched.
watch_wire $B1 ext 8 "$TMP/wire1.json" 192.168.1.10 192.168.2.20
watch_wire $B2 wan 8 "$TMP/wire2.json" 192.168.1.10 192.168.2.20
check "host 1 pings host 2 through the tunnel" ip netns exec $H1 ping -c 5 -i 0.2 -W 2 192.168.2.20
check "the box itself reaches the remote network through the tunnel (from its internal address)" \
  ip netns exec $X1 ping -c 3 -i 0.2 -W 2 192.168.2.20
ip netns exec $H2 python3 "$HERE/echo_server.py" 192.168.2.20 7007 >"$TMP/echo.log" 2>&1 &
PIDS+=($!)
wait_for "the echo server" 10 ip netns exec $H2 python3 -c "import socket; socket.create_connection(('192.168.2.20', 7007), 1)"
check "TCP from host 1 to host 2 through the tunnel" \
  sh -c "printf 'one\ntwo\nthree\n' | ip netns exec $H1 python3 '$HERE/echo_client.py' 192.168.2.20 7007 | grep -c '^ok' | grep -qx 3"
wait_wires
cat "$TMP/wire1.json" "$TMP/wire2.json"
check "only ESP crossed the wire, both ways: no plaintext of the hosts" \
  python3 -c "import json,sys; a, b = (json.load(open('$TMP/wire%d.json' % n)) for n in (1, 2)); sys.exit(0 if min(a['esp'], b['esp']) >= 5 and a['esp'] + b['esp'] >= 20 and a['plaintext'] + b['plaintext'] == 0 else 1)"

packets() {  # N: packets counted by dataplane N's SAs
  "$BULWARK" sa --socket "$TMP/dp$1.sock" --json | python3 -c "import json,sys; print(sum(s['packets'] for s in json.load(sys.stdin)['sas']))"
}
counted() { [ "$(packets 1)" -ge 10 ] && [ "$(packets 2)" -ge 10 ]; }
check "the dataplanes' SAs count the traffic" counted
check "charon sees the dataplane's counters (query_sa)" wait_for "counters in charon" 10 \
  sh -c "ip netns exec $X1 swanctl --list-sas --uri unix://$TMP/iked1/charon.vici 2>/dev/null | grep -Eq 'in .*[1-9][0-9]* bytes, +[1-9][0-9]* packets'"
# UDP to port 7008 crosses the tunnel but box 2's VPN firewall drops it.
ip netns exec $H2 python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.168.2.20', 7008)); s.settimeout(3)
try:
    s.recv(100); print('received')
except socket.timeout:
    print('nothing')" >"$TMP/udp.out" &
UDP=$!
sleep 0.5
ip netns exec $H1 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b'x', ('192.168.2.20', 7008))"
wait $UDP || true
check "box 2's VPN firewall drops what its rules do not allow" grep -qx nothing "$TMP/udp.out"
check "... counted as a rule drop in box 2" \
  sh -c "'$BULWARK' status --socket '$TMP/dp2.sock' | grep -Eq 'dropped filter_rule_drop +[3-9]'"
check "no ESP failures were counted" \
  sh -c "! '$BULWARK' sa --socket '$TMP/dp2.sock' | grep -v 'replayed 0, authentication failed 0, malformed 0' | grep -q 'replayed'"

# A restarted dataplane gets its tables from bulwark-control and its SAs from bulwark-iked by
# themselves, but every SA starts afresh (sequence numbers, replay window): bulwark-iked notices
# by the instance id in the dataplane's counters and has the tunnel rekeyed, so traffic flows
# again at once. The kill waits for SAs that bulwark-iked has seen counted (it asks once a second).
out_spi() { "$BULWARK" sa --socket "$TMP/dp1.sock" --json | python3 -c "import json,sys; print(' '.join(str(s['spi']) for s in json.load(sys.stdin)['sas'] if s['direction'] == 'out'))"; }
counted_sas() { local before; before=$(out_spi); sleep 2.5; [ -n "$before" ] && [ "$(out_spi)" = "$before" ]; }
wait_for "SAs the dataplane has counted" 30 counted_sas
DP1=$(pgrep -f "bulwark-dataplane.* --socket $TMP/dp1.sock" | head -n1)
kill -9 "$DP1"
wait_for "the old dataplane's end" 10 sh -c "! kill -0 $DP1"
rm -f "$TMP/dp1.sock"
ip netns exec $B1 "$BUILD/dataplane/bulwark-dataplane" $(dataplane_eal) --socket "$TMP/dp1.sock" >"$TMP/dataplane1b.log" 2>&1 &
PIDS+=($!)
wait_for "the new dataplane" 20 test -S "$TMP/dp1.sock"
check "bulwark-control sends the restarted dataplane its tables by itself" \
  wait_for "the tables" 20 grep -q "bulwark-dataplane runs generation 0, not" "$TMP/control1.log"
check "after a dataplane restart the SAs are rekeyed" \
  wait_for "the rekey" 30 grep -q "started afresh in a restarted dataplane" "$TMP/control1.log"
check "... and host 1 reaches host 2 again" wait_for "traffic" 30 ip netns exec $H1 ping -c 1 -W 1 192.168.2.20

# Rekeying under traffic loses nothing: box 1's ESP lifetime drops to 12 s (rekeyed every few
# seconds) while host 1 pings host 2 twenty times a second for 15 s. Changing the connection
# re-establishes it first (charon replaces a changed connection's SAs, break before make): the
# pings start once the tunnel with the new lifetime carries traffic.
wait_for "the SAs after the restart's rekey" 30 counted_sas
OLD_OUT=$(out_spi)
sed -i 's/^      tunnels:$/      esp: {lifetime: 12s, rekey_margin: 5s}\n      tunnels:/' "$TMP/box1.yaml"
"$BULWARK" reload --socket "$TMP/ctl1.sock" >/dev/null
replaced() { [ -n "$(out_spi)" ] && [ "$(out_spi)" != "$OLD_OUT" ] && ip netns exec $H1 ping -c 1 -W 1 192.168.2.20; }
wait_for "the tunnel with the new lifetime" 30 replaced
OLD_OUT=$(out_spi)
ip netns exec $H1 ping -q -c 300 -i 0.05 -W 1 192.168.2.20 >"$TMP/rekey-ping.log" 2>&1 || true
cat "$TMP/rekey-ping.log" | tail -2
rekeyed() { [ -n "$OLD_OUT" ] && [ "$(out_spi)" != "$OLD_OUT" ]; }
check "the tunnel was rekeyed under traffic" rekeyed
check "... and not one of 300 pings was lost" grep -q " 0% packet loss" "$TMP/rekey-ping.log"

check "bulwark vpn down removes the SAs from the dataplane" \
  sh -c "'$BULWARK' vpn down to-box2 --socket '$TMP/iked1/iked.sock' >/dev/null && for i in \$(seq 100); do [ \$('$BULWARK' sa --socket '$TMP/dp1.sock' | grep -c '^SA ') -eq 0 ] && exit 0; sleep 0.1; done; exit 1"
check "... and the hosts no longer reach each other" sh -c "! ip netns exec $H1 ping -c 2 -i 0.2 -W 1 192.168.2.20"
finish
