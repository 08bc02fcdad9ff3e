#include "dataplane/ports.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <cstring>

#include <fmt/format.h>

namespace bulwark::dataplane {
namespace {

constexpr uint16_t kRxDescriptors = 1024;

// A symmetric Toeplitz key (0x6d5a repeated): both directions of a connection hash alike, so
// they reach the same queue and worker, which owns the connection (docs/conntrack.md).
uint8_t symmetric_rss_key[52] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};
constexpr uint16_t kTxDescriptors = 1024;

std::optional<uint16_t> find_or_create(const std::string& device, std::string& error) {
  size_t comma = device.find(',');
  std::string name = device.substr(0, comma);
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) return port;
  // Works for PCI addresses and vdevs alike ("net_pcap0,rx_pcap=in.pcap").
  int rc = rte_dev_probe(device.c_str());
  if (rc < 0) {
    error = fmt::format("cannot create port '{}': {}", device, rte_strerror(-rc));
    return std::nullopt;
  }
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    error = fmt::format("port '{}' was probed but has no ethdev", device);
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::optional<PortInfo> setup_port(const std::string& device, const PortOptions& options,
                                   const std::vector<rte_mempool*>& pools, std::string& error) {
  auto id = find_or_create(device, error);
  if (!id) return std::nullopt;
  uint16_t port = *id;

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    error = fmt::format("{}: cannot read device info: {}", device, rte_strerror(-rc));
    return std::nullopt;
  }
  if (info.max_rx_queues < options.queues || info.max_tx_queues < options.queues) {
    error = fmt::format("{} ({}) supports {} RX / {} TX queues; {} workers need one each", device,
                        info.driver_name, info.max_rx_queues, info.max_tx_queues, options.queues);
    return std::nullopt;
  }

  rte_eth_conf conf{};
  if (options.queues > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (info.hash_key_size > 0 && info.hash_key_size <= sizeof symmetric_rss_key) {
      conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
      conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
    }
  }
  uint64_t rx_offloads = 0;
  if (options.rx_timestamp) rx_offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
  conf.rxmode.offloads = rx_offloads & info.rx_offload_capa;
  conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS & info.tx_offload_capa;

  if (int rc = rte_eth_dev_configure(port, options.queues, options.queues, &conf); rc != 0) {
    error = fmt::format("{}: cannot configure: {}", device, rte_strerror(-rc));
    return std::nullopt;
  }
  uint16_t rx_desc = kRxDescriptors, tx_desc = kTxDescriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
  int socket = rte_eth_dev_socket_id(port);
  if (socket < 0) socket = static_cast<int>(rte_socket_id());
  for (uint16_t q = 0; q < options.queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(port, q, rx_desc, socket, &rxconf, pools[q]); rc != 0) {
      error = fmt::format("{}: RX queue {}: {}", device, q, rte_strerror(-rc));
      return std::nullopt;
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(port, q, tx_desc, socket, &txconf); rc != 0) {
      error = fmt::format("{}: TX queue {}: {}", device, q, rte_strerror(-rc));
      return std::nullopt;
    }
  }
  // Not every driver can change its MTU or MAC (capture files cannot); the pipeline enforces
  // the MTU itself and filters on the configured MAC, so promiscuous mode stands in.
  rte_eth_dev_set_mtu(port, options.mtu);
  if (options.mac) {
    rte_ether_addr addr;
    std::memcpy(addr.addr_bytes, options.mac, 6);
    if (rte_eth_dev_default_mac_addr_set(port, &addr) != 0) rte_eth_promiscuous_enable(port);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) {
    error = fmt::format("{}: cannot start: {}", device, rte_strerror(-rc));
    return std::nullopt;
  }
  PortInfo result;
  result.id = port;
  result.driver = info.driver_name ? info.driver_name : "";
  rte_ether_addr addr{};
  rte_eth_macaddr_get(port, &addr);
  std::memcpy(result.mac, addr.addr_bytes, 6);
  return result;
}

void stop_port(uint16_t port) {
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
}

}  // namespace bulwark::dataplane
