#include "control/ike/vpn_status.h"

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::control::ike {

std::string explain(int kind, const std::string& detail) {
  switch (kind) {
    case BW_PEER_UNREACHABLE:
      return fmt::format("peer unreachable ({}): check remote_gateway, the route to it, and that UDP 500 "
                         "and 4500 pass every firewall and NAT router on the way", detail);
    case BW_IKE_PROPOSAL_MISMATCH:
    case BW_PEER_REJECTED_IKE:
      return fmt::format("IKE proposal mismatch ({}): ike.proposals (encryption, hash, DH group), ike.version "
                         "and ike.mode must agree on both sides", detail);
    case BW_ESP_PROPOSAL_MISMATCH:
    case BW_PEER_REJECTED_ESP:
      return fmt::format("ESP proposal mismatch ({}): esp.proposals must agree on both sides; also check esp.pfs "
                         "— with PFS on one side only, the DH groups differ", detail);
    case BW_TS_MISMATCH:
    case BW_PEER_REJECTED_TS:
      return fmt::format("traffic selector mismatch ({}): each tunnel's local network here must be the remote "
                         "network there and the other way round (with 1:1 NAT: the virtual networks)", detail);
    case BW_PEER_AUTH_FAILED:
      return fmt::format("authentication of the peer failed ({}): check the pre-shared key (the same on both "
                         "sides), remote_id, or the remote certificate and CA", detail);
    case BW_LOCAL_AUTH_FAILED:
    case BW_PEER_REJECTED_AUTH:
      return fmt::format("the peer rejected our authentication ({}): check the pre-shared key, local_id (the "
                         "peer's remote_id) or our machine certificate", detail);
    case BW_CERTIFICATE_PROBLEM:
      return fmt::format("certificate problem ({}): check the validity dates, the issuing CA and revocation",
                         detail);
    default:
      return detail;
  }
}

void VpnStatus::set_connections(const config::Tables& t) {
  std::lock_guard<std::mutex> lock(mutex_);
  gateways_.clear();
  for (const auto& c : t.ipsec.connections) gateways_.emplace_back(c.name, c.remote_gateway);
}

void VpnStatus::on_event(const std::string& connection, int kind, const std::string& detail, uint32_t reqid) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connection.empty() || connection[0] != '@') {
    apply(states_[connection], kind, detail, reqid);
    return;
  }
  const std::string address = connection.substr(1);
  for (const auto& [name, gateway] : gateways_) {
    if (gateway == "%any" || gateway == address) apply(states_[name], kind, detail, reqid);
  }
}

std::set<uint32_t> VpnStatus::reqids(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<uint32_t> out;
  for (const auto& [reqid, count] : states_[connection].reqids) out.insert(reqid);
  return out;
}

std::optional<std::time_t> VpnStatus::failed_at(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = states_.find(connection);
  if (it == states_.end() || it->second.ike_up || it->second.problem.empty()) return std::nullopt;
  return it->second.problem_at;
}

void VpnStatus::apply(State& s, int kind, const std::string& detail, uint32_t reqid) {
  std::time_t now = std::time(nullptr);
  switch (kind) {
    case BW_IKE_UP:
      s.ike_up = true;
      s.since = now;
      break;
    case BW_IKE_DOWN:
      s.ike_up = false;
      s.children_up = 0;
      s.reqids.clear();
      break;
    case BW_CHILD_UP:
      ++s.children_up;
      ++s.reqids[reqid];
      s.problem.clear();  // a tunnel is up: whatever failed before is solved
      break;
    case BW_CHILD_DOWN:
      if (s.children_up > 0) --s.children_up;
      if (auto it = s.reqids.find(reqid); it != s.reqids.end() && --it->second <= 0) s.reqids.erase(it);
      break;
    default:
      s.problem = explain(kind, detail);
      s.problem_at = now;
      break;
  }
}

std::string VpnStatus::state_word(const config::VpnConnectionEntry& c, const State& s) const {
  if (s.ike_up && s.children_up > 0) return "established";
  if (s.ike_up) return "established (IKE SA only)";
  return c.initiate ? "pending" : "waiting";
}

std::string VpnStatus::describe(const config::Tables& t, const std::string& name, const std::string& sas_text,
                                const std::map<std::string, std::string>& started) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& c : t.ipsec.connections) {
    if (!name.empty() && c.name != name) continue;
    const State& s = states_[c.name];
    out += fmt::format("{}: {}\n", c.name, state_word(c, s));
    out += fmt::format("  remote gateway   {} ({}, IKEv{}{})\n", c.remote_gateway, c.initiate ? "initiate" : "wait",
                       c.ike.version, c.ike.version == 1 ? (c.ike.aggressive ? " aggressive mode" : " main mode") : "");
    for (const auto& tunnel : c.tunnels) {
      out += tunnel.transport ? "  tunnel           transport mode\n"
                              : fmt::format("  tunnel           {} <-> {}\n", tunnel.local.str(), tunnel.remote.str());
    }
    if (s.ike_up) {
      char since[32];
      std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S", std::localtime(&s.since));
      out += fmt::format("  IKE SA           up since {}, {} CHILD SA(s)\n", since, s.children_up);
    }
    if (c.controlling_switch < t.switches.size()) {
      out += fmt::format("  controlled by    switch {}\n", t.switches[c.controlling_switch].name);
    }
    if (auto it = started.find(c.name); it != started.end() && !it->second.empty()) {
      out += fmt::format("  started          {}\n", it->second.substr(it->second.find(' ') + 1));
    }
    if (!s.problem.empty()) out += fmt::format("  last problem     {}\n", s.problem);
  }
  if (!out.empty() && !name.empty()) out += sas_text;
  return out;
}

std::string VpnStatus::describe_json(const config::Tables& t, const std::string& name) {
  using config::json_string;
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "[";
  for (const auto& c : t.ipsec.connections) {
    if (!name.empty() && c.name != name) continue;
    const State& s = states_[c.name];
    out += fmt::format("{}{{\"name\": {}, \"state\": {}, \"ike_up\": {}, \"children_up\": {}, \"problem\": {}}}",
                       out.size() > 1 ? ", " : "", json_string(c.name), json_string(state_word(c, s)), s.ike_up,
                       s.children_up, json_string(s.problem));
  }
  return out + "]";
}

}  // namespace bulwark::control::ike
