#!/usr/bin/env bash
# End-to-end: the user firewall (manual chapter 9) with its HTTPS login portal, against a real
# FreeRADIUS (two of them), a real headless Chromium and curl, in network namespaces the test
# creates (the network: user_firewall_box.sh).
#
# The production network is masqueraded but the outgoing list drops everything. After logging in
# at https://192.168.1.1/ a user's template lets their address (only theirs) reach web servers
# over http and https: hpotter with a local crypt(3) password, pwerner through RADIUS (with
# fail-over to the second server). Logging out — at the portal or with `bulwark users logout` —
# ends access and aborts open connections; a static timeout ends it after its time, a dynamic one
# when no traffic but pings passes. Wrong password and unknown user get the same answer; RADIUS
# being down gets a different one. Finally the login page in Chromium (test/browser/portal_login.py,
# screenshot in $ARTIFACT_DIR or BUILD_DIR/meson-logs).
# Usage: user_firewall.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/radius.sh"
source "$HERE/user_firewall_box.sh"
T0=$(date +%s)
uf_setup
echo "box, portal, web server and RADIUS servers up after $(($(date +%s) - T0)) s"

# since T: seconds (one decimal) since T (a date +%s.%N); holds EXPR: an awk condition
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
holds() { awk "BEGIN { exit !($1) }"; }

WEB=http://10.1.0.100/ WEBS=https://10.1.0.100/
TEMPLATE="Access Web-Server (HTTP)"

# --- before any login ----------------------------------------------------------------------
check "before a login, HTTP from 192.168.1.10 to the company server is dropped" \
  http_fails $H10 192.168.1.10 $WEB
check "the portal's login page is served (GET / is an HTML form posting to /login)" \
  sh -c "ip netns exec $H10 curl -k -s -m 5 $PORTAL/ | grep -qi '<form' &&
         ip netns exec $H10 curl -k -s -m 5 $PORTAL/ | grep -qi 'action=\"/login\"'"
check "bulwark status prints the portal certificate's SHA-256 fingerprint" \
  sh -c "'$BUILD/tools/bulwark' status --socket '$TMP/dp.sock' --control-socket '$TMP/ctl.sock' |
         grep -iE 'sha-?256' | grep -qE '([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}'"
fp_cli=$(bw status --socket "$TMP/dp.sock" --control-socket "$TMP/ctl.sock" 2>/dev/null |
         grep -oE '([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}' | head -1 | tr a-f A-F || true)
fp_wire=$(ip netns exec $H10 sh -c "openssl s_client -connect 192.168.1.1:443 </dev/null 2>/dev/null |
          openssl x509 -noout -fingerprint -sha256" 2>/dev/null | sed 's/.*=//' | tr a-f A-F || true)
check "and it is the fingerprint of the certificate the portal presents" \
  test -n "$fp_wire" -a "$fp_cli" = "$fp_wire"

# --- hpotter (local) ------------------------------------------------------------------------
code=$(login $H10 192.168.1.10 hpotter "$HPOTTER_PW")
check "hpotter (local password) logs in over HTTPS from 192.168.1.10 (HTTP $code)" test "$code" = 200
check "the success page names the template and when it expires" \
  sh -c "grep -qF '$TEMPLATE' '$TMP/login.body' && grep -qiE 'expir' '$TMP/login.body'"
check "then HTTP from 192.168.1.10 passes" http_ok $H10 192.168.1.10 $WEB
check "and HTTPS from 192.168.1.10 passes" http_ok $H10 192.168.1.10 $WEBS
check "but HTTP from 192.168.1.11 is still dropped" http_fails $H11 192.168.1.11 $WEB
check "and HTTPS from 192.168.1.11 too" http_fails $H11 192.168.1.11 $WEBS
check "the server saw the requests from the masquerading address 10.1.0.1" \
  grep -q '^10\.1\.0\.1 - .*"GET / ' "$TMP/www.log"
users_json >"$TMP/users.json" 2>"$TMP/users.err" || true
check "bulwark users --json shows hpotter from 192.168.1.10 (local) with the template and its expiry" \
  /usr/bin/python3 - "$TMP/users.json" "$TEMPLATE" <<'PY'
import datetime, json, sys
users = json.load(open(sys.argv[1]))["users"]
u = [u for u in users if u["user"] == "hpotter"]
assert len(u) == 1, users
u = u[0]
assert u["address"] == "192.168.1.10" and u["interface"] == "internal" and u["method"] == "local", u
assert isinstance(u["connections"], int), u
t = [t for t in u["templates"] if t["name"] == sys.argv[2]]
assert len(t) == 1 and t[0]["dynamic"] is False and t[0]["source"] == "192.168.1.10", u
expires = datetime.datetime.fromisoformat(t[0]["expires"].replace("Z", "+00:00"))
if expires.tzinfo is None:
    expires = expires.replace(tzinfo=datetime.timezone.utc)
left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
assert 500 < left <= 600, f"expires in {left} s, not about 10 min"
PY
[ "$FAILED" -eq 0 ] || { echo "--- bulwark users --json:"; cat "$TMP/users.json" "$TMP/users.err"; }

# Logout at the portal: an open keep-alive connection is aborted, new ones are dropped.
coproc KEEP { ip netns exec $H10 python3 "$HERE/http_keepalive.py" $WEB 192.168.1.10; }
KEEP_IN=${KEEP[0]} KEEP_OUT=${KEEP[1]}   # kept: bash unsets KEEP when the client exits
keep_get() {  # one more request on the open connection: answer=ok|closed|timeout|none
  answer=none
  { echo get >&"$KEEP_OUT"; } 2>/dev/null && read -t 5 -r answer <&"$KEEP_IN" || true
}
read -t 10 -r first <&"$KEEP_IN" || first=none
keep_get
check "a keep-alive HTTP connection from 192.168.1.10 carries requests while logged in" \
  test "$first/$answer" = connected/ok
code=$(logout_portal $H10 192.168.1.10)
check "the portal's logout logs 192.168.1.10 out (HTTP $code)" \
  sh -c "test '$code' = 200 && ! '$BUILD/tools/bulwark' users --json --socket '$TMP/ctl.sock' | grep -q hpotter"
keep_get
check "the logout aborts the open keep-alive connection (next request: $answer)" \
  test "$answer" = closed -o "$answer" = timeout
exec {KEEP_OUT}>&- 2>/dev/null || true
wait "$KEEP_PID" 2>/dev/null || true
check "and new HTTP from 192.168.1.10 is dropped again" http_fails $H10 192.168.1.10 $WEB

# --- pwerner (RADIUS), fail-over, failures ---------------------------------------------------
code=$(login $H11 192.168.1.11 pwerner "$PWERNER_PW")
check "pwerner logs in via RADIUS from 192.168.1.11 (HTTP $code)" test "$code" = 200
check "the first RADIUS server answered it (from the box's 10.1.0.1)" \
  grep -q 'Received Access-Request .* from 10\.1\.0\.1:' "$TMP/radius-10.1.0.5.log"
check "then HTTP from 192.168.1.11 passes" http_ok $H11 192.168.1.11 $WEB
check "bulwark users shows pwerner with the method radius" \
  sh -c "'$BUILD/tools/bulwark' users --json --socket '$TMP/ctl.sock' |
         /usr/bin/python3 -c 'import json,sys; u=[u for u in json.load(sys.stdin)[\"users\"] if u[\"user\"]==\"pwerner\"]; sys.exit(not (u and u[0][\"method\"]==\"radius\" and u[0][\"address\"]==\"192.168.1.11\"))'"
logout_portal $H11 192.168.1.11 >/dev/null

# The same answer for a wrong local password, a wrong RADIUS password and an unknown user (each
# from an address of its own, so that no rate limit interferes).
code_local=$(login $H11 192.168.1.12 hpotter "wrong password"); cp "$TMP/login.body" "$TMP/wrong-local.body"
code_radius=$(login $H11 192.168.1.13 pwerner "wrong password"); cp "$TMP/login.body" "$TMP/wrong-radius.body"
code_unknown=$(login $H11 192.168.1.14 nosuchuser "wrong password"); cp "$TMP/login.body" "$TMP/unknown.body"
check "a wrong password is refused with 401 or 403 (HTTP $code_local)" \
  sh -c "test '$code_local' = 401 -o '$code_local' = 403"
check "a wrong RADIUS password gets the same status and byte-identical body (HTTP $code_radius)" \
  sh -c "test '$code_radius' = '$code_local' && cmp -s '$TMP/wrong-local.body' '$TMP/wrong-radius.body'"
check "an unknown user gets the same status and byte-identical body (HTTP $code_unknown)" \
  sh -c "test '$code_unknown' = '$code_local' && cmp -s '$TMP/wrong-local.body' '$TMP/unknown.body'"
if ! cmp -s "$TMP/wrong-local.body" "$TMP/unknown.body"; then
  diff "$TMP/wrong-local.body" "$TMP/unknown.body" | head -20 || true
fi

stop_radius 10.1.0.5
started=$(date +%s.%N)
code=$(login $H11 192.168.1.11 pwerner "$PWERNER_PW")
took=$(since $started)
check "with the first RADIUS server down, pwerner still logs in via the second (HTTP $code, ${took} s)" \
  sh -c "test '$code' = 200 && grep -q 'Received Access-Request .* from 10\.1\.0\.1:' '$TMP/radius-10.1.0.6.log'"
logout_portal $H11 192.168.1.11 >/dev/null
stop_radius 10.1.0.6
code=$(login $H11 192.168.1.15 pwerner "$PWERNER_PW"); cp "$TMP/login.body" "$TMP/unavailable.body"
check "with both RADIUS servers down the answer is an 'unavailable' error (HTTP $code), not 'wrong password'" \
  sh -c "test '$code' != 200 -a '$code' != 000 && ! cmp -s '$TMP/unavailable.body' '$TMP/wrong-local.body' &&
         grep -qiE 'unavailable|unreachable|not reachable|no answer|not respond|try again later' '$TMP/unavailable.body'"
code=$(login $H10 192.168.1.10 hpotter "$HPOTTER_PW")
check "hpotter (local) logs in again with RADIUS down (HTTP $code)" test "$code" = 200
bw users logout hpotter --socket "$TMP/ctl.sock" >"$TMP/cli-logout.txt" 2>&1 || true
check "bulwark users logout hpotter logs hpotter out" not_logged_in hpotter
check "and HTTP from 192.168.1.10 is dropped again" http_fails $H10 192.168.1.10 $WEB

# --- static timeout: 4 s, whatever the traffic ------------------------------------------------
code=$(login $H10 192.168.1.10 sshort "$SSHORT_PW")
login_at=$(date +%s.%N)
check "sshort logs in (template 'Short web access', static 4 s) (HTTP $code)" test "$code" = 200
ok_until=none
while true; do
  now=$(since $login_at)
  if holds "$now > 9"; then break; fi
  if [ "$(http_code $H10 192.168.1.10 $WEB)" = 200 ]; then ok_until=$now; else break; fi
  sleep 0.5
done
ended=$(since $login_at)
echo "static timeout: last request passed at ${ok_until} s, access ended by ${ended} s after the login"
check "static 4 s: HTTP passes for about 4 s despite the traffic (last pass at ${ok_until} s)" \
  holds "\"$ok_until\" != \"none\" && $ok_until + 0 >= 2.5 && $ok_until + 0 < 5"
check "static 4 s: then access ends within a bounded window (ended at ${ended} s, before 9 s)" \
  holds "$ended < 9"
check "static 4 s: and the session is gone from bulwark users" \
  wait_for "the expired session to leave the list" 3 not_logged_in sshort

# --- dynamic timeout: 4 s without traffic; HTTP keeps it, pings do not ---------------------------
code=$(login $H10 192.168.1.10 ddyn "$DDYN_PW")
login_at=$(date +%s)
check "ddyn logs in (template 'Idle web access', dynamic 4 s) (HTTP $code)" test "$code" = 200
kept=yes
for _ in 1 2 3 4; do   # a request every 2 s: 8 s in all, twice the timeout
  http_ok $H10 192.168.1.10 $WEB || kept=no
  sleep 2
done
check "dynamic 4 s: HTTP every 2 s keeps the access alive past 6 s ($(($(date +%s) - login_at)) s)" \
  sh -c "test $kept = yes && '$BUILD/tools/bulwark' users --json --socket '$TMP/ctl.sock' | grep -q ddyn"
check "dynamic 4 s: and HTTP still passes" http_ok $H10 192.168.1.10 $WEB
idle_from=$(date +%s.%N)
ping_ok=no
ip netns exec $H10 ping -c 1 -W 1 -q 10.1.0.100 >/dev/null 2>&1 && ping_ok=yes
check "dynamic 4 s: the template's ICMP rule lets a ping through" test $ping_ok = yes
ip netns exec $H10 ping -i 0.5 -w 9 -q 10.1.0.100 >/dev/null 2>&1 &
PING=$!
PIDS+=($PING)
gone=none
for _ in $(seq 40); do
  if not_logged_in ddyn; then gone=$(since $idle_from); break; fi
  sleep 0.25
done
kill $PING 2>/dev/null || true
check "dynamic 4 s: with only pings (every 0.5 s) the access expires (after ${gone} s, expected 3.5–8 s)" \
  holds "\"$gone\" != \"none\" && $gone + 0 >= 3.5 && $gone + 0 <= 8"
check "dynamic 4 s: and HTTP from 192.168.1.10 is dropped again" http_fails $H10 192.168.1.10 $WEB

# --- the login page in a real browser ---------------------------------------------------------
SHOTS=${ARTIFACT_DIR:-$BUILD/meson-logs}
mkdir -p "$SHOTS"
SHOT=$SHOTS/user_firewall-portal-success.png
rm -f "$SHOT"
timeout 60 ip netns exec $H10 /usr/bin/python3 "$HERE/../browser/portal_login.py" --url "$PORTAL/" \
  --user hpotter --password "$HPOTTER_PW" --template "$TEMPLATE" --screenshot "$SHOT" \
  >"$TMP/browser.log" 2>&1 && browser=ok || browser=failed
sed 's/^/  browser: /' "$TMP/browser.log"
check "Chromium logs in at the portal's login page, sees the template and a logout button, logs out" \
  test $browser = ok
check "the screenshot of the success page is saved ($SHOT)" test -s "$SHOT"
check "after the browser's logout hpotter is no longer logged in" not_logged_in hpotter

check "bulwark-control is still running" kill -0 "$CONTROL_PID"
echo "user firewall test took $(($(date +%s) - T0)) s"
finish
