#!/usr/bin/env bash
# DPDK's own IPsec gateway (examples/ipsec-secgw of the installed DPDK, 22.11 on Debian 12) on
# the captures and the replay harness of tools/bench/esp.sh: the like-for-like anchor for the ESP
# section of docs/performance.md. Same machine, same DPDK, same input (a net_pcap vdev replaying
# the capture with infinite_rx=1, which copies every frame into a fresh mbuf as `bulwark bench`
# does), same output (a net_null vdev with no-rx=1), one forwarding core (lcore 1), the same
# memory (-m 2048, on hugepages when esp.sh would use them: tools/bench/hugepages.sh),
# 2176-byte mbufs, AES-GCM-128 tunnel mode, 1 SA per direction with the keys, SPIs and
# addresses of out/bench/esp/{out,in}-1.rec. ipsec-secgw does only SPD (ACL) + SA + crypto
# (intel-ipsec-mb) + LPM route, no conntrack/NAT/filter, so it is a ceiling.
#
# What it does:
#   1. apt-get source dpdk (the Debian package of the installed libdpdk) into $SECGW_DIR;
#   2. patches one line of ipsec-secgw.c: it insists on RX checksum offload, which the pcap and
#      null vdevs lack (the app never reads the flags), then builds it with `make` and
#      `pkg-config libdpdk` (the example's own Makefile, shared linkage);
#   3. writes the SP/SA/RT config (ipsec-secgw calls the ESP side "unprotected": -u);
#   4. per case runs ipsec-secgw, waits $WARMUP s, samples the ports' counters twice over
#      $SECONDS s through the DPDK telemetry socket and prints one JSON line:
#      {"label": "secgw-encrypt-64", "mpps": ..., "packets": ..., "seconds": ...} where packets
#      counts frames transmitted on the output port (encrypted resp. decrypted), plus the
#      received count, input Gbit/s and the drops (app drops, imissed, rx_nombuf, oerrors).
# The default is the fastest configuration found on the reference box (2-core Xeon VM with
# VAES): -l (librte_ipsec path) with SA type cpu-crypto (synchronous AES-GCM of a crypto_aesni_gcm
# vdev's intel-ipsec-mb, no crypto queue). --mtu 2000: with the default 1500 ipsec-secgw drops
# the 1500-byte IMIX packets once ESP makes them larger (no fragmentation); bulwark sends them.
# A run overlapping a `bulwark bench` (also lcore 1) is flagged "contended": true.
#
# Usage: tools/bench/secgw.sh [quick]
# Environment: SECGW_DIR (default out/secgw: source, build, configs, logs), REPEAT (runs per
#   case, default 3), SECGW_LIB (1 = -l, the librte_ipsec path, default; 0 = legacy path),
#   SECGW_SA_TYPE (cpu-crypto, default, needs SECGW_LIB=1 | no-offload: crypto through the
#   cryptodev queue), SECGW_CDEV (crypto vdev, default crypto_aesni_gcm0),
#   CASES (default "encrypt-64 encrypt-1400 encrypt-imix decrypt-64 decrypt-1400 decrypt-imix").
# Needs: root (telemetry socket under /var/run/dpdk), build-essential, pkg-config, libdpdk-dev,
#   deb-src entries (tools/setup.sh), python3. Captures come from tools/bench/esp.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
esp=$root/out/bench/esp
dir=${SECGW_DIR:-$root/out/secgw}
mode=${1:-full}
seconds=5; warmup=2; repeat=${REPEAT:-3}
if [ "$mode" = quick ]; then seconds=1; warmup=1; repeat=${REPEAT:-1}; fi
sa_type=${SECGW_SA_TYPE:-cpu-crypto}
cdev=${SECGW_CDEV:-crypto_aesni_gcm0}
lib_flag=""; [ "${SECGW_LIB:-1}" = 1 ] && lib_flag="-l"
cases=${CASES:-"encrypt-64 encrypt-1400 encrypt-imix decrypt-64 decrypt-1400 decrypt-imix"}
prefix=secgw-bench-$$
py=/usr/bin/python3
source "$root/tools/bench/hugepages.sh"
memory=(-m 2048 --no-huge)
[ -z "$(hugepages_option 2048)" ] || memory=(-m 2048 --huge-unlink)

for f in out-1.rec in-1.rec plain-64.pcap plain-1400.pcap plain-imix.pcap \
  esp-64-1.pcap esp-1400-1.pcap esp-imix-1.pcap; do
  if [ ! -f "$esp/$f" ]; then
    echo "secgw.sh: $esp/$f is missing; run tools/bench/esp.sh first (it makes the captures)" >&2
    exit 1
  fi
done

# 1-2. Source, patch, build.
mkdir -p "$dir"
src=$(find "$dir" -maxdepth 1 -type d -name 'dpdk-*' | head -n1)
if [ -z "$src" ]; then
  (cd "$dir" && apt-get source dpdk >&2)
  src=$(find "$dir" -maxdepth 1 -type d -name 'dpdk-*' | head -n1)
fi
app=$src/examples/ipsec-secgw
if ! grep -q 'bulwark: vdev ports' "$app/ipsec-secgw.c"; then
  $py - "$app/ipsec-secgw.c" <<'EOF'
import sys
p = sys.argv[1]; s = open(p).read()
a = "\tlocal_port_conf.rxmode.offloads |= req_rx_offloads;\n"
assert s.count(a) == 1, "ipsec-secgw.c changed: patch point not found"
s = s.replace(a, a + "\t/* bulwark: vdev ports (pcap, null) lack RX checksum offload; the app never reads the flags */\n"
              "\tlocal_port_conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_CHECKSUM & ~dev_info.rx_offload_capa & ~req_rx_offloads);\n")
open(p, "w").write(s)
EOF
fi
if [ ! -x "$app/build/ipsec-secgw" ] || [ "$app/ipsec-secgw.c" -nt "$app/build/ipsec-secgw-shared" ]; then
  make -C "$app" -j"$(nproc)" >&2
fi
bin=$app/build/ipsec-secgw

# 3. Config from the .rec files: spi=, src=, dst=, enc_key= (GCM: 16-byte key + 4-byte salt).
rec() { # FILE FIELD
  sed -n 's/^sa .*\b'"$2"'=\([^ ]*\).*/\1/p' "$1" | head -n1
}
colons() { echo "$1" | sed 's/../&:/g; s/:$//'; }
out_spi=$(rec "$esp/out-1.rec" spi); in_spi=$(rec "$esp/in-1.rec" spi)
out_key=$(colons "$(rec "$esp/out-1.rec" enc_key)"); in_key=$(colons "$(rec "$esp/in-1.rec" enc_key)")
out_src=$(rec "$esp/out-1.rec" src); out_dst=$(rec "$esp/out-1.rec" dst)
in_src=$(rec "$esp/in-1.rec" src); in_dst=$(rec "$esp/in-1.rec" dst)
for v in out_spi in_spi out_key in_key out_src out_dst in_src in_dst; do
  [ -n "${!v}" ] || { echo "secgw.sh: no $v in the .rec files" >&2; exit 1; }
done
sa_extra=""; [ "$sa_type" != no-offload ] && sa_extra="type $sa_type"
# ipsec-secgw wants SAs of both directions. Encryption: port 0 = protected (plaintext in), port
# 1 = unprotected (ESP out); decryption: port 0 = unprotected (ESP in), port 1 = protected.
sasp="sp ipv4 out esp protect $out_spi pri 1 dst 10.0.0.0/14 sport 0:65535 dport 0:65535
sp ipv4 in esp protect $in_spi pri 1 dst 172.16.0.0/12 sport 0:65535 dport 0:65535
sa out $out_spi aead_algo aes-128-gcm aead_key $out_key mode ipv4-tunnel src $out_src dst $out_dst $sa_extra
sa in $in_spi aead_algo aes-128-gcm aead_key $in_key mode ipv4-tunnel src $in_src dst $in_dst $sa_extra"
printf '%s\nrt ipv4 dst %s/32 port 1\nrt ipv4 dst 172.16.0.0/12 port 0\n' "$sasp" "$out_dst" >"$dir/encrypt.cfg"
printf '%s\nrt ipv4 dst %s/32 port 0\nrt ipv4 dst 172.16.0.0/12 port 1\n' "$sasp" "$out_dst" >"$dir/decrypt.cfg"

pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "/var/run/dpdk/$prefix"
}
trap cleanup EXIT INT TERM

# Both this and `bulwark bench` forward on lcore 1: wait (up to 5 min) for a running one to end.
wait_idle() {
  local n=0
  while pgrep -f 'bulwark bench' >/dev/null && [ $n -lt 300 ]; do sleep 1; n=$((n + 1)); done
}

# 4. run LABEL DIRECTION CAPTURE
run() {
  local label=$1 direction=$2 capture=$3 log=$dir/$1.log unprot
  wait_idle
  if [ "$direction" = encrypt ]; then unprot=0x2; else unprot=0x1; fi
  "$bin" -l 1 --no-pci "${memory[@]}" --file-prefix "$prefix" \
    --vdev "net_pcap0,rx_pcap=$capture,infinite_rx=1" --vdev net_null1,no-rx=1 --vdev "$cdev" \
    -- -p 0x3 -P -u $unprot --config "(0,0,1),(1,0,1)" -f "$dir/$direction.cfg" -s 131072 --mtu 2000 \
    $lib_flag >"$log" 2>&1 &
  pid=$!
  $py - "/var/run/dpdk/$prefix/dpdk_telemetry.v2" "$label" "$seconds" "$warmup" "$pid" <<'EOF' || { tail -n 20 "$log" >&2; return 1; }
import json, os, socket, sys, time
path, label, seconds, warmup, pid = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
deadline = time.monotonic() + 60
def alive():
    try: os.kill(pid, 0); return True
    except OSError: return False
s = None
while s is None:
    if not alive() or time.monotonic() > deadline: sys.exit("ipsec-secgw did not start")
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(path); s.recv(4096)
    except OSError:
        s = None; time.sleep(0.2)
def q(cmd):
    s.send(cmd.encode()); r = json.loads(s.recv(1 << 16).decode())
    if not isinstance(r, dict) or (r.get(cmd.split(",")[0]) is None and "stats," in cmd):
        sys.exit("telemetry: no answer to " + cmd)
    return r
def sample():
    t = time.monotonic(); p0 = q("/ethdev/stats,0")["/ethdev/stats"]; p1 = q("/ethdev/stats,1")["/ethdev/stats"]
    app = q("/examples/ipsec-secgw/stats").get("/examples/ipsec-secgw/stats") or {}
    return t, p0, p1, app
while q("/ethdev/stats,1")["/ethdev/stats"]["opackets"] == 0:  # forwarding has started
    if not alive() or time.monotonic() > deadline: sys.exit("no packets forwarded")
    time.sleep(0.1)
time.sleep(warmup)
import subprocess
def other():  # another benchmark forwarding on lcore 1 at the same time spoils the figure
    return subprocess.run(["pgrep", "-f", "bulwark bench"], stdout=subprocess.DEVNULL).returncode == 0
busy = other(); t0, a0, b0, c0 = sample()
for _ in range(10): time.sleep(seconds / 10); busy = busy or other()
t1, a1, b1, c1 = sample()
dt = t1 - t0; fwd = b1["opackets"] - b0["opackets"]
d = lambda x, y, k: (y.get(k, 0) or 0) - (x.get(k, 0) or 0)
print(json.dumps({"label": label, "mpps": round(fwd / dt / 1e6, 4), "packets": fwd, "seconds": round(dt, 3),
    "received": d(a0, a1, "ipackets"), "gbps_in": round(d(a0, a1, "ibytes") * 8 / dt / 1e9, 4),
    "dropped": {"app": d(c0, c1, "packets dropped"), "imissed": d(a0, a1, "imissed"),
                "rx_nombuf": d(a0, a1, "rx_nombuf"), "oerrors": d(b0, b1, "oerrors")},
    "contended": busy}), flush=True)
EOF
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  rm -rf "/var/run/dpdk/$prefix"
}

for c in $cases; do
  direction=${c%-*}; size=${c#*-}
  if [ "$direction" = encrypt ]; then capture=$esp/plain-$size.pcap; else capture=$esp/esp-$size-1.pcap; fi
  for i in $(seq "$repeat"); do
    run "secgw-$c" "$direction" "$capture"
  done
done
