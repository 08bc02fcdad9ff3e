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
