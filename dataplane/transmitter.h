// A worker's transmit side: one rte_eth_dev_tx_buffer per port, flushed once per loop. Frames
// are counted when they are buffered (forwarded, generated or punted); frames a full queue
// refuses are taken back from that count and counted as dropped (tx_full) or as a lost
// generated frame, so the worker's counters always add up.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "dataplane/counters.h"

namespace bulwark::dataplane {

// kCopy: a copy for the exception path (ARP replies for the kernel), outside the accounting.
enum class TxKind : uint8_t { kForwarded, kGenerated, kPunted, kInjected, kCopy };

class Transmitter {
 public:
  Transmitter(WorkerCounters& counters, uint16_t queue);
  ~Transmitter();
  Transmitter(const Transmitter&) = delete;
  Transmitter& operator=(const Transmitter&) = delete;

  // Prepares a buffer for `port`; call for every port the worker may transmit on.
  void add_port(uint16_t port, int socket);

  void send(uint16_t port, rte_mbuf* m, TxKind kind);
  void flush();

 private:
  struct Buffer {
    rte_eth_dev_tx_buffer* buffer = nullptr;
    Transmitter* owner = nullptr;
    uint16_t port = 0;
  };
  static void on_unsent(rte_mbuf** unsent, uint16_t count, void* userdata);

  WorkerCounters& counters_;
  uint16_t queue_;
  std::vector<Buffer*> buffers_;  // indexed by port id
};

// Marks a frame's kind in the mbuf so the unsent callback knows what to take back.
void set_tx_kind(rte_mbuf* m, TxKind kind);
TxKind tx_kind(const rte_mbuf* m);
// Registers the mbuf dynamic field used for the mark; call once after EAL init.
bool register_tx_kind_field();

}  // namespace bulwark::dataplane
