#include "dataplane/neighbour_table.h"

#include <rte_common.h>

namespace bulwark::dataplane {
namespace {

uint64_t pack_mac(const uint8_t mac[6]) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | mac[i];
  return v;
}

void unpack_mac(uint64_t v, uint8_t mac[6]) {
  for (int i = 5; i >= 0; --i) {
    mac[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

NeighbourTable::NeighbourTable(uint32_t capacity, uint64_t timeout_ticks)
    : timeout_(timeout_ticks) {
  size_t size = rte_align64pow2(std::max<uint64_t>(capacity, 16) * 2);
  slots_ = std::make_unique<Slot[]>(size);
  mask_ = size - 1;
}

bool NeighbourTable::lookup(uint32_t ip, uint64_t now, uint8_t mac[6]) const {
  if (ip == 0) return false;
  size_t start = index(ip);
  for (unsigned i = 0; i < kProbe; ++i) {
    const Slot& s = slots_[(start + i) & mask_];
    if (s.ip.load(std::memory_order_acquire) != ip) continue;
    uint64_t packed = s.mac.load(std::memory_order_relaxed);
    uint64_t updated = s.updated.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.ip.load(std::memory_order_relaxed) != ip) return false;
    if (now - updated > timeout_ && now > updated) return false;
    unpack_mac(packed, mac);
    return true;
  }
  return false;
}

void NeighbourTable::learn(uint32_t ip, const uint8_t mac[6], uint64_t now) {
  if (ip == 0) return;
  rte_spinlock_lock(&lock_);
  size_t start = index(ip);
  Slot* target = nullptr;
  Slot* oldest = nullptr;
  for (unsigned i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(start + i) & mask_];
    uint32_t current = s.ip.load(std::memory_order_relaxed);
    if (current == ip) {
      target = &s;
      break;
    }
    if (current == 0 && !target) target = &s;
    if (!oldest || s.updated.load(std::memory_order_relaxed) < oldest->updated.load(std::memory_order_relaxed)) {
      oldest = &s;
    }
  }
  if (!target) target = oldest;
  if (target->ip.load(std::memory_order_relaxed) != ip) {
    target->ip.store(0, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_release);
  }
  target->mac.store(pack_mac(mac), std::memory_order_relaxed);
  target->updated.store(now, std::memory_order_relaxed);
  target->ip.store(ip, std::memory_order_release);
  rte_spinlock_unlock(&lock_);
}

std::vector<NeighbourEntry> NeighbourTable::entries(uint64_t now) const {
  std::vector<NeighbourEntry> out;
  for (size_t i = 0; i <= mask_; ++i) {
    NeighbourEntry e;
    e.ip = slots_[i].ip.load(std::memory_order_acquire);
    if (e.ip == 0) continue;
    e.updated = slots_[i].updated.load(std::memory_order_relaxed);
    if (now > e.updated && now - e.updated > timeout_) continue;
    unpack_mac(slots_[i].mac.load(std::memory_order_relaxed), e.mac);
    out.push_back(e);
  }
  return out;
}

}  // namespace bulwark::dataplane
