#!/usr/bin/env bash
# End-to-end test of `bulwark check`: exit codes, output formats, help texts, and that every
# example and the built-in default are accepted. Usage: check_cli.sh BULWARK SOURCE_ROOT
set -euo pipefail
bulwark=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Built-in default: valid, exit 0, the dump shows the factory state.
out=$("$bulwark" check --dump) || fail "default config rejected"
grep -q "192.168.1.1/24" <<<"$out" || fail "dump lacks the internal address"
grep -q "masquerade 0.0.0.0/0" <<<"$out" || fail "dump lacks masquerading"
grep -q "incoming: drop all" <<<"$out" || fail "dump lacks the incoming policy"

# Every example at once (merging is per file: check them one by one) and all together by glob.
for f in "$root"/docs/examples/*.yaml; do
  "$bulwark" check "$f" >/dev/null 2>"$tmp/err" || { fail "$f rejected"; cat "$tmp/err"; }
done

# bulwark check and the JSON Schema agree on the schema test files.
for f in "$root"/test/schema/valid/*.yaml; do
  "$bulwark" check "$f" >/dev/null 2>"$tmp/err" || { fail "$f rejected"; cat "$tmp/err"; }
done
for f in "$root"/test/schema/invalid/*.yaml; do
  "$bulwark" check "$f" >/dev/null 2>&1 && fail "$f accepted"
done

# A broken file: exit 1, every problem on stderr as file:line:col.
cat >"$tmp/bad.yaml" <<'YAML'
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}
  - {name: external, role: extern, port: net_null1, addresses: [10.1.0.1/16]}
firewal: {}
YAML
set +e
"$bulwark" check "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "broken config exit code $rc, expected 1"
grep -q "^$tmp/bad.yaml:4:28: error: interfaces\[2\].role: 'extern' is not one of" "$tmp/err" || fail "role error missing: $(cat "$tmp/err")"
grep -q "^$tmp/bad.yaml:5:1: error: firewal: unknown key 'firewal' (hint: did you mean 'firewall'?)" "$tmp/err" || fail "unknown key error missing"

# --json: one object with the diagnostics.
set +e
"$bulwark" check --json "$tmp/bad.yaml" >"$tmp/json"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "--json exit code $rc"
/usr/bin/python3 - "$tmp/json" <<'PY' || fail "--json output is not the expected JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["valid"] is False, doc
assert doc["errors"] == 2, doc
d = doc["diagnostics"][0]
assert d["line"] == 4 and d["column"] == 28 and d["path"] == "interfaces[2].role", d
assert d["hint"] == "did you mean 'external'?", d
PY
"$bulwark" check --json >"$tmp/json-ok" || fail "--json of the default failed"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] and d["tables"]["interfaces"] == 2' "$tmp/json-ok" || fail "--json of the default is wrong"

# Secrets never printed.
cat >"$tmp/secret.yaml" <<'YAML'
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}
  - {name: external, role: external, port: net_null1, addresses: [10.1.0.1/16]}
ipsec:
  connections:
    - name: c
      remote_gateway: 10.1.0.2
      authentication: {method: psk, psk: "Sup3rSecret"}
      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]
YAML
"$bulwark" check --dump "$tmp/secret.yaml" >"$tmp/out" 2>&1 && fail "inline secret accepted"
grep -q "Sup3rSecret" "$tmp/out" && fail "a secret was printed"

# Missing file, unknown option, help.
"$bulwark" check /nonexistent.yaml 2>/dev/null && fail "missing file accepted"
set +e
"$bulwark" check --frobnicate >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown option exit code $rc, expected 2"
"$bulwark" check --help | grep -q "usage: bulwark check" || fail "check --help"
"$bulwark" --help | grep -q "check" || fail "bulwark --help"

if [ "$failures" -gt 0 ]; then
  echo "$failures failures"
  exit 1
fi
echo "cli: all checks passed"
