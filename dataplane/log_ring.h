// Firewall log records travel from a worker to the management thread through a single-producer,
// single-consumer ring of fixed-size records: the worker never allocates, formats or blocks;
// a full ring loses the record and the worker counts it. Formatting happens on the consumer side.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace bulwark::dataplane {

struct LogRecord {
  uint64_t time = 0;  // clock ticks
  uint32_t rule_id = 0;
  uint32_t record_rule_id = 0;
  uint32_t src = 0, dst = 0;
  uint16_t src_port = 0, dst_port = 0;  // or ICMP id / sequence
  uint16_t length = 0, ip_id = 0;
  uint16_t in_interface = 0, out_interface = 0xffff;  // 0xffff: the box itself
  uint16_t position = 0;
  uint16_t connection = 0xffff;  // VPN firewall: the connection's index
  uint16_t user_template = 0xffff;  // user firewall: the template's index
  uint32_t session = 0;             // user firewall: the session
  uint8_t list = 0, action = 0, protocol = 0, tos = 0, ttl = 0, icmp_type = 0, icmp_code = 0;
  bool forwarding = false;          // a port forwarding's log (position = its place)
  uint32_t to_ip = 0;               // port forwarding: where the connection goes
  uint16_t to_port = 0;
  char comment[48] = {};
};

template <size_t N>
class SpscRing {
  static_assert((N & (N - 1)) == 0, "power of two");

 public:
  bool push(const LogRecord& r) {
    uint32_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == N) return false;
    slots_[head & (N - 1)] = r;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  bool pop(LogRecord& r) {
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return false;
    r = slots_[tail & (N - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

 private:
  std::array<LogRecord, N> slots_{};
  alignas(64) std::atomic<uint32_t> head_{0};
  alignas(64) std::atomic<uint32_t> tail_{0};
};

using LogRing = SpscRing<1024>;

}  // namespace bulwark::dataplane
