#!/usr/bin/env bash
# IKE set-up rate: one bulwark-iked initiates N connections (default 1000; IKEv2, PSK, one
# tunnel each, its own identity and network) to one bulwark-iked responder, in two network
# namespaces. Reports the time until the responder's backend holds every CHILD SA (2 SAs per
# connection) and both daemons' resident memory. One JSON line, appended to out/bench/ike.jsonl.
# Usage (root, after building): tools/bench/ike.sh [N [IKE_PROPOSAL]]
# (the default proposal is Bulwark's default, aes256-sha256-modp2048)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
proposal=${2:-aes256-sha256-modp2048}
IKED=build/control/ike/bulwark-iked
BULWARK=build/tools/bulwark
TAG=$$
TMP=$(mktemp -d /tmp/bulwark-ike-bench-XXXX)
R=bwkr-$TAG I=bwki-$TAG
PIDS=()
finish() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  ip netns del "$R" 2>/dev/null
  ip netns del "$I" 2>/dev/null
  rm -rf "$TMP"
}
trap finish EXIT
ip netns add "$R"
ip netns add "$I"
ip link add "r-$TAG" type veth peer name "i-$TAG"
ip link set "r-$TAG" netns "$R" name ext
ip link set "i-$TAG" netns "$I" name ext
for ns in "$R" "$I"; do ip -n "$ns" link set lo up; ip -n "$ns" link set ext up; done
ip -n "$R" addr add 10.1.0.102/16 dev ext
ip -n "$I" addr add 10.1.0.101/16 dev ext
export BENCH_PSK="bench-$RANDOM$RANDOM"

cat >"$TMP/responder.yaml" <<YAML
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.2.1/24]}
  - {name: external, role: external, port: net_null1, addresses: [10.1.0.102/16]}
ipsec:
  connections:
    - name: sites
      remote_gateway: '%any'
      authentication: {method: psk, psk: {env: BENCH_PSK}, local_id: hub.example.com}
      ike: {proposals: [$proposal]}
      tunnels:
        - {type: tunnel, local: 192.168.2.0/24, remote: 172.16.0.0/12}
YAML
{
  cat <<YAML
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [10.200.0.1/16]}
  - {name: external, role: external, port: net_null1, addresses: [10.1.0.101/16]}
ipsec:
  connections:
YAML
  for ((k = 0; k < n; k++)); do
    cat <<YAML
    - name: site$k
      remote_gateway: 10.1.0.102
      authentication: {method: psk, psk: {env: BENCH_PSK}, local_id: site$k.example.com, remote_id: hub.example.com}
      ike: {proposals: [$proposal]}
      tunnels:
        - {type: tunnel, local: 172.$((16 + k / 256)).$((k % 256)).0/24, remote: 192.168.2.0/24}
YAML
  done
} >"$TMP/initiator.yaml"

ip netns exec "$R" "$IKED" --run-dir "$TMP/r" --log-level 0 "$TMP/responder.yaml" >"$TMP/r.log" 2>&1 &
PIDS+=($!)
responder=$!
for _ in $(seq 100); do [ -S "$TMP/r/iked.sock" ] && break; sleep 0.1; done
start=$(date +%s.%N)
ip netns exec "$I" "$IKED" --run-dir "$TMP/i" --log-level 0 "$TMP/initiator.yaml" >"$TMP/i.log" 2>&1 &
PIDS+=($!)
initiator=$!
sas=0
for _ in $(seq 240); do
  sas=$("$BULWARK" sa --socket "$TMP/r/iked.sock" --json 2>/dev/null | grep -o '"spi"' | wc -l || true)
  [ "$sas" -ge $((2 * n)) ] && break
  sleep 0.5  # listing thousands of SAs costs the daemon; do not poll it hard
done
end=$(date +%s.%N)
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
/usr/bin/python3 - "$n" "$sas" "$start" "$end" "$(rss $responder)" "$(rss $initiator)" "$proposal" <<'PY' | tee -a out/bench/ike.jsonl
import json, sys
n, sas = int(sys.argv[1]), int(sys.argv[2])
seconds = float(sys.argv[4]) - float(sys.argv[3])
print(json.dumps({"connections": n, "ike_proposal": sys.argv[7], "child_sas_installed": sas // 2, "seconds": round(seconds, 2),
                  "connections_per_s": round(sas / 2 / seconds, 1),
                  "responder_rss_mib": round(int(sys.argv[5]) / 1024, 1),
                  "initiator_rss_mib": round(int(sys.argv[6]) / 1024, 1)}))
PY
