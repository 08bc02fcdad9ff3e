#!/usr/bin/env bash
# Bulwark against DPDK's ipsec-secgw, interleaved: each round runs every case once with each,
# back to back, so that both see the same neighbours on this shared machine (single runs spread
# by ±25 % over an hour; the ratio of two runs a minute apart spreads far less). Prints, per case,
# the median of the rounds' ratios and both sides' best; appends the runs to
# out/bench/esp-vs-secgw.jsonl.
# Usage: tools/bench/esp_vs_secgw.sh [ROUNDS]   (default 3; about 1 minute per round and case)
# Environment: CASES (default "encrypt-64 encrypt-1400 decrypt-64 decrypt-1400"), SECGW_DIR as
#   for secgw.sh. Needs the captures and records of tools/bench/esp.sh (run it once first).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
cases=${CASES:-"encrypt-64 encrypt-1400 decrypt-64 decrypt-1400"}
esp=out/bench/esp
results=out/bench/esp-vs-secgw.jsonl
: >"$results"
source tools/bench/hugepages.sh
huge=$(hugepages_option 2048)
py=/usr/bin/python3

for round in $(seq "$rounds"); do
  for c in $cases; do
    direction=${c%-*} size=${c#*-}
    if [ "$direction" = encrypt ]; then
      input="internal=$esp/plain-$size.pcap" records=$esp/out-1.rec
    else
      input="external=$esp/esp-$size-1.pcap" records=$esp/in-1.rec
    fi
    echo "== round $round: $c" >&2
    build/tools/bulwark bench --config tools/bench/scenarios/esp.yaml --ipsec "$records" --in "$input" \
      --seconds 5 --warmup 2 --memory 2048 --mbuf-data-room 2048 $huge --no-baseline --json |
      $py -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'label': 'bulwark-$c', 'round': $round, 'mpps': d['mpps']}))" \
      >>"$results"
    CASES=$c REPEAT=1 tools/bench/secgw.sh |
      $py -c "import json,sys; d=json.loads(sys.stdin.read()); print(json.dumps({'label': d['label'], 'round': $round, 'mpps': d['mpps']}))" \
      >>"$results"
  done
done

$py - "$results" <<'EOF'
import collections, json, statistics, sys
runs = collections.defaultdict(dict)  # case -> round -> {side: mpps}
for line in open(sys.argv[1]):
    d = json.loads(line)
    side, case = d["label"].split("-", 1)
    runs[case].setdefault(d["round"], {})[side] = d["mpps"]
print("| case | ipsec-secgw Mpps (best) | Bulwark Mpps (best) | ratio (median of rounds) | rounds |")
print("|---|---:|---:|---:|---:|")
for case, by_round in runs.items():
    pairs = [r for r in by_round.values() if "bulwark" in r and "secgw" in r]
    ratios = [r["bulwark"] / r["secgw"] for r in pairs]
    print(f"| {case.replace('-', ' ')} B | {max(r['secgw'] for r in pairs):.2f} | "
          f"{max(r['bulwark'] for r in pairs):.2f} | {statistics.median(ratios):.2f} | {len(pairs)} |")
EOF
