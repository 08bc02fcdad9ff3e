#!/usr/bin/env bash
# CIFS integrity monitoring: scan throughput over SMB against hashing the same files locally.
#
# Generates a tree (default 20,000 small .exe files of 1-16 KiB in 200 directories and 4 large
# ones of 64 MiB, deterministic), serves it from a private smbd on loopback, and times
# `bulwark cifs init` (walk + read + SHA-256 over SMB, signed database written to the checksum
# share) and `bulwark cifs check` (the same walk compared with the database) in bulwark-control,
# then `sha256sum` over the same files on the local disk. bulwark-control, smbd and the local
# hashing are pinned to core 0; the dataplane's worker polls core 1, as on a box.
# Prints one JSON line (appended to out/bench/cifs.jsonl) and a short table.
# Usage (root): tools/bench/cifs.sh [--small N] [--large N] [--large-mib N]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
small=20000 large=4 large_mib=64
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --large-mib) large_mib=$2; shift 2 ;;
    *) echo "usage: $0 [--small N] [--large N] [--large-mib N]" >&2; exit 2 ;;
  esac
done
source tools/cifs/lab_smbd.sh
TAG=$$
TMP=$(mktemp -d /tmp/bulwark-cifs-bench-XXXX)
chmod 755 "$TMP"
PIDS=()
finish() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  lab_smbd_stop
  rm -rf "$TMP"
}
trap finish EXIT
PASSWORD="bench-$RANDOM$RANDOM"
PORT=$((20000 + TAG % 20000))
S=$TMP/smb

echo "generating $small small and $large large files" >&2
/usr/bin/python3 - "$S/programs" "$small" "$large" "$large_mib" <<'PY'
import os, random, sys
root, small, large, large_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(16)
for i in range(small):
    d = os.path.join(root, f"dir{i % 200:03d}", f"sub{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"prog{i:06d}.exe"), "wb") as f:
        f.write(rng.randbytes(rng.randint(1024, 16384)))
os.makedirs(os.path.join(root, "large"), exist_ok=True)
for i in range(large):
    with open(os.path.join(root, "large", f"image{i}.exe"), "wb") as f:
        for _ in range(large_mib):
            f.write(rng.randbytes(1 << 20))
PY
chmod -R o+rX "$S/programs"
lab_smbd_start "$S" "$PORT" "bwbench$TAG" "$PASSWORD"
taskset -pc 0 "$LAB_SMBD_PID" >/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$TMP/key.pem" -in "$TMP/cert.pem" -passout pass:bench -out "$TMP/id.p12"
echo bench >"$TMP/p12.pass"
cat >"$TMP/box.yaml" <<YAML
version: 1
dataplane: {hugepages: false, memory_mb: 256, main_lcore: 0, worker_lcores: [1], file_prefix: bw-cifs-bench-$TAG}
interfaces:
  - {name: internal, role: internal, port: net_null_cb${TAG}0, addresses: [192.168.1.1/24]}
  - {name: external, role: external, port: net_null_cb${TAG}1, addresses: [10.1.0.1/16]}
ipsec:
  certificates:
    machine: [{name: bench, pkcs12: $TMP/id.p12, password: {file: $TMP/p12.pass}}]
cifs:
  integrity_certificate: bench
  shares:
    - {name: checked, server: 127.0.0.1, port: $PORT, share: Programs, username: bwbench$TAG, password: {env: BENCH_PASSWORD}}
    - {name: memory, server: 127.0.0.1, port: $PORT, share: CIFS_DB_Windows, username: bwbench$TAG, password: {env: BENCH_PASSWORD}}
  pattern_sets: [{name: executables, patterns: [{pattern: '**\*.exe', include: true}]}]
  checks: [{name: bench, share: checked, checksum_share: memory, patterns: executables}]
YAML
build/dataplane/bulwark-dataplane --socket "$TMP/dp.sock" --no-exception-path >"$TMP/dataplane.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -S "$TMP/dp.sock" ] && break; sleep 0.1; done
BENCH_PASSWORD=$PASSWORD taskset -c 0 build/control/bulwark-control --dataplane-socket "$TMP/dp.sock" \
  --socket "$TMP/ctl.sock" --no-exception-path --state-dir "$TMP/state" "$TMP/box.yaml" >"$TMP/control.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do grep -q "applied generation" "$TMP/control.log" && break; sleep 0.1; done

status() { build/tools/bulwark cifs --socket "$TMP/ctl.sock" status bench --json; }
echo "bulwark cifs init" >&2
build/tools/bulwark cifs --socket "$TMP/ctl.sock" init bench >/dev/null
init=$(status)
echo "bulwark cifs check" >&2
build/tools/bulwark cifs --socket "$TMP/ctl.sock" check bench >/dev/null
check=$(status)
echo "sha256sum on the local disk" >&2
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
local_start=$(date +%s.%N)
find "$S/programs" -type f -name '*.exe' -print0 | taskset -c 0 xargs -0 sha256sum >/dev/null
local_end=$(date +%s.%N)

mkdir -p out/bench
/usr/bin/python3 - "$init" "$check" "$local_start" "$local_end" "$small" "$large" "$large_mib" "$S/programs" <<'PY' | tee -a out/bench/cifs.jsonl
import json, os, sys
init, check = json.loads(sys.argv[1]), json.loads(sys.argv[2])
local_s = float(sys.argv[4]) - float(sys.argv[3])
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(sys.argv[8]) for f in fs)
files = init["last"]["files"]
assert init["last"]["result"] == "DATABASE_BUILT" and check["last"]["result"] == "INTEGRITY_CHECK_OK", (init, check)
def rate(seconds):
    return {"seconds": round(seconds, 2), "files_per_s": round(files / seconds), "mb_per_s": round(size / seconds / 1e6, 1)}
print(json.dumps({"small_files": int(sys.argv[5]), "large_files": int(sys.argv[6]), "large_mib": int(sys.argv[7]),
                  "files": files, "bytes": size, "smb_init": rate(init["last"]["seconds"]),
                  "smb_check": rate(check["last"]["seconds"]), "local_sha256sum": rate(local_s)}))
PY
