// Turns the IPsec part of the configuration (manual chapters 10–14) into charon connections and
// credentials, loaded into the running IKE daemon over its VICI socket — the interface swanctl
// uses, so that `swanctl --list-conns` shows exactly what Bulwark loaded.
//
// One charon connection per VPN connection; one CHILD_SA configuration per tunnel entry (named
// NAME, or NAME-2, NAME-3, … for further entries). Initiators with "initially started" bring
// their tunnels up at once; responders (%any) wait. PFS: a DH group in the ESP proposals, removed
// when `pfs: false`. PSKs are bound to the remote identity (or gateway), so connections with
// different keys never mix. No secret is ever logged.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "config/tables.h"

namespace bulwark::control::ike {

struct ViciItem {  // one message, as a flat list of (path, value) for tests and logs (no secrets)
  std::string command;
  std::string name;
  std::vector<std::pair<std::string, std::string>> fields;
};

// The certificate's contents as charon takes them in a connection (PEM or DER); the default
// gives its path, which is what the unit tests look at.
using CertificateData = std::function<std::string(const config::CertificateEntry&)>;

// The load-conn messages for `t` (secrets are not part of them).
std::vector<ViciItem> connection_messages(const config::Tables& t, const CertificateData& data = nullptr);
std::string child_name(const config::VpnConnectionEntry& c, size_t tunnel);
// ESP proposals with the DH groups removed (no PFS).
std::vector<std::string> without_dh_groups(const std::vector<std::string>& proposals);

// Loads connections and credentials into the daemon at VICI socket `socket_path` and unloads the
// connections of `loaded` (the names loaded before, updated) no longer configured. Returns the
// problems, each one line naming the connection.
std::vector<std::string> load_configuration(const config::Tables& t, const std::string& socket_path,
                                            std::set<std::string>& loaded);

}  // namespace bulwark::control::ike
