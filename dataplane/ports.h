// Bringing up DPDK ports: probing a PCI device or creating a vdev from the configuration's
// `port` string, configuring one RX/TX queue pair per worker (RSS when there are several),
// masking requested offloads by what the port supports, and starting it.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::dataplane {

struct PortOptions {
  uint16_t queues = 1;
  uint16_t mtu = 1500;
  bool rx_timestamp = false;  // ask for packet timestamps (net_pcap in replay)
  const uint8_t* mac = nullptr;  // set this MAC, or keep the port's own
};

struct PortInfo {
  uint16_t id = 0;
  uint8_t mac[6] = {};
  std::string driver;
};

// Creates or finds the port for `device` (PCI address or vdev string) and starts it with one
// mempool per queue (`pools[q]`).
std::optional<PortInfo> setup_port(const std::string& device, const PortOptions& options,
                                   const std::vector<rte_mempool*>& pools, std::string& error);

void stop_port(uint16_t port);

}  // namespace bulwark::dataplane
