# The user firewall's test network (manual chapter 9), sourced by user_firewall.sh and
# portal_hostile.sh after lib.sh and radius.sh, with BUILD and HERE set.
#
#   h10 192.168.1.10 ─┐                              ┌─ server 10.1.0.100 (http 80, https 443)
#   h11 192.168.1.11 ─┤ lan ── internal ┐   ┌ external ── wan ─┤─ radius1 10.1.0.5
#       (+ .12–.15)   │  192.168.1.1/24 Bulwark 10.1.0.1/16    └─ radius2 10.1.0.6
#   att 192.168.1.20 ─┘      (.21)      (masquerades 192.168.1.0/24, outgoing default drop)
#
# lan and wan are bridges in namespaces of their own. The portal listens on 192.168.1.1:443 in
# the box's exception namespace; its RADIUS requests leave from 10.1.0.1 through the dataplane.
#
# uf_setup [MORE_TEMPLATES_YAML]: builds all of it, writes $TMP/box.yaml, starts the box, the web
# server and both RADIUS servers, and returns once the portal answers. Names it sets: BOX HOST LAN
# WAN H10 H11 ATT SRV R1 R2, PORTAL (https://192.168.1.1), RADIUS_SECRET, HPOTTER_PW, PWERNER_PW,
# SSHORT_PW, DDYN_PW, CONTROL_PID. Helpers: bw, login, logout_portal, http_code, http_ok,
# http_fails, users_json.

BOX=bub-$TAG HOST=buh-$TAG LAN=bul-$TAG WAN=buw-$TAG
H10=bua-$TAG H11=bug-$TAG ATT=but-$TAG SRV=bus-$TAG R1=bur1-$TAG R2=bur2-$TAG
PORTAL=https://192.168.1.1
RADIUS_SECRET='radius s3cret!'
HPOTTER_PW='Hedwig 7 owl'
PWERNER_PW='Radius-pass 9'
SSHORT_PW='short-lived'
DDYN_PW='dynamic one'

bw() { "$BUILD/tools/bulwark" "$@"; }

# login NS SOURCE USER PASSWORD: POSTs the form to the portal from SOURCE; the body goes to
# $TMP/login.body, the status code is printed (000 when no answer came within 15 s).
login() {
  : >"$TMP/login.body"
  timeout 20 ip netns exec "$1" curl -k -s -m 15 --interface "$2" -o "$TMP/login.body" -w '%{http_code}' \
    --data-urlencode "username=$3" --data-urlencode "password=$4" "$PORTAL/login" 2>/dev/null || true
}
logout_portal() {  # NS SOURCE: the logout button, as curl
  : >"$TMP/logout.body"
  timeout 20 ip netns exec "$1" curl -k -s -m 15 --interface "$2" -o "$TMP/logout.body" -w '%{http_code}' \
    -X POST "$PORTAL/logout" 2>/dev/null || true
}
# http_code NS SOURCE URL: the status of a GET, 000 when it failed (connect timeout 2 s, 4 s in all)
http_code() {
  timeout 10 ip netns exec "$1" curl -k -s -o /dev/null --interface "$2" --connect-timeout 2 -m 4 \
    -w '%{http_code}' "$3" 2>/dev/null || true
}
http_ok() { [ "$(http_code "$@")" = 200 ]; }
http_fails() { [ "$(http_code "$@")" = 000 ]; }
users_json() { bw users --json --socket "$TMP/ctl.sock"; }
logged_in() { users_json | /usr/bin/python3 -c "import json,sys; sys.exit(not any(u['user'] == '$1' for u in json.load(sys.stdin)['users']))"; }
not_logged_in() { ! logged_in "$1"; }

uf_setup() {
  for ns in $BOX $HOST $LAN $WAN $H10 $H11 $ATT $SRV $R1 $R2; do new_ns "$ns"; done
  ip -n $LAN link add lan type bridge
  ip -n $LAN link set lan up
  ip -n $WAN link add wan type bridge
  ip -n $WAN link set wan up
  link $BOX int $LAN pbox
  link $H10 eth0 $LAN p10
  link $H11 eth0 $LAN p11
  link $ATT eth0 $LAN patt
  link $BOX ext $WAN pbox
  link $SRV eth0 $WAN psrv
  link $R1 eth0 $WAN pr1
  link $R2 eth0 $WAN pr2
  for p in pbox p10 p11 patt; do ip -n $LAN link set $p master lan; done
  for p in pbox psrv pr1 pr2; do ip -n $WAN link set $p master wan; done
  ip -n $H10 addr add 192.168.1.10/24 dev eth0
  for a in 11 12 13 14 15; do ip -n $H11 addr add 192.168.1.$a/24 dev eth0; done
  for a in 20 21; do ip -n $ATT addr add 192.168.1.$a/24 dev eth0; done
  for ns in $H10 $H11 $ATT; do ip -n $ns route add default via 192.168.1.1; done
  ip -n $SRV addr add 10.1.0.100/16 dev eth0   # no route back: only masqueraded traffic returns
  ip -n $R1 addr add 10.1.0.5/16 dev eth0
  ip -n $R2 addr add 10.1.0.6/16 dev eth0

  # Secrets by reference; the hashes are crypt(3) SHA-512 ($6$), as mkpasswd -m sha-512 makes them.
  printf '%s' "$RADIUS_SECRET" >"$TMP/radius.secret"
  for u in hpotter:"$HPOTTER_PW" sshort:"$SSHORT_PW" ddyn:"$DDYN_PW"; do
    printf '%s' "$(openssl passwd -6 "${u#*:}")" >"$TMP/${u%%:*}.hash"
  done
  chmod 600 "$TMP"/*.hash "$TMP/radius.secret"

  cat >"$TMP/box.yaml" <<YAML
version: 1
system:
  log_file: $TMP/bulwark.log
dataplane:
  hugepages: false
  memory_mb: $(dataplane_memory)
  main_lcore: 0
  worker_lcores: $(worker_lcores)
  file_prefix: bw-uf-$TAG
  exception_namespace: $HOST
interfaces:
  - name: internal
    role: internal
    port: net_af_packet_uf${TAG}0,iface=int,qdisc_bypass=1$(port_queues)
    mac: "02:b9:00:00:00:01"
    addresses: [192.168.1.1/24]
  - name: external
    role: external
    port: net_af_packet_uf${TAG}1,iface=ext,qdisc_bypass=1$(port_queues)
    mac: "02:b9:00:00:00:02"
    addresses: [10.1.0.1/16]
nat:
  masquerade:
    - {interface: external, from: 192.168.1.0/24, comment: Production network}
firewall:
  outgoing:
    default: drop
user_firewall:
  enabled: true
  login_interfaces: [internal]
  users:
    - {name: hpotter, authentication: local, password_hash: {file: $TMP/hpotter.hash}}
    - {name: pwerner, authentication: radius}
    - {name: sshort, authentication: local, password_hash: {file: $TMP/sshort.hash}}
    - {name: ddyn, authentication: local, password_hash: {file: $TMP/ddyn.hash}}
  radius_servers:
    - {address: 10.1.0.5, port: 1812, secret: {file: $TMP/radius.secret}, timeout: 3s, require_message_authenticator: true}
    - {address: 10.1.0.6, port: 1812, secret: {file: $TMP/radius.secret}, timeout: 3s}
  templates:
    - name: Access Web-Server (HTTP)
      timeout: 10m
      timeout_type: static
      users: [pwerner, hpotter]
      source_ip: '%authorized_ip'
      rules:
        - {protocol: tcp, from_port: any, to: 0.0.0.0/0, to_port: http}
        - {protocol: tcp, from_port: any, to: 0.0.0.0/0, to_port: https}
    - name: Short web access
      timeout: 4s
      timeout_type: static
      users: [sshort]
      source_ip: '%authorized_ip'
      rules:
        - {protocol: tcp, to: 10.1.0.100, to_port: http}
    - name: Idle web access
      timeout: 4s
      timeout_type: dynamic
      users: [ddyn]
      source_ip: '%authorized_ip'
      rules:
        - {protocol: tcp, to: 10.1.0.100, to_port: http}
        - {protocol: icmp, to: 10.1.0.100}
YAML
  "$BUILD/tools/bulwark" check "$TMP/box.yaml" >"$TMP/check.log" 2>&1 || { cat "$TMP/check.log"; return 1; }

  # The company web server (a throwaway certificate) and the two RADIUS servers; they know the
  # box by its external address.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=10.1.0.100 \
    -keyout "$TMP/www.key" -out "$TMP/www.crt" >/dev/null 2>&1
  ip netns exec $SRV python3 "$HERE/web_server.py" 10.1.0.100 "$TMP/www.crt" "$TMP/www.key" \
    >"$TMP/www.log" 2>&1 &
  PIDS+=($!)
  RADIUS_CLIENTS=10.1.0.1 RADIUS_REQUIRE_MA=yes start_radius $R1 10.1.0.5 "$RADIUS_SECRET" "pwerner=$PWERNER_PW"
  RADIUS_CLIENTS=10.1.0.1 RADIUS_REQUIRE_MA=yes start_radius $R2 10.1.0.6 "$RADIUS_SECRET" "pwerner=$PWERNER_PW"
  wait_for "the company web server" 10 ip netns exec $SRV sh -c "ss -ltn | grep -q 10.1.0.100:443"

  start_box $BOX
  CONTROL_PID=${PIDS[-1]}
  wait_for "the login portal on 192.168.1.1:443" 30 \
    ip netns exec $H10 curl -k -s -o /dev/null -m 2 "$PORTAL/"
}
