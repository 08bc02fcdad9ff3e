#!/usr/bin/env bash
# The RADIUS helper (radius.sh) on its own, without a box: a real FreeRADIUS in one namespace,
# radtest from another, over a veth.
#
#   nas 10.1.0.1 ── radius 10.1.0.5
#
# The known user with the right password is accepted, a wrong password and an unknown user are
# rejected, a NAS with the wrong secret is not accepted, and a stopped server none either.
# Usage: radius_standalone.sh [BUILD_DIR] (unused: nothing of Bulwark runs here)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/radius.sh"

NAS=brn-$TAG RAD=brr-$TAG
for ns in $NAS $RAD; do new_ns "$ns"; done
link $NAS nas $RAD rad
ip -n $NAS addr add 10.1.0.1/16 dev nas
ip -n $RAD addr add 10.1.0.5/16 dev rad

started=$(date +%s.%N)
start_radius $RAD 10.1.0.5 s3cret-radius "pwerner=Radius pass 1" "other=x"
echo "FreeRADIUS answered $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after its start"

check "the configured user with the right password is accepted" \
  radius_accepts $NAS 10.1.0.5 s3cret-radius pwerner "Radius pass 1"
answer_is() { [ "$(radius_answer "${@:2}")" = "$1" ]; }   # EXPECTED NS ADDRESS SECRET USER PASSWORD
check "radtest itself gets an Access-Accept" \
  sh -c "timeout 10 ip netns exec $NAS radtest -t pap pwerner 'Radius pass 1' 10.1.0.5 0 s3cret-radius 2>&1 | grep -q 'Received Access-Accept'"
check "a wrong password is rejected" \
  answer_is Access-Reject $NAS 10.1.0.5 s3cret-radius pwerner wrong
check "an unknown user is rejected" \
  answer_is Access-Reject $NAS 10.1.0.5 s3cret-radius nobody "Radius pass 1"
not_accepted() { ! radius_accepts "$@"; }
check "a NAS with the wrong secret is not accepted" \
  not_accepted $NAS 10.1.0.5 wrong-secret pwerner "Radius pass 1"
check "the server listens on its address only" \
  sh -c "ip netns exec $RAD ss -lnu | grep -q '10.1.0.5:1812' && ! ip netns exec $RAD ss -lnu | grep -qE '(\*|0\.0\.0\.0):1812'"
stop_radius 10.1.0.5
check "a stopped server answers nothing" \
  answer_is none $NAS 10.1.0.5 s3cret-radius pwerner "Radius pass 1"

finish
