// DHCP leases of the box's external interfaces (`dhcp: true`, docs/dhcp.md).
//
// Theory of operation: bulwark-control runs a DHCP client for every such interface in the
// exception namespace (control/dhcp/). A lease is not part of the YAML; it is an overlay that the
// loader puts on the parsed model before validation: the leased address becomes the interface's
// address and the lease's router the default gateway, both located at the interface's `dhcp`
// key so that any diagnostic about them points there. Everything that follows from the
// address — %extern, masquerading, port forwarding, IKE endpoints, the login portal, the
// exception path — is then compiled as if the address had been written in the file, and a new
// lease is simply a new generation. bulwark-control keeps the leases in a small file that
// bulwark-iked reads too, so that both processes compile the same tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/net_types.h"

namespace bulwark::config {

struct DhcpLease {
  std::string interface;              // the configured interface's name
  Ipv4Prefix address;                 // the leased address with its subnet's prefix length
  std::optional<Ipv4Address> router;  // option 3 (the first router), if given
  Ipv4Address server;                 // option 54, the server identifier
  uint32_t lease_seconds = 0;         // option 51
  std::vector<Ipv4Address> dns;       // option 6

  bool operator==(const DhcpLease&) const = default;
  std::string describe() const;  // "10.0.0.5/24 router 10.0.0.1 from 10.0.0.1 for 600 s"
};

// One lease per line, tab-separated: interface, address/len, router or "-", server, seconds,
// comma-separated DNS servers or "-".
std::string encode_leases(const std::vector<DhcpLease>& leases);
std::optional<std::vector<DhcpLease>> decode_leases(const std::string& text, std::string& error);

// Written atomically (temporary file and rename), mode 0644: it holds no secret.
bool write_leases_file(const std::string& path, const std::vector<DhcpLease>& leases, std::string& error);
// A missing file is no lease; a malformed one is an error.
std::optional<std::vector<DhcpLease>> read_leases_file(const std::string& path, std::string& error);

// Puts each lease on its `dhcp` interface of `model` (leases for other interfaces are ignored):
// the address, and the router as default gateway when no earlier lease gave one.
void apply_leases(Model& model, const std::vector<DhcpLease>& leases);

}  // namespace bulwark::config
