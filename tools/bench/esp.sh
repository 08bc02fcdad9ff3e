#!/usr/bin/env bash
# The ESP scenarios of docs/performance.md: encryption (plaintext in on internal, ESP out on
# external) and decryption (ESP in on external, plaintext out on internal) of 64-byte, 1400-byte
# and IMIX traffic through 1 and 1,000 SAs, with the stateful configuration of scenario (c).
# Appends one JSON line per run to out/bench/esp-results.jsonl.
# Usage: tools/bench/esp.sh [quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-full}
out=out/bench/esp
mkdir -p "$out"
results=out/bench/esp-results.jsonl
: >"$results"
bench=build/tools/bulwark
source tools/bench/hugepages.sh
huge=$(hugepages_option 2048)
py=/usr/bin/python3
seconds=5; warmup=2; frames=65536
if [ "$mode" = quick ]; then seconds=1; warmup=0.5; frames=16384; fi

# run LABEL DIRECTION SIZE SAS RECORDS IFACE CAPTURE
run() {
  echo "== $1" >&2
  "$bench" bench --config tools/bench/scenarios/esp.yaml --ipsec "$5" --in "$6=$7" --seconds "$seconds" \
    --warmup "$warmup" --memory 2048 --mbuf-data-room 2048 $huge --label "$1" --json |
    $py -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(scenario='esp-$2', frame_size=('$3' if '$3'=='imix' else int('$3')), sas=$4, hugepages=bool('$huge')); print(json.dumps(d))" \
    >>"$results"
}

for sas in 1 1000; do
  $py tools/bench/esp.py records --direction out --sas $sas --out "$out/out-$sas.rec"
  $py tools/bench/esp.py records --direction in --sas $sas --out "$out/in-$sas.rec"
  for size in 64 1400 imix; do
    # Encryption: what hosts of 192.168.0.0/16 send to 10.0.0.0/14.
    $py tools/pcap/workload.py --out "$out/plain-$size.pcap" --frames $frames --flows 1024 --size $size \
      --dst 10.0.0.0/14 >/dev/null
    run "esp-encrypt-$size-$sas" encrypt $size $sas "$out/out-$sas.rec" internal "$out/plain-$size.pcap"
    # Decryption: the same sizes of inner packet from 10.0.0.0/14 to 172.16.0.0/16, as ESP.
    $py tools/pcap/workload.py --out "$out/inner-$size.pcap" --frames $frames --flows 1024 --size $size \
      --src 10.0.0.0/14 --dst 172.16.0.0/16 >/dev/null
    $py tools/bench/esp.py encrypt --sas $sas --in "$out/inner-$size.pcap" --out "$out/esp-$size-$sas.pcap"
    run "esp-decrypt-$size-$sas" decrypt $size $sas "$out/in-$sas.rec" external "$out/esp-$size-$sas.pcap"
  done
done
echo "results: $results" >&2
