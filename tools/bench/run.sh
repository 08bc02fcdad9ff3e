#!/usr/bin/env bash
# Runs the benchmark scenarios of docs/performance.md and appends one JSON line per run to
# out/bench/results.jsonl, then draws the plots. Usage: tools/bench/run.sh [quick]
# "quick" shortens the runs and the captures (for a first look, not for the report).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-full}
out=out/bench
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
bench=build/tools/bulwark
gen="/usr/bin/python3 tools/pcap/workload.py"
seconds=5; warmup=2; big=1000000
if [ "$mode" = quick ]; then seconds=1; warmup=0.5; big=100000; fi

# run LABEL SCENARIO FRAME_SIZE FLOWS RULES CONFIG CAPTURE [extra bench options]
run() {
  local label=$1 scenario=$2 size=$3 flows=$4 rules=$5 config=$6 capture=$7
  shift 7
  echo "== $label" >&2
  "$bench" bench --config "$config" --in internal="$capture" --seconds "$seconds" --warmup "$warmup" \
    --memory 3072 --label "$label" --json "$@" |
    /usr/bin/python3 -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(scenario='$scenario', frame_size=('$size' if '$size'=='imix' else int('$size')), flows=$flows, rules=$rules); print(json.dumps(d))" \
    >>"$results"
}

# (a) routing, against frame size
for size in 64 128 256 512 1024 1518 imix; do
  $gen --out "$out/udp-$size.pcap" --frames 65536 --flows 1024 --size "$size" >/dev/null
  run "a-routing-$size" routing "$size" 1024 0 tools/bench/scenarios/routing.yaml "$out/udp-$size.pcap"
done
# (c) stateful filter, against flow count (64-byte frames)
for flows in 1024 65536 $big; do
  frames=$(( flows > 65536 ? flows : 65536 ))
  $gen --out "$out/udp-flows-$flows.pcap" --frames "$frames" --flows "$flows" >/dev/null
  run "c-stateful-$flows" stateful 64 "$flows" 0 tools/bench/scenarios/stateful.yaml \
    "$out/udp-flows-$flows.pcap" --mbuf-data-room 256
  # (d) the same with masquerading
  run "d-masquerade-$flows" masquerade 64 "$flows" 0 tools/bench/scenarios/masquerade.yaml \
    "$out/udp-flows-$flows.pcap" --mbuf-data-room 256
done
# (f) 1:1 NAT
run "f-one-to-one" one_to_one 64 65536 0 tools/bench/scenarios/one_to_one.yaml \
  "$out/udp-flows-65536.pcap" --mbuf-data-room 256
# (e) new connections: TCP SYNs of more flows than the table holds, so each is new
$gen --out "$out/syn-storm.pcap" --frames 262144 --flows 262144 --proto tcp-syn >/dev/null
sed 's/max_connections: 2097152/max_connections: 65536/' tools/bench/scenarios/stateful.yaml >"$out/storm.yaml"
run "e-new-connections" new_connections 64 262144 0 "$out/storm.yaml" "$out/syn-storm.pcap" --mbuf-data-room 256
# (b) classifier of 10, 100, 1000, 10000 rules on new connections
for rules in 10 100 1000 10000; do
  /usr/bin/python3 tools/bench/rules.py "$rules" "$out/rules-$rules.yaml"
  run "b-rules-$rules" rules 64 262144 "$rules" "$out/rules-$rules.yaml" "$out/syn-storm.pcap" --mbuf-data-room 256
done
# (g) 100 reloads under load (routing): nothing may be lost
run "g-reloads" reloads 64 1024 0 tools/bench/scenarios/routing.yaml "$out/udp-64.pcap" --reloads 100

/usr/bin/python3 tools/bench/plot.py "$results" "$out" >&2 || true
echo "results: $results" >&2
