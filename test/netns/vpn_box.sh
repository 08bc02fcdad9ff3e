# A Bulwark box with one VPN connection, for the ESP tests: its configuration and its start
# (bulwark-dataplane on veths "int" and EXTERNAL_IFACE, bulwark-control running bulwark-iked in
# the exception namespace). Box N protects 192.168.N.0/24 and reaches 192.168.PEER_N.0/24; its VPN
# firewall lets in ping and TCP 7007 and drops (and logs) UDP 7008. Source after lib.sh; uses
# $TAG, $TMP, $BUILD, $VPN_PSK.

# vpn_box_config N PEER_N EXCEPTION_NS GATEWAY STARTUP EXTERNAL_IFACE EXTERNAL_ADDRESS [DEFAULT_GATEWAY]
# With MODE=transport in the environment the connection protects the two gateways' own traffic
# (transport mode) instead of the networks behind them.
# Also from the environment: INTERNAL=ADDRESS/LEN replaces the internal address
# (192.168.N.1/24), LOCAL and REMOTE the tunnel's networks (192.168.N.0/24, 192.168.PEER_N.0/24),
# TUNNEL_NAT adds NAT to the tunnel entry (`local_nat: {…}` or `remote_nat: {…}`),
# EXTERNAL_MTU and EXTERNAL_PORT set the external interface's MTU and DPDK port, and WORKERS=2
# gives the box two workers (lib.sh).
vpn_box_config() {
  local tunnel="{type: tunnel, local: ${LOCAL:-192.168.$1.0/24}, remote: ${REMOTE:-192.168.$2.0/24}${TUNNEL_NAT:+, $TUNNEL_NAT}}"
  [ "${MODE:-tunnel}" = transport ] && tunnel="{type: transport}"
  local queues
  queues=$(port_queues)
  cat <<YAML
version: 1
dataplane: {hugepages: false, memory_mb: $(dataplane_memory), main_lcore: 0, worker_lcores: $(worker_lcores), file_prefix: bw-esp$1-$TAG, exception_namespace: $3}
interfaces:
  - {name: internal, role: internal, port: "net_af_packet_esp$1${TAG}0,iface=int,qdisc_bypass=1$queues", mac: "02:e5:00:00:0$1:01", addresses: [${INTERNAL:-192.168.$1.1/24}]}
  - {name: external, role: external, port: "${EXTERNAL_PORT:-net_af_packet_esp$1${TAG}1,iface=$6,qdisc_bypass=1$queues}", mac: "02:e5:00:00:0$1:02", addresses: [$7]${EXTERNAL_MTU:+, mtu: $EXTERNAL_MTU}}
${8:+default_gateway: $8}
firewall:
  incoming:
    default: rules
    rules:
      - {protocol: udp, to_port: 500, action: accept, comment: IKE}
      - {protocol: udp, to_port: 4500, action: accept, comment: IKE NAT-T}
  outgoing: {default: accept}
ipsec:
  connections:
    - name: to-box$2
      remote_gateway: $4
      startup: $5
      authentication: {method: psk, psk: {env: VPN_PSK}, local_id: box$1.example.com, remote_id: box$2.example.com}
      tunnels:
        - $tunnel
      firewall:   # the VPN firewall (manual 10.4): from the other site only ping and the echo service
        incoming:
          default: rules
          rules:
            - {protocol: icmp, action: accept}
            - {protocol: tcp, to_port: 7007, action: accept}
            - {protocol: udp, to_port: 7008, action: drop, log: true, comment: not through the VPN}
YAML
}

# start_vpn_box N NAMESPACE: runs box N from $TMP/boxN.yaml (sockets $TMP/dpN.sock, ctlN.sock,
# bulwark-iked's in $TMP/ikedN/).
start_vpn_box() {
  "$BUILD/tools/bulwark" check "$TMP/box$1.yaml" >/dev/null
  ip netns exec $2 "$BUILD/dataplane/bulwark-dataplane" $(dataplane_eal) --socket "$TMP/dp$1.sock" >"$TMP/dataplane$1.log" 2>&1 &
  PIDS+=($!)
  wait_for "dataplane $1" 20 test -S "$TMP/dp$1.sock"
  ip netns exec $2 "$BUILD/control/bulwark-control" --dataplane-socket "$TMP/dp$1.sock" --socket "$TMP/ctl$1.sock" \
    --state-dir "$TMP/state$1" --iked-run-dir "$TMP/iked$1" "$TMP/box$1.yaml" >"$TMP/control$1.log" 2>&1 &
  PIDS+=($!)
}

# dp_event N NAME: dataplane N's count of event NAME (0 when it has none).
dp_event() {
  "$BUILD/tools/bulwark" status --socket "$TMP/dp$1.sock" | awk -v e="$2" '$1 == e {print $2; found=1} END {if (!found) print 0}'
}
