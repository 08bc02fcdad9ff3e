# A stock Debian charon for the interoperation tests: kernel-libipsec (ESP in userspace, through a
# TUN device and UDP encapsulation, as the kernel here has none), configured by swanctl, with its
# own /run (its pid file is fixed) and settings. Source after lib.sh.
#
# start_stock_charon NAMESPACE ADDRESS LOCAL_TS REMOTE_TS INSTALL_ROUTES
#   answers box1.example.com (PSK $VPN_PSK) as box2.example.com; sets STOCK_VICI
start_stock_charon() {
  local ns=$1 address=$2 local_ts=$3 remote_ts=$4 routes=$5
  S=$TMP/stock
  mkdir -p "$S/run"
  cat >"$S/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici
  install_routes = $routes
  plugins {
    vici {
      socket = unix://$S/charon.vici
    }
  }
  filelog {
    stderr {
      default = 1
    }
  }
}
CONF
  cat >"$S/swanctl.conf" <<CONF
connections {
  to-box1 {
    version = 2
    local_addrs = $address
    remote_addrs = %any
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
      id = box2.example.com
    }
    remote {
      auth = psk
      id = box1.example.com
    }
    children {
      to-box1 {
        local_ts = $local_ts
        remote_ts = $remote_ts
        esp_proposals = aes128gcm16-modp2048
      }
    }
  }
}
secrets {
  ike-box1 {
    id = box1.example.com
    secret = "$VPN_PSK"
  }
}
CONF
  chmod 600 "$S/swanctl.conf"
  ip netns exec "$ns" sh -c "mount --bind '$S/run' /run && STRONGSWAN_CONF='$S/strongswan.conf' exec /usr/lib/ipsec/charon" \
    >"$TMP/stock.log" 2>&1 &
  PIDS+=($!)
  STOCK_VICI="unix://$S/charon.vici"
  wait_for "the stock charon" 20 test -S "$S/charon.vici"
  swanctl --load-all --file "$S/swanctl.conf" --uri "$STOCK_VICI" >"$TMP/swanctl-load.log" 2>&1
}
