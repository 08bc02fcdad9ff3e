#!/usr/bin/env bash
# IKE end to end: two bulwark-iked daemons (libcharon with Bulwark's kernel_ipsec backend) in two
# network namespaces joined by a veth, the seed's gateways of chapter 10 (10.1.0.101 and
# 10.1.0.102, networks 192.168.1.0/24 and 192.168.2.0/24). IKEv2 with a PSK: box 1 initiates,
# box 2 waits. Both backends must hold matching SAs — the initiator's outbound keys are the
# responder's inbound keys for the same SPI — and policies; a short lifetime must rekey; a
# terminate must remove SAs and policies.
# Usage: ike.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
IKED="$BUILD/control/ike/bulwark-iked"
BULWARK="$BUILD/tools/bulwark"

B1=bwi1-$TAG B2=bwi2-$TAG
new_ns $B1
new_ns $B2
link $B1 ext $B2 wan
ip -n $B1 addr add 10.1.0.101/16 dev ext
ip -n $B2 addr add 10.1.0.102/16 dev wan
export VPN_PSK="psk-$RANDOM-$RANDOM-chapter-10"

# box N: number, own address, peer address or %any, local net, remote net, startup, lifetime
box_config() {
  cat <<YAML
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.$1.1/24]}
  - {name: external, role: external, port: net_null1, addresses: [$2/16]}
ipsec:
  connections:
    - name: to-box$3
      remote_gateway: $4
      startup: $5
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box$1.example.com, remote_id: box$3.example.com}
      ike: {version: 2, proposals: [aes256-sha256-modp2048]}
      esp: {proposals: [aes128gcm16-modp2048], lifetime: $6, rekey_margin: 5s}
      tunnels:
        - {type: tunnel, local: 192.168.$1.0/24, remote: 192.168.$3.0/24}
YAML
}
box_config 1 10.1.0.101 2 10.1.0.102 initiate 1h >"$TMP/box1.yaml"
box_config 2 10.1.0.102 1 "'%any'" wait 1h >"$TMP/box2.yaml"

start_iked() {  # NS NAME CONFIG
  ip netns exec "$1" "$IKED" --run-dir "$TMP/$2" --retransmit-timeout 0.5 "$3" >"$TMP/$2.log" 2>&1 &
  PIDS+=($!)
}
start_iked $B2 box2 "$TMP/box2.yaml"
IKED2=$!
wait_for "box 2's control socket" 20 test -S "$TMP/box2/iked.sock"
# Box 1's dataplane receives every SA and policy (it has no tables: no ports, no polling).
ip netns exec $B1 "$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dp1.sock" --no-exception-path \
  >"$TMP/dataplane1.log" 2>&1 &
DATAPLANE=$!
PIDS+=($DATAPLANE)
wait_for "box 1's dataplane socket" 20 test -S "$TMP/dp1.sock"
ip netns exec $B1 "$IKED" --run-dir "$TMP/box1" --retransmit-timeout 0.5 --dataplane-socket "$TMP/dp1.sock" \
  "$TMP/box1.yaml" >"$TMP/box1.log" 2>&1 &
IKED1=$!
PIDS+=($IKED1)
wait_for "box 1's control socket" 20 test -S "$TMP/box1/iked.sock"

sa_json() { "$BULWARK" sa --socket "$TMP/$1/iked.sock" --json; }
sa_count() { sa_json "$1" | /usr/bin/python3 -c "import json,sys; print(len(json.load(sys.stdin)['sas']))"; }

check "the tunnel comes up: two SAs in each backend" \
  wait_for "the CHILD_SA" 20 sh -c "[ \"\$(cd / && '$BULWARK' sa --socket '$TMP/box1/iked.sock' --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"sas\"]))')\" = 2 ] && [ \"\$('$BULWARK' sa --socket '$TMP/box2/iked.sock' --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"sas\"]))')\" = 2 ]"
sa_json box1 >"$TMP/sa1.json"
sa_json box2 >"$TMP/sa2.json"
# same_keys SA1.json SA2.json ENCRYPTION: each side's outbound SAs are the other's inbound ones,
# with the same key fingerprints, end points and mode.
same_keys() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
a, b = (json.load(open(p))["sas"] for p in sys.argv[1:3])
def by_spi(sas, direction):
    return {s["spi"]: s for s in sas if s["direction"] == direction}
for out, inn in ((a, b), (b, a)):
    o, i = by_spi(out, "out"), by_spi(inn, "in")
    assert o and o.keys() == i.keys(), (o.keys(), i.keys())
    for spi in o:
        assert o[spi]["enc_key_sha256"] == i[spi]["enc_key_sha256"] != "", (o[spi], i[spi])
        assert o[spi]["int_key_sha256"] == i[spi]["int_key_sha256"], (o[spi], i[spi])
        assert o[spi]["encryption"] == i[spi]["encryption"] == sys.argv[3], o[spi]["encryption"]
        assert o[spi]["mode"] == "tunnel" and o[spi]["src"] == i[spi]["src"] and o[spi]["dst"] == i[spi]["dst"]
PY
}
check "outbound keys of each side are the inbound keys of the other, SPI for SPI" \
  same_keys "$TMP/sa1.json" "$TMP/sa2.json" AES_GCM_16
# dataplane_view SOCKET: the SAs (spi, direction, key fingerprints) and policies, sorted.
dataplane_view() {
  "$BULWARK" sa --socket "$1" --json | /usr/bin/python3 -c "import json,sys
d=json.load(sys.stdin)
print(sorted((s['spi'], s['direction'], s['enc_key_sha256']) for s in d['sas']), sorted((p['direction'], p['src_ts'], p['dst_ts']) for p in d['policies']))"
}
same_view() { [ "$(dataplane_view "$TMP/dp1.sock")" = "$(dataplane_view "$TMP/box1/iked.sock")" ]; }
check "the dataplane holds the same SAs and policies as the IKE backend (keys as fingerprints)" \
  wait_for "the dataplane's copy" 10 same_view
kill $DATAPLANE; wait $DATAPLANE 2>/dev/null || true
ip netns exec $B1 "$BUILD/dataplane/bulwark-dataplane" --socket "$TMP/dp1.sock" --no-exception-path \
  >"$TMP/dataplane1b.log" 2>&1 &
DATAPLANE=$!
PIDS+=($DATAPLANE)
check "a restarted dataplane gets the whole state again" \
  wait_for "the resync" 10 sh -c "'$BULWARK' sa --socket '$TMP/dp1.sock' | grep -q '^SA '"
check "... and it is the same state" same_view
check "no key in clear in the dataplane's listing" \
  sh -c "! '$BULWARK' sa --socket '$TMP/dp1.sock' --json | grep -q 'enc_key\"'"
check "the SAs carry the tunnel's selectors" \
  grep -q '"local_ts": "192.168.1.0/24", "remote_ts": "192.168.2.0/24"' "$TMP/sa1.json"
check "policies in, out and forward are installed" \
  sh -c "grep -o '\"direction\": \"[a-z]*\"' '$TMP/sa1.json' | sort -u | tr '\n' ' ' | grep -q 'fwd.*in.*out'"
check "bulwark vpn status shows the established tunnel with its SAs" \
  sh -c "'$BULWARK' vpn status to-box2 --socket '$TMP/box1/iked.sock' >'$TMP/status.out' && grep -q '^to-box2: established$' '$TMP/status.out' && [ \$(grep -c '^SA ' '$TMP/status.out') -eq 2 ] && grep -q '^policy out 192.168.1.0/24 -> 192.168.2.0/24' '$TMP/status.out'"
check "bulwark vpn list on the responder shows the connection established" \
  sh -c "'$BULWARK' vpn list --socket '$TMP/box2/iked.sock' | grep -q '^to-box1: established$'"
check "no key and no PSK in the logs or listings" \
  sh -c "! grep -q -F \"\$VPN_PSK\" '$TMP/box1.log' '$TMP/box2.log' '$TMP/sa1.json' '$TMP/sa2.json'"

# Reloading an unchanged configuration leaves the running tunnel alone.
IKE_UPS=$(grep -c 'IKE SA up' "$TMP/box1.log")
kill -HUP $IKED1
wait_for "the unchanged reload" 10 sh -c "[ \$(grep -c 'loaded 1 VPN connections' '$TMP/box1.log') -ge 2 ]"
sleep 1
sa_json box1 >"$TMP/sa1-after.json"
check "an unchanged connection survives a reload: same SAs, no new IKE SA" \
  sh -c "cmp -s '$TMP/sa1.json' '$TMP/sa1-after.json' && [ \$(grep -c 'IKE SA up' '$TMP/box1.log') -eq $IKE_UPS ]"

# A short ESP lifetime: the backend's soft expiry makes charon rekey.
box_config 1 10.1.0.101 2 10.1.0.102 initiate 12s >"$TMP/box1.yaml"
kill -HUP $IKED1
OLD_SPIS=$(/usr/bin/python3 -c "import json; print(' '.join(str(s['spi']) for s in json.load(open('$TMP/sa1.json'))['sas']))")
check "a changed lifetime is loaded on SIGHUP" \
  wait_for "the reload" 10 sh -c "[ \$(grep -c 'loaded 1 VPN connections' '$TMP/box1.log') -ge 3 ]"
"$BULWARK" sa --socket "$TMP/box1/iked.sock" >/dev/null
# After a rekey the new outbound SA replaces the old one at once; charon keeps the old inbound SA
# a few seconds longer (delete_rekeyed_delay) for packets still on their way.
check "the soft lifetime makes charon rekey: a new outbound SA replaces the old one" \
  wait_for "a rekey" 40 sh -c "grep -q 'SA soft lifetime reached' '$TMP/box1.log' && '$BULWARK' sa --socket '$TMP/box1/iked.sock' --json | /usr/bin/python3 -c \"import json,sys; sas=json.load(sys.stdin)['sas']; old=set(map(int,'$OLD_SPIS'.split())); out=[s['spi'] for s in sas if s['direction']=='out']; assert len(out)==1 and out[0] not in old and any(s['direction']=='in' and s['spi'] not in old for s in sas)\""

# swanctl works against the daemon's VICI socket; terminating removes SAs and policies.
VICI1="unix://$TMP/box1/charon.vici"
check "swanctl --list-sas works against bulwark-iked" \
  sh -c "swanctl --list-sas --uri '$VICI1' | grep -q 'to-box2: #'"
check "terminating the IKE_SA removes SAs and policies on both sides" \
  sh -c "swanctl --terminate --ike to-box2 --uri '$VICI1' >/dev/null 2>&1 && for b in box1 box2; do
           for i in \$(seq 100); do '$BULWARK' sa --socket '$TMP/'\$b/iked.sock --json | grep -q '\"sas\": \[\], \"policies\": \[\]' && break; sleep 0.1; done
           '$BULWARK' sa --socket '$TMP/'\$b/iked.sock --json | grep -q '\"sas\": \[\], \"policies\": \[\]' || exit 1
         done"

kill $IKED1 $IKED2 $DATAPLANE
wait $IKED1 $IKED2 $DATAPLANE 2>/dev/null || true

# Further pairs of fresh daemons: IKEv2 with X.509 certificates from a CA made here, and IKEv1
# main mode with a PSK (AES-CBC with HMAC-SHA2-256).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Bulwark lab CA" -keyout "$TMP/ca.key" \
  -out "$TMP/ca.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Another CA" -keyout "$TMP/other-ca.key" \
  -out "$TMP/other-ca.pem" 2>/dev/null
printf 'p12-%s\n' "$RANDOM" >"$TMP/p12.pass"
for n in 1 2; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=box$n.example.com" -keyout "$TMP/box$n.key" \
    -out "$TMP/box$n.csr" 2>/dev/null
  printf 'subjectAltName=DNS:box%s.example.com\n' "$n" >"$TMP/box$n.ext"
  openssl x509 -req -in "$TMP/box$n.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial -days 2 \
    -extfile "$TMP/box$n.ext" -out "$TMP/box$n.pem" 2>/dev/null
  openssl pkcs12 -export -inkey "$TMP/box$n.key" -in "$TMP/box$n.pem" -passout "file:$TMP/p12.pass" \
    -out "$TMP/box$n.p12"
done

# pair NAME N BLOCK: box N's configuration with the connection block BLOCK (placeholders PEER,
# GATEWAY, STARTUP, SELF).
pair_config() {
  local n=$1 peer=$((3 - $1)) block=$2 gateway startup
  if [ "$n" = 1 ]; then gateway=${GATEWAY:-10.1.0.102} startup=initiate; else gateway=${RESPONDER_GATEWAY:-"'%any'"} startup=wait; fi
  cat <<YAML
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.$n.1/24]}
  - {name: external, role: external, port: net_null1, addresses: [10.1.0.10$n/16]}
ipsec:
  certificates:
    machine: [{name: box$n, pkcs12: $TMP/box$n.p12, password: {file: $TMP/p12.pass}}]
    ca: [{name: lab-ca, pem: $TMP/ca.pem}, {name: other-ca, pem: $TMP/other-ca.pem}]
  connections:
    - name: to-box$peer
      remote_gateway: $gateway
      startup: $startup
$(echo "$block" | sed "s/SELF/$n/g; s/PEER/$peer/g")
      tunnels:
        - {type: tunnel, local: 192.168.$n.0/24, remote: 192.168.$peer.0/24}
YAML
}

run_pair() {  # NAME ENCRYPTION BLOCK [BLOCK FOR BOX 2]
  local name=$1 encryption=$2 block=$3
  pair_config 2 "${4:-$block}" >"$TMP/$name-2.yaml"
  pair_config 1 "$block" >"$TMP/$name-1.yaml"
  start_iked $B2 "$name-2" "$TMP/$name-2.yaml"
  local responder=$!
  wait_for "the $name responder" 20 test -S "$TMP/$name-2/iked.sock"
  start_iked $B1 "$name-1" "$TMP/$name-1.yaml"
  local initiator=$!
  wait_for "the $name initiator" 20 test -S "$TMP/$name-1/iked.sock"
  check "$name: the tunnel comes up" \
    wait_for "the $name CHILD_SA" 20 sh -c "[ \"\$('$BULWARK' sa --socket '$TMP/$name-1/iked.sock' --json | grep -o '\"spi\"' | wc -l)\" = 2 ] && [ \"\$('$BULWARK' sa --socket '$TMP/$name-2/iked.sock' --json | grep -o '\"spi\"' | wc -l)\" = 2 ]"
  sa_json "$name-1" >"$TMP/$name-1.json"
  sa_json "$name-2" >"$TMP/$name-2.json"
  check "$name: both backends hold matching SAs" same_keys "$TMP/$name-1.json" "$TMP/$name-2.json" "$encryption"
  kill "$initiator" "$responder"
  wait "$initiator" "$responder" 2>/dev/null || true
}

run_pair ikev2-x509 AES_GCM_16 "      authentication: {method: x509, local_certificate: boxSELF, remote_ca: lab-ca, remote_id: 'CN=boxPEER.example.com'}
      ike: {version: 2}"
# IKEv1 main mode chooses the PSK by the peer's address: the responder names its peer.
RESPONDER_GATEWAY=10.1.0.101 run_pair ikev1-main-psk AES_CBC "      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: boxSELF.example.com, remote_id: boxPEER.example.com}
      ike: {version: 1, mode: main, proposals: [aes256-sha256-modp2048]}
      esp: {proposals: [aes256-sha256-modp2048]}"
check "no private key, PSK or certificate password in any log" \
  sh -c "! grep -q -F -e \"\$VPN_PSK\" -e \"\$(cat '$TMP/p12.pass')\" '$TMP'/*.log"

# Manual chapter 15: each failure is named, with what to check, by `bulwark vpn status` on the
# initiator (box 1) and, where the responder sees it, on box 2; `bulwark vpn up` fails with it.
PSK_AUTH="      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: boxSELF.example.com, remote_id: boxPEER.example.com}"
failure() {  # NAME INITIATOR_TEXT RESPONDER_TEXT BLOCK1 BLOCK2
  local name=$1 expect1=$2 expect2=$3
  pair_config 2 "$5" | sed "s#remote: 192.168.1.0/24#remote: ${REMOTE2:-192.168.1.0/24}#" >"$TMP/$name-2.yaml"
  pair_config 1 "$4" | sed 's/startup: initiate/startup: initiate\n      initial_mode: stopped/' >"$TMP/$name-1.yaml"
  start_iked $B2 "$name-2" "$TMP/$name-2.yaml"
  local responder=$!
  start_iked $B1 "$name-1" "$TMP/$name-1.yaml"
  local initiator=$!
  wait_for "the $name daemons" 20 sh -c "test -S '$TMP/$name-1/iked.sock' && test -S '$TMP/$name-2/iked.sock'"
  "$BULWARK" vpn up to-box2 --socket "$TMP/$name-1/iked.sock" >"$TMP/$name-up.out" 2>&1 && echo "unexpectedly up"
  check "$name: bulwark vpn up fails and says why" grep -q "$expect1" "$TMP/$name-up.out"
  check "$name: the initiator's status names the problem" \
    sh -c "'$BULWARK' vpn status to-box2 --socket '$TMP/$name-1/iked.sock' | grep -q 'last problem .*$expect1'"
  if [ -n "$expect2" ]; then
    check "$name: the responder's status names it too" \
      wait_for "the responder's diagnosis" 10 sh -c "'$BULWARK' vpn status to-box1 --socket '$TMP/$name-2/iked.sock' | grep -q 'last problem .*$expect2'"
  fi
  kill "$initiator" "$responder"
  wait "$initiator" "$responder" 2>/dev/null || true
}
GATEWAY=10.1.0.199 failure unreachable "peer unreachable" "" "$PSK_AUTH" "$PSK_AUTH"
failure ike-proposals "IKE proposal mismatch" "IKE proposal mismatch" \
  "$PSK_AUTH
      ike: {proposals: [aes128-sha256-modp2048]}" "$PSK_AUTH
      ike: {proposals: [aes256-sha384-ecp384]}"
failure esp-proposals "ESP proposal mismatch" "ESP proposal mismatch" \
  "$PSK_AUTH
      esp: {proposals: [aes128gcm16-modp2048]}" "$PSK_AUTH
      esp: {proposals: [aes256-sha256-modp2048]}"
RESPONDER_GATEWAY=10.1.0.101 failure pfs "also check esp.pfs" "also check esp.pfs" \
  "$PSK_AUTH
      ike: {version: 1}
      esp: {proposals: [aes128-sha256-modp2048], pfs: true}" "$PSK_AUTH
      ike: {version: 1}
      esp: {proposals: [aes128-sha256-modp2048], pfs: false}"
REMOTE2=10.99.0.0/24 failure selectors "traffic selector mismatch" "traffic selector mismatch" "$PSK_AUTH" "$PSK_AUTH"
X509_AUTH="      authentication: {method: x509, local_certificate: boxSELF, remote_ca: lab-ca, remote_id: 'CN=boxPEER.example.com'}"
failure certificate "the peer rejected our authentication" "authentication of the peer failed" \
  "$X509_AUTH" "$(echo "$X509_AUTH" | sed 's/remote_ca: lab-ca/remote_ca: other-ca/')"
export VPN_PSK_OTHER=other-$RANDOM
failure psk "the peer rejected our authentication" "authentication of the peer failed" \
  "$PSK_AUTH" "$(echo "$PSK_AUTH" | sed 's/env: VPN_PSK/env: VPN_PSK_OTHER/')"
failure identity "the peer rejected our authentication" "" \
  "$PSK_AUTH" "$(echo "$PSK_AUTH" | sed 's/remote_id: boxPEER.example.com/remote_id: someone-else.example.com/')"
finish
