#!/usr/bin/env bash
# A short run of `bulwark bench` (never asserting speed): it runs, reports the fields the
# performance report is made from, and its counters make sense. Usage: bench_smoke.sh BULWARK ROOT
set -uo pipefail
bulwark=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$root/tools/pcap/workload.py" --out "$tmp/w.pcap" --frames 4096 --flows 256 >/dev/null
"$bulwark" bench --config "$root/tools/bench/scenarios/stateful.yaml" --in internal="$tmp/w.pcap" \
  --seconds 0.5 --warmup 0.2 --memory 512 --json >"$tmp/r.json" 2>"$tmp/err" || { cat "$tmp/err"; echo "0 passed, 1 failed"; exit 1; }
/usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
checks = {
    "reports mpps, baseline_mpps, ratio and cycles_per_packet":
        all(k in d for k in ("mpps", "baseline_mpps", "ratio", "cycles_per_packet", "gbps")),
    "forwarded packets": d["forwarded"] > 0 and d["packets"] > 0,
    "per-stage cycles": set(d["stage_cycles_per_packet"]) >= {"ethernet", "ipv4", "route", "transmit"},
    "the ratio is the quotient": abs(d["ratio"] - d["mpps"] / d["baseline_mpps"]) < 0.01,
    "every flow is a tracked connection": d["connections"] == 256,
    "nothing dropped": d["dropped"] == {},
}
for name, ok in checks.items():
    print(("ok: " if ok else "FAIL: ") + name)
failed = sum(not ok for ok in checks.values())
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
