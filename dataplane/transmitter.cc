#include "dataplane/transmitter.h"

#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

namespace bulwark::dataplane {
namespace {

int g_kind_offset = -1;
constexpr uint16_t kTxBufferSize = 64;

}  // namespace

bool register_tx_kind_field() {
  static const rte_mbuf_dynfield kField = {"bulwark_tx_kind", sizeof(uint8_t), alignof(uint8_t), 0};
  g_kind_offset = rte_mbuf_dynfield_register(&kField);
  return g_kind_offset >= 0;
}

void set_tx_kind(rte_mbuf* m, TxKind kind) {
  *RTE_MBUF_DYNFIELD(m, g_kind_offset, uint8_t*) = static_cast<uint8_t>(kind);
}

TxKind tx_kind(const rte_mbuf* m) {
  return static_cast<TxKind>(*RTE_MBUF_DYNFIELD(m, g_kind_offset, const uint8_t*));
}

Transmitter::Transmitter(WorkerCounters& counters, uint16_t queue)
    : counters_(counters), queue_(queue) {}

Transmitter::~Transmitter() {
  for (Buffer* b : buffers_) {
    if (!b) continue;
    rte_free(b->buffer);
    delete b;
  }
}

void Transmitter::add_port(uint16_t port, int socket) {
  if (port >= buffers_.size()) buffers_.resize(port + 1, nullptr);
  if (buffers_[port]) return;
  auto* b = new Buffer;
  b->buffer = static_cast<rte_eth_dev_tx_buffer*>(
      rte_zmalloc_socket("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kTxBufferSize), 0, socket));
  rte_eth_tx_buffer_init(b->buffer, kTxBufferSize);
  b->owner = this;
  b->port = port;
  rte_eth_tx_buffer_set_err_callback(b->buffer, &Transmitter::on_unsent, b);
  buffers_[port] = b;
}

void Transmitter::send(uint16_t port, rte_mbuf* m, TxKind kind) {
  set_tx_kind(m, kind);
  switch (kind) {
    case TxKind::kForwarded: counters_.forwarded.add(); break;
    case TxKind::kGenerated: counters_.generated.add(); break;
    case TxKind::kPunted: counters_.punted.add(); break;
    case TxKind::kInjected: counters_.event(Event::injected); break;
    case TxKind::kCopy: break;
  }
  rte_eth_tx_buffer(port, queue_, buffers_[port]->buffer, m);
}

void Transmitter::flush() {
  for (Buffer* b : buffers_) {
    if (b) rte_eth_tx_buffer_flush(b->port, queue_, b->buffer);
  }
}

void Transmitter::on_unsent(rte_mbuf** unsent, uint16_t count, void* userdata) {
  auto* b = static_cast<Buffer*>(userdata);
  WorkerCounters& c = b->owner->counters_;
  for (uint16_t i = 0; i < count; ++i) {
    switch (tx_kind(unsent[i])) {
      case TxKind::kForwarded:
        c.forwarded.sub();
        c.drop(DropReason::tx_full);
        break;
      case TxKind::kPunted:
        c.punted.sub();
        c.drop(DropReason::tx_full);
        break;
      case TxKind::kGenerated:
        c.generated.sub();
        c.event(Event::tx_generated_failed);
        break;
      case TxKind::kInjected:
        c.events[static_cast<size_t>(Event::injected)].sub();
        c.event(Event::tx_generated_failed);
        break;
      case TxKind::kCopy:
        break;
    }
  }
  rte_pktmbuf_free_bulk(unsent, count);
}

}  // namespace bulwark::dataplane
