// The user firewall's grants: what bulwark-control tells the dataplane about logged-in users.
//
// A *session* is one login of one user (bulwark-control numbers them; an id is never reused while
// the daemon runs). A session unlocks each template that lists its user; every such template is
// one *grant*: the template's rules apply, before the incoming/outgoing/DMZ rule lists, to new
// connections whose source is `source` (the address the user logged in from, or the template's
// fixed source_ip) and that the list of `login_role` would judge — the outgoing list after a login
// from an internal interface, the incoming list after one from an external interface, the DMZ
// list from a DMZ interface (manual 9.4). A template bound to a VPN connection applies only to
// traffic through that connection's tunnel, in its VPN firewall's list of the same direction.
//
// The control plane sends the whole set (kUserGrants) after every login, logout, expiry and
// reload; the dataplane resolves the template names against its running generation (a name the
// generation does not know grants nothing) and keeps the set across generations. A session that
// is no longer in the set has ended: its connections are aborted at their next packet.
//
// Activity (kUserActivity) reports, per session of the last set, how long ago a packet other than
// ICMP last passed on one of the connections its grants admitted (the dynamic timeout, 9.3.3), and
// how many of those connections are open.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "config/net_types.h"

namespace bulwark::config {

struct UserGrant {
  uint32_t session = 0;       // never 0
  Ipv4Address source;         // packets from this address get the template's rules
  Role login_role = Role::kInternal;
  std::string template_name;  // a user_firewall template of the running configuration
  bool operator==(const UserGrant&) const = default;
};

struct UserGrants {
  uint64_t serial = 0;  // increases with every set bulwark-control sends
  std::vector<UserGrant> grants;
  bool operator==(const UserGrants&) const = default;
};

inline constexpr size_t kMaxUserGrants = 1u << 20;

std::string encode_user_grants(const UserGrants& grants);
// nullopt (with `error`) for anything truncated, oversized or inconsistent (session 0, a role out
// of range, an empty or over-long template name, more than kMaxUserGrants grants).
std::optional<UserGrants> decode_user_grants(std::string_view data, std::string& error);

inline constexpr uint64_t kNeverActive = ~uint64_t{0};

struct SessionActivity {
  uint32_t session = 0;
  uint64_t idle_ms = kNeverActive;  // since the last non-ICMP packet on one of its connections
  uint32_t connections = 0;         // open connections its grants admitted (on all workers)
  bool operator==(const SessionActivity&) const = default;
};

std::string encode_session_activity(const std::vector<SessionActivity>& activity);
std::optional<std::vector<SessionActivity>> decode_session_activity(std::string_view data, std::string& error);

}  // namespace bulwark::config
