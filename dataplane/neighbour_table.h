// The neighbour (ARP) table shared by all workers.
//
// Lookups are on the fast path and take no lock: every slot field is an atomic, and a writer
// first invalidates a slot's address, then writes the MAC and time, then publishes the address,
// so a reader that sees the same address before and after reading the MAC has a consistent
// entry. Learning happens on the slow path (ARP frames) under a spinlock. Entries older than the
// timeout read as missing, which makes the pipeline ask again; a full table overwrites the
// oldest entry of the probe window.
#pragma once

#include <rte_spinlock.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace bulwark::dataplane {

struct NeighbourEntry {
  uint32_t ip = 0;
  uint8_t mac[6] = {};
  uint64_t updated = 0;  // clock ticks
};

class NeighbourTable {
 public:
  NeighbourTable(uint32_t capacity, uint64_t timeout_ticks);

  // Copies the MAC of `ip` into `mac` when a fresh entry exists.
  bool lookup(uint32_t ip, uint64_t now, uint8_t mac[6]) const;
  void learn(uint32_t ip, const uint8_t mac[6], uint64_t now);
  bool contains(uint32_t ip, uint64_t now) const {
    uint8_t mac[6];
    return lookup(ip, now, mac);
  }
  std::vector<NeighbourEntry> entries(uint64_t now) const;
  uint64_t timeout() const { return timeout_; }

 private:
  struct Slot {
    std::atomic<uint32_t> ip{0};
    std::atomic<uint64_t> mac{0};  // 48 bits
    std::atomic<uint64_t> updated{0};
  };
  static constexpr unsigned kProbe = 8;

  size_t index(uint32_t ip) const { return (ip * 2654435761u) & mask_; }

  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  uint64_t timeout_;
  rte_spinlock_t lock_ = RTE_SPINLOCK_INITIALIZER;
};

}  // namespace bulwark::dataplane
