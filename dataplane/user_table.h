// The user firewall's logged-in users as the workers see them (theory: docs/firewall.md, "User
// firewall in the dataplane"; the grants themselves: config/user_grants.h).
//
// A UserTable is built on the control thread from the last grant set and one generation: every
// grant's template name is resolved to that generation's template index (a name it does not know
// grants nothing), and the grants are sorted by source address into a flat array, so that a new
// connection finds its source's grants with one binary search, in the order bulwark-control sent
// them. Sessions get a dense slot each (sorted by id): the per-worker activity and open-connection
// counters are indexed by it.
//
// The table is immutable but for those counters. It hangs off its generation (Generation::users)
// behind one atomic pointer: a new grant set replaces it, a new generation gets one of its own,
// and the old one is freed after an RCU grace period, like generations. Before that, the counters
// it collected are carried over into its successor (`inherit`): open connections are deltas (a
// connection opened under one table may close under the next), activity is the latest time.
//
// Each worker writes only its own arrays: activity at most once a second per session (so that
// busy sessions do not keep a cache line bouncing to the reader), connection counts with relaxed
// atomic adds on the slow path (admission, release), which `inherit` may add to concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/user_grants.h"

namespace bulwark::dataplane {

struct UserGrantRuntime {
  uint32_t session = 0;
  uint32_t slot = 0;                         // the session's slot in its table
  uint16_t user_template = 0;                // index in the generation's templates
  uint16_t vpn_connection = 0xffff;          // the template's VPN connection, or kNoIndex (plain traffic)
  config::Role role = config::Role::kInternal;  // the login role
};

class UserTable {
 public:
  // `templates`: the generation's template names; `vpn`: each template's VPN connection.
  static std::unique_ptr<UserTable> build(const config::UserGrants& grants, const std::vector<std::string>& templates,
                                          const std::vector<uint16_t>& vpn, unsigned workers);

  struct Range {
    const UserGrantRuntime* begin = nullptr;
    const UserGrantRuntime* end = nullptr;
  };
  // The grants whose source is `source` (host order), in grant order; empty when none.
  Range grants_of(uint32_t source) const;
  bool empty() const { return grants_.empty(); }
  // The slot of `session`, or -1 when it is not in the set (it has ended).
  int32_t slot_of(uint32_t session) const;

  size_t sessions() const { return sessions_.size(); }
  size_t grants() const { return grants_.size(); }
  uint32_t session_at(size_t slot) const { return sessions_[slot]; }

  // Worker side (the counters are not part of the table's immutable contents).
  void record_activity(unsigned worker, uint32_t slot, uint64_t now, uint64_t hz) const {
    std::atomic<uint64_t>& last = workers_[worker].last[slot];
    if (now - last.load(std::memory_order_relaxed) >= hz) last.store(now, std::memory_order_relaxed);
  }
  void opened(unsigned worker, uint32_t slot) const { workers_[worker].open[slot].fetch_add(1, std::memory_order_relaxed); }
  void closed(unsigned worker, uint32_t slot) const { workers_[worker].open[slot].fetch_sub(1, std::memory_order_relaxed); }

  // Reader side: the latest activity over all workers (0 = none) and the open connections.
  uint64_t last_active(uint32_t slot) const;
  uint32_t connections(uint32_t slot) const;
  // Carries the counters of `older` (no worker uses it any more) into this table.
  void inherit(const UserTable& older);

 private:
  UserTable() = default;
  struct PerWorker {
    std::unique_ptr<std::atomic<uint64_t>[]> last;  // clock ticks, per slot
    std::unique_ptr<std::atomic<int64_t>[]> open;   // per slot
  };
  std::vector<uint32_t> sources_;  // sorted, unique
  std::vector<uint32_t> first_;    // grants of sources_[i]: grants_[first_[i], first_[i + 1])
  std::vector<UserGrantRuntime> grants_;
  std::vector<uint32_t> sessions_;  // sorted, unique; index = slot
  std::vector<PerWorker> workers_;
};

}  // namespace bulwark::dataplane
