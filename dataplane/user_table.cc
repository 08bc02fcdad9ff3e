// The per-worker-readable table of logged-in users (theory: user_table.h).
#include "dataplane/user_table.h"

#include <algorithm>

#include "config/tables.h"

namespace bulwark::dataplane {

std::unique_ptr<UserTable> UserTable::build(const config::UserGrants& grants, const std::vector<std::string>& templates,
                                            const std::vector<uint16_t>& vpn, unsigned workers) {
  std::unique_ptr<UserTable> t(new UserTable());
  for (const auto& g : grants.grants) t->sessions_.push_back(g.session);
  std::sort(t->sessions_.begin(), t->sessions_.end());
  t->sessions_.erase(std::unique(t->sessions_.begin(), t->sessions_.end()), t->sessions_.end());

  // Resolve the names once per distinct name (thousands of users share a few templates).
  std::vector<std::pair<const std::string*, uint16_t>> by_name;
  for (size_t i = 0; i < templates.size(); ++i) by_name.emplace_back(&templates[i], static_cast<uint16_t>(i));
  std::sort(by_name.begin(), by_name.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  struct Keyed {
    uint32_t source;
    UserGrantRuntime grant;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(grants.grants.size());
  for (const auto& g : grants.grants) {
    auto it = std::lower_bound(by_name.begin(), by_name.end(), g.template_name,
                               [](const auto& e, const std::string& name) { return *e.first < name; });
    if (it == by_name.end() || *it->first != g.template_name) continue;  // unknown here: grants nothing
    UserGrantRuntime r;
    r.session = g.session;
    r.slot = static_cast<uint32_t>(std::lower_bound(t->sessions_.begin(), t->sessions_.end(), g.session) -
                                   t->sessions_.begin());
    r.user_template = it->second;
    r.vpn_connection = vpn[it->second];
    r.role = g.login_role;
    keyed.push_back({g.source.value, r});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) { return a.source < b.source; });
  t->grants_.reserve(keyed.size());
  for (const Keyed& k : keyed) {
    if (t->sources_.empty() || t->sources_.back() != k.source) {
      t->sources_.push_back(k.source);
      t->first_.push_back(static_cast<uint32_t>(t->grants_.size()));
    }
    t->grants_.push_back(k.grant);
  }
  t->first_.push_back(static_cast<uint32_t>(t->grants_.size()));

  const size_t slots = std::max<size_t>(t->sessions_.size(), 1);
  t->workers_.resize(workers);
  for (auto& w : t->workers_) {
    w.last.reset(new std::atomic<uint64_t>[slots]);
    w.open.reset(new std::atomic<int64_t>[slots]);
    for (size_t i = 0; i < slots; ++i) {
      w.last[i].store(0, std::memory_order_relaxed);
      w.open[i].store(0, std::memory_order_relaxed);
    }
  }
  return t;
}

UserTable::Range UserTable::grants_of(uint32_t source) const {
  auto it = std::lower_bound(sources_.begin(), sources_.end(), source);
  if (it == sources_.end() || *it != source) return {};
  const size_t i = static_cast<size_t>(it - sources_.begin());
  return {grants_.data() + first_[i], grants_.data() + first_[i + 1]};
}

int32_t UserTable::slot_of(uint32_t session) const {
  auto it = std::lower_bound(sessions_.begin(), sessions_.end(), session);
  return it == sessions_.end() || *it != session ? -1 : static_cast<int32_t>(it - sessions_.begin());
}

uint64_t UserTable::last_active(uint32_t slot) const {
  uint64_t latest = 0;
  for (const auto& w : workers_) latest = std::max(latest, w.last[slot].load(std::memory_order_relaxed));
  return latest;
}

uint32_t UserTable::connections(uint32_t slot) const {
  int64_t sum = 0;
  for (const auto& w : workers_) sum += w.open[slot].load(std::memory_order_relaxed);
  return sum > 0 ? static_cast<uint32_t>(sum) : 0;
}

void UserTable::inherit(const UserTable& older) {
  const size_t workers = std::min(workers_.size(), older.workers_.size());
  for (size_t slot = 0; slot < sessions_.size(); ++slot) {
    const int32_t from = older.slot_of(sessions_[slot]);
    if (from < 0) continue;
    for (size_t w = 0; w < workers; ++w) {
      workers_[w].open[slot].fetch_add(older.workers_[w].open[from].load(std::memory_order_relaxed),
                                       std::memory_order_relaxed);
      const uint64_t then = older.workers_[w].last[from].load(std::memory_order_relaxed);
      std::atomic<uint64_t>& last = workers_[w].last[slot];
      uint64_t now = last.load(std::memory_order_relaxed);
      while (then > now && !last.compare_exchange_weak(now, then, std::memory_order_relaxed)) {
      }
    }
  }
}

}  // namespace bulwark::dataplane
