#!/usr/bin/env bash
# `bulwark replay` on the bundled sample: the counters account for every frame, two runs write
# identical captures, and bad arguments give clear errors. Usage: replay_cli.sh BULWARK SOURCE_ROOT
set -uo pipefail
bulwark=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failed=$((failed + 1)); fi
}
samples="--in internal=$root/tools/pcap/samples/internal.pcap --in external=$root/tools/pcap/samples/external.pcap"

check "replay runs" "$bulwark" replay $samples --out-dir "$tmp/a" --json >"$tmp/a.json"
check "replay runs again" "$bulwark" replay $samples --out-dir "$tmp/b" --json >"$tmp/b.json"
check "the counters account for every frame" /usr/bin/python3 - "$tmp/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
dropped = sum(d["dropped"].values())
assert d["in"] == 18, d
assert d["in"] == d["forwarded"] + d["punted"] + d["consumed"] + dropped, d
assert d["out"] == d["forwarded"] + d["generated"], d
assert d["dropped"] == {"ipv6": 1, "ipv4_truncated": 1, "ttl_exceeded": 1}, d
assert d["punted"] == 1 and d["forwarded"] == 11, d
PY
for f in internal.pcap external.pcap internal.punt.pcap external.punt.pcap; do
  check "$f is byte-identical in two runs" cmp -s "$tmp/a/$f" "$tmp/b/$f"
done
check "identical JSON in two runs" sh -c "sed 's#$tmp/a#X#g' '$tmp/a.json' > '$tmp/a2'; sed 's#$tmp/b#X#g' '$tmp/b.json' > '$tmp/b2'; cmp -s '$tmp/a2' '$tmp/b2'"
check "a missing input is an error" sh -c "! '$bulwark' replay --in internal=/nonexistent.pcap --out-dir '$tmp/c' 2>'$tmp/err' && grep -q 'cannot read /nonexistent.pcap' '$tmp/err'"
check "an unknown interface is an error" sh -c "! '$bulwark' replay --in dmz=$root/tools/pcap/samples/internal.pcap --out-dir '$tmp/c' 2>'$tmp/err' && grep -q \"no interface 'dmz'\" '$tmp/err'"
check "a malformed --in is a usage error" sh -c "'$bulwark' replay --in internal --out-dir '$tmp/c' 2>/dev/null; test \$? -eq 2"
check "replay --help" sh -c "'$bulwark' replay --help | grep -q 'usage: bulwark replay'"
check "status --help" sh -c "'$bulwark' status --help | grep -q 'usage: bulwark status'"
check "reload --help" sh -c "'$bulwark' reload --help | grep -q 'usage: bulwark reload'"
check "status without a dataplane fails clearly" sh -c "! '$bulwark' status --socket '$tmp/none.sock' 2>'$tmp/err' && grep -q 'cannot connect' '$tmp/err'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
