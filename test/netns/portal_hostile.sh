#!/usr/bin/env bash
# End-to-end: the user firewall's login portal under hostile clients (portal_hostile.py), in the
# network of user_firewall_box.sh: an attacker at 192.168.1.20 (and .22–.27 for malformed form
# fields, one address per case), the legitimate user hpotter at 192.168.1.21 in the same
# namespace. After every attack hpotter still logs in within 5 s and bulwark-control still runs.
# Usage: portal_hostile.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/radius.sh"
source "$HERE/user_firewall_box.sh"
uf_setup
for a in 22 23 24 25 26 27; do ip -n $ATT addr add 192.168.1.$a/24 dev eth0; done

check "the portal survives the hostile clients (portal_hostile.py, at most 60 s)" \
  timeout 75 ip netns exec $ATT python3 "$HERE/portal_hostile.py" --portal 192.168.1.1 \
    --attacker 192.168.1.20 --legit 192.168.1.21 \
    --field-sources 192.168.1.22,192.168.1.23,192.168.1.24,192.168.1.25,192.168.1.26,192.168.1.27 \
    --user hpotter --password "$HPOTTER_PW" --control-pid "$CONTROL_PID"
check "bulwark-control is still running" kill -0 "$CONTROL_PID"
check "and its portal still serves the login page" \
  ip netns exec $H10 curl -k -s -f -o /dev/null -m 5 "$PORTAL/"
finish
