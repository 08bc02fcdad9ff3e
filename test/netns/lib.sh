# Helpers for end-to-end tests in network namespaces. Every name carries the test's PID so that
# parallel runs never collide; `cleanup` (installed as an EXIT trap) removes everything.
set -euo pipefail

TAG=${TAG:-$$}
TMP=$(mktemp -d "/tmp/bulwark-netns-$TAG-XXXX")
NAMESPACES=()
PIDS=()
FAILED_CHECKS=()

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for log in "$TMP"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 40 "$log"; }; done
    # Again after the logs: a runner that keeps only the end of the output still names them.
    for what in "${FAILED_CHECKS[@]}"; do echo "FAIL: $what"; done
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

# new_ns NAME: creates a namespace with loopback up.
new_ns() {
  ip netns add "$1"
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# link NS_A IF_A NS_B IF_B: a veth pair between two namespaces, both ends up, no offloads
# (af_packet sees what the kernel would put on a wire, with complete checksums).
link() {
  ip link add "$2-$TAG" type veth peer name "$4-$TAG"
  ip link set "$2-$TAG" netns "$1" name "$2"
  ip link set "$4-$TAG" netns "$3" name "$4"
  for side in "$1 $2" "$3 $4"; do
    set -- $side
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true
  done
}

# wait_for DESCRIPTION SECONDS COMMAND…: polls until COMMAND succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $what"
  return 1
}

# watch_wire NS IFACE SECONDS OUT ADDRESS…: counts the frames crossing IFACE (wire_count.py) into
# OUT for SECONDS from the moment it returns; wait_wires waits for every counter started.
WIRES=()
watch_wire() {
  local ns=$1 iface=$2 seconds=$3 out=$4
  shift 4
  rm -f "$out.ready"
  ip netns exec "$ns" python3 "$(dirname "${BASH_SOURCE[0]}")/wire_count.py" "$out.ready" "$iface" "$seconds" "$@" >"$out" &
  WIRES+=($!)
  PIDS+=($!)
  wait_for "the wire counter on $iface" 10 test -e "$out.ready"
}
wait_wires() {
  wait "${WIRES[@]}" || true
  WIRES=()
}

PASSED=0
FAILED=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL: $what"
    FAILED=$((FAILED + 1))
    FAILED_CHECKS+=("$what")
  fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# WORKERS=2 in the environment runs a test's boxes with two workers each: these give the
# dataplane's lcores, memory and port queue devargs for its configuration, and its EAL arguments
# (lcores two to a CPU on the first two CPUs, so that a two-core machine can run them).
worker_lcores() { if [ "${WORKERS:-1}" = 2 ]; then echo "[1, 2]"; else echo "[1]"; fi; }
dataplane_memory() { if [ "${WORKERS:-1}" = 2 ]; then echo 512; else echo 256; fi; }
port_queues() { if [ "${WORKERS:-1}" = 2 ]; then echo ",qpairs=2"; fi; }
dataplane_eal() { if [ "${WORKERS:-1}" = 2 ]; then echo "--eal=--lcores=0@0,1@0,2@1"; fi; }

# transfers FROM_NS TO_NS ADDRESS PORT [SOURCE]: 12 concurrent TCP connections from FROM_NS (from
# address SOURCE if given) to ADDRESS:PORT, received by a sink on port PORT of TO_NS, each of
# 256 KiB; true when the sink got every one intact. With several workers, a connection whose two
# directions met on different workers would be cut: 12 at once cover both queues.
transfers() {
  local sink
  ip netns exec "$2" python3 "$(dirname "${BASH_SOURCE[0]}")/tcp_transfers.py" sink 0.0.0.0 "$4" 12 \
    >"$TMP/received-$2-$4.txt" 2>"$TMP/sink-$2-$4.log" &
  sink=$!
  PIDS+=($sink)
  wait_for "the TCP sink in $2" 10 sh -c "ip netns exec $2 ss -ltn | grep -q ':$4 '" || return 1
  ip netns exec "$1" python3 "$(dirname "${BASH_SOURCE[0]}")/tcp_transfers.py" source "$3" "$4" 12 ${5:-} \
    >"$TMP/sent-$1-$4.txt" 2>"$TMP/source-$1-$4.log" || true
  wait $sink || true
  ! grep -q failed "$TMP/sent-$1-$4.txt" && [ "$(wc -l <"$TMP/sent-$1-$4.txt")" -eq 12 ] &&
    cmp -s "$TMP/sent-$1-$4.txt" "$TMP/received-$2-$4.txt"
}

# start_box NAMESPACE: bulwark-dataplane and bulwark-control in NAMESPACE for $TMP/box.yaml
# (sockets $TMP/dp.sock and $TMP/ctl.sock, logs dataplane.log and control.log in $TMP); returns
# once the first generation is applied.
start_box() {
  ip netns exec "$1" "$BUILD/dataplane/bulwark-dataplane" $(dataplane_eal) --socket "$TMP/dp.sock" \
    >"$TMP/dataplane.log" 2>&1 &
  PIDS+=($!)
  wait_for "the dataplane socket" 20 test -S "$TMP/dp.sock"
  ip netns exec "$1" "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp.sock" \
    --socket "$TMP/ctl.sock" "$TMP/box.yaml" >"$TMP/control.log" 2>&1 &
  PIDS+=($!)
  wait_for "the first generation" 30 grep -q "applied generation" "$TMP/control.log"
}
