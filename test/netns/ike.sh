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
  ip netns exec "$1" "$IKED" --run-dir "$TMP/$2" "$3" >"$TMP/$2.log" 2>&1 &
  PIDS+=($!)
}
start_iked $B2 box2 "$TMP/box2.yaml"
wait_for "box 2's control socket" 20 test -S "$TMP/box2/iked.sock"
start_iked $B1 box1 "$TMP/box1.yaml"
wait_for "box 1's control socket" 20 test -S "$TMP/box1/iked.sock"

sa_json() { "$BULWARK" sa --socket "$TMP/$1/iked.sock" --json; }
sa_count() { sa_json "$1" | /usr/bin/python3 -c "import json,sys; print(len(json.load(sys.stdin)['sas']))"; }

check "the tunnel comes up: two SAs in each backend" \
  wait_for "the CHILD_SA" 20 sh -c "[ \"\$(cd / && '$BULWARK' sa --socket '$TMP/box1/iked.sock' --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"sas\"]))')\" = 2 ] && [ \"\$('$BULWARK' sa --socket '$TMP/box2/iked.sock' --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"sas\"]))')\" = 2 ]"
sa_json box1 >"$TMP/sa1.json"
sa_json box2 >"$TMP/sa2.json"
check "outbound keys of each side are the inbound keys of the other, SPI for SPI" \
  /usr/bin/python3 - "$TMP/sa1.json" "$TMP/sa2.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["sas"] for p in sys.argv[1:3])
def by_spi(sas, direction):
    return {s["spi"]: s for s in sas if s["direction"] == direction}
for out, inn in ((a, b), (b, a)):
    o, i = by_spi(out, "out"), by_spi(inn, "in")
    assert o and o.keys() == i.keys(), (o.keys(), i.keys())
    for spi in o:
        assert o[spi]["enc_key_sha256"] == i[spi]["enc_key_sha256"] != "", (o[spi], i[spi])
        assert o[spi]["encryption"] == i[spi]["encryption"] == "AES_GCM_16"
        assert o[spi]["mode"] == "tunnel" and o[spi]["src"] == i[spi]["src"] and o[spi]["dst"] == i[spi]["dst"]
PY
check "the SAs carry the tunnel's selectors" \
  grep -q '"local_ts": "192.168.1.0/24", "remote_ts": "192.168.2.0/24"' "$TMP/sa1.json"
check "policies in, out and forward are installed" \
  sh -c "grep -o '\"direction\": \"[a-z]*\"' '$TMP/sa1.json' | sort -u | tr '\n' ' ' | grep -q 'fwd.*in.*out'"
check "no key and no PSK in the logs or listings" \
  sh -c "! grep -q -F \"\$VPN_PSK\" '$TMP/box1.log' '$TMP/box2.log' '$TMP/sa1.json' '$TMP/sa2.json'"

# A short ESP lifetime: the backend's soft expiry makes charon rekey.
box_config 1 10.1.0.101 2 10.1.0.102 initiate 12s >"$TMP/box1.yaml"
kill -HUP "${PIDS[1]}"
OLD_SPIS=$(/usr/bin/python3 -c "import json; print(' '.join(str(s['spi']) for s in json.load(open('$TMP/sa1.json'))['sas']))")
check "a changed lifetime is loaded on SIGHUP and the tunnel re-established or rekeyed" \
  wait_for "the reload" 10 grep -q "loaded 1 VPN connections" "$TMP/box1.log"
"$BULWARK" sa --socket "$TMP/box1/iked.sock" >/dev/null
check "the soft lifetime makes charon rekey: new SPIs replace the old ones" \
  wait_for "a rekey" 40 sh -c "grep -q 'SA soft lifetime reached' '$TMP/box1.log' && '$BULWARK' sa --socket '$TMP/box1/iked.sock' --json | /usr/bin/python3 -c \"import json,sys; new={s['spi'] for s in json.load(sys.stdin)['sas']}; old=set(map(int,'$OLD_SPIS'.split())); assert len(new)==2 and not (new & old)\""

# swanctl works against the daemon's VICI socket; terminating removes SAs and policies.
VICI1="unix://$TMP/box1/charon.vici"
check "swanctl --list-sas works against bulwark-iked" \
  sh -c "swanctl --list-sas --uri '$VICI1' | grep -q 'to-box2: #'"
check "terminating the IKE_SA removes SAs and policies on both sides" \
  sh -c "swanctl --terminate --ike to-box2 --uri '$VICI1' >/dev/null 2>&1 && for b in box1 box2; do
           for i in \$(seq 100); do '$BULWARK' sa --socket '$TMP/'\$b/iked.sock --json | grep -q '\"sas\": \[\], \"policies\": \[\]' && break; sleep 0.1; done
           '$BULWARK' sa --socket '$TMP/'\$b/iked.sock --json | grep -q '\"sas\": \[\], \"policies\": \[\]' || exit 1
         done"
finish
