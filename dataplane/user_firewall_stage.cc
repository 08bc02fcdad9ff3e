// The user firewall in the packet filter (manual chapter 9; docs/firewall.md, "User firewall in
// the dataplane").
//
// A logged-in user's grants apply to the first packet of a connection from the grant's address,
// before the list that would judge it: the outgoing list for a login from an internal interface,
// the incoming list for one from an external interface, the DMZ list for one from a DMZ; a
// template bound to a VPN connection only in that connection's VPN firewall, in the direction of
// the login role. The source's grants are tried in grant order, each against its template's own
// classifier; the first accepting rule admits the connection, which is then marked
// (conntrack::kUserSession, the session id in the entry's cold data). No grant accepts: the lists
// decide as without the user firewall.
//
// Only marked connections pay anything after that: at each packet their session is looked up in
// this loop's user table — a session no longer there has ended (logout, expiry, a new set without
// it) and the connection is aborted (`user_session_ended`); a non-ICMP packet records the
// session's activity for bulwark-control's dynamic timeout. The per-session count of open
// connections goes up here and down when the connection table releases the entry
// (SessionObserver), whatever the cause.
#include "dataplane/pipeline.h"

namespace bulwark::dataplane {
namespace {

// The login role whose grants a list applies (manual 9.4); VPN lists by their direction.
config::Role login_role(FilterList list) {
  switch (list) {
    case FilterList::kOutgoing: return config::Role::kInternal;
    case FilterList::kIncoming: return config::Role::kExternal;
    case FilterList::kDmz: return config::Role::kDmz;
  }
  return config::Role::kInternal;
}

}  // namespace

Pipeline::UserMatch Pipeline::match_user(const Generation& g, FilterList list, uint16_t connection,
                                         const FilterKey& key, uint32_t src, uint32_t only_session) const {
  UserMatch out;
  if (!users_) return out;
  const config::Role role = login_role(list);
  const UserTable::Range grants = users_->grants_of(src);
  for (const UserGrantRuntime* grant = grants.begin; grant != grants.end; ++grant) {
    if (grant->role != role || grant->vpn_connection != connection) continue;
    if (only_session && grant->session != only_session) continue;
    const FilterRule* rule = g.filter().classify_template(grant->user_template, key);
    if (!rule || rule->action != config::ActionKind::kAccept) continue;
    out.rule = rule;
    out.session = grant->session;
    out.slot = grant->slot;
    out.list = list;
    out.connection = connection;
    return out;
  }
  return out;
}

void Pipeline::user_accepted(const Generation& g, const UserMatch& u, uint16_t in, int out, const rte_mbuf* m, uint16_t ip_offset,
                             uint64_t now) {
  // (match_user found it in this loop's table, so the generation is this loop's too.)
  counters_.event(Event::user_firewall_accepted);
  g.filter().hit(res_.worker, u.rule);
  if (u.rule->log) log_decision(m, ip_offset, *u.rule, in, out, now, &u);
}

void Pipeline::mark_user(conntrack::Entry& e, const UserMatch& u) {
  conntrack_.set_session(e, u.session);
  users_->opened(res_.worker, u.slot);
}

int32_t Pipeline::user_slot(const conntrack::Entry& e) const {
  return users_ ? users_->slot_of(conntrack_.session(e)) : -1;
}

void Pipeline::connection_closed(uint32_t session) {
  if (!users_) return;
  const int32_t slot = users_->slot_of(session);
  if (slot >= 0) users_->closed(res_.worker, static_cast<uint32_t>(slot));
}

}  // namespace bulwark::dataplane
