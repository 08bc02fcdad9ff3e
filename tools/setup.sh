#!/usr/bin/env bash
# Installs every Debian package Bulwark needs (idempotent: apt-get runs only when something is
# missing) and builds the project into build/. Used by both README commands and by CI.
# Later subsystems add their packages to PACKAGES below.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  g++ meson ninja-build pkg-config python3
  # libraries (design card)
  libdpdk-dev dpdk libssl-dev libyaml-cpp-dev libfmt-dev libboost-program-options-dev
  catch2 libpcap-dev
  # tests: JSON Schema check of the examples, golden captures (scapy), network namespaces
  python3-yaml python3-jsonschema python3-scapy python3-cryptography iproute2 ethtool iputils-ping
  # CIFS integrity monitoring: libsmbclient, and a real smbd plus openssl for its tests
  libsmbclient-dev samba smbclient openssl
  # IKE: libcharon, its OpenSSL plugin, swanctl (VICI client) and the extra plugins; the headers
  # come from Debian's source package (tools/strongswan/prepare_headers.sh, at meson setup)
  strongswan-libcharon strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
  libcharon-extra-plugins libstrongswan-extra-plugins dpkg-dev bzip2
  # user firewall end-to-end tests (test/netns/user_firewall.sh): a real FreeRADIUS and radtest,
  # a headless Chromium driven by selenium through Debian's chromedriver, curl, mkpasswd (whois)
  freeradius freeradius-utils chromium chromium-driver python3-selenium curl whois
  # the HTTPS login portal (control/portal/): libmicrohttpd over GnuTLS,
  # libcrypt for local password hashes
  libmicrohttpd-dev libgnutls28-dev libcrypt-dev
  # RADIUS: FreeRADIUS's packet library (control/portal/radius_pap.c) and what it links with
  libfreeradius-dev freeradius-common libtalloc-dev libpcre3-dev libcap-dev
  # the differential NAT suite (test/differential/): Linux nftables as the reference gateway;
  # remote syslog's test (test/netns/syslog_remote.sh): a real rsyslog
  nftables rsyslog
  # DHCP-assigned external addresses (control/dhcp/): BusyBox's udhcpc is the box's DHCP client;
  # dnsmasq (the binary only) is the ISP's server in test/netns/dhcp_uplink.sh
  udhcpc dnsmasq-base
  # Prometheus metrics' test (test/netns/metrics.sh) parses scrapes with the Python client
  python3-prometheus-client
)
# ESP: AES-GCM through intel-ipsec-mb where Debian has it (x86-64); OpenSSL elsewhere.
if [ "$(dpkg --print-architecture)" = amd64 ]; then PACKAGES+=(libipsec-mb-dev); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (or with sudo) to install packages" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The strongSwan headers are fetched with `apt-get source`, which needs a deb-src entry for
# the Debian archive: the suites and keyring of the machine's own entries.
if ! grep -rqs "^Types: deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
  if [ "$(id -u)" -eq 0 ]; then
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        >/etc/apt/sources.list.d/bulwark-deb-src.sources
    else
      sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >/etc/apt/sources.list.d/bulwark-deb-src.list
    fi
    apt-get update -qq
  fi
fi

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=debugoptimized >/dev/null
fi
ninja -C build
