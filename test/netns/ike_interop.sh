#!/usr/bin/env bash
# Interoperation: bulwark-iked (box 1, initiator) against a stock Debian charon (box 2, with
# kernel-libipsec: ESP in userspace, as the kernel here has none), configured by swanctl, in two
# network namespaces. IKEv2 PSK; both must install the CHILD_SA with the same SPI pair.
# Usage: ike_interop.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
IKED="$BUILD/control/ike/bulwark-iked"
BULWARK="$BUILD/tools/bulwark"

B1=bwj1-$TAG B2=bwj2-$TAG
new_ns $B1
new_ns $B2
link $B1 ext $B2 wan
ip -n $B1 addr add 10.1.0.101/16 dev ext
ip -n $B2 addr add 10.1.0.102/16 dev wan
# kernel-libipsec routes the tunnel through its TUN device from an address of the local network.
ip -n $B2 addr add 192.168.2.1/24 dev lo
export VPN_PSK="interop-$RANDOM-$RANDOM"

source "$(dirname "$0")/stock_charon.sh"
check "swanctl loads the stock side" start_stock_charon $B2 10.1.0.102 192.168.2.0/24 192.168.1.0/24 no

cat >"$TMP/box1.yaml" <<YAML
version: 1
interfaces:
  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}
  - {name: external, role: external, port: net_null1, addresses: [10.1.0.101/16]}
ipsec:
  connections:
    - name: to-box2
      remote_gateway: 10.1.0.102
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box1.example.com, remote_id: box2.example.com}
      tunnels:
        - {type: tunnel, local: 192.168.1.0/24, remote: 192.168.2.0/24}
YAML
ip netns exec $B1 "$IKED" --run-dir "$TMP/box1" "$TMP/box1.yaml" >"$TMP/box1.log" 2>&1 &
PIDS+=($!)

check "the tunnel to the stock charon comes up" \
  wait_for "the CHILD_SA" 20 sh -c "swanctl --list-sas --raw --uri '$STOCK_VICI' | grep -q 'state=INSTALLED'"
swanctl --list-sas --raw --uri "$STOCK_VICI" >"$TMP/stock-sas.txt"
"$BULWARK" sa --socket "$TMP/box1/iked.sock" --json >"$TMP/box1-sas.json"
check "the SPIs agree: our outbound SPI is the stock side's inbound one and back" \
  /usr/bin/python3 - "$TMP/stock-sas.txt" "$TMP/box1-sas.json" <<'PY'
import json, re, sys
stock = open(sys.argv[1]).read()
spi_in = int(re.search(r"spi-in=([0-9a-f]+)", stock).group(1), 16)
spi_out = int(re.search(r"spi-out=([0-9a-f]+)", stock).group(1), 16)
ours = {s["direction"]: s for s in json.load(open(sys.argv[2]))["sas"]}
assert ours["out"]["spi"] == spi_in and ours["in"]["spi"] == spi_out, (ours, spi_in, spi_out)
assert "AES_GCM_16" in stock and ours["out"]["encryption"] == "AES_GCM_16"
PY
check "bulwark vpn status reports it established" \
  sh -c "'$BULWARK' vpn status to-box2 --socket '$TMP/box1/iked.sock' | grep -q '^to-box2: established$'"
finish
