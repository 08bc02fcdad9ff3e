#include "dataplane/counters.h"

namespace bulwark::dataplane {

std::string_view event_name(Event e) {
  switch (e) {
    case Event::fragments_forwarded: return "fragments_forwarded";
    case Event::packets_fragmented: return "packets_fragmented";
    case Event::icmp_errors_sent: return "icmp_errors_sent";
    case Event::icmp_rate_limited: return "icmp_rate_limited";
    case Event::arp_requests_sent: return "arp_requests_sent";
    case Event::arp_replies_sent: return "arp_replies_sent";
    case Event::neighbours_learned: return "neighbours_learned";
    case Event::injected: return "injected";
    case Event::tx_generated_failed: return "tx_generated_failed";
    case Event::connections_created: return "connections_created";
    case Event::connections_expired: return "connections_expired";
    case Event::related_icmp: return "related_icmp";
    case Event::log_lines: return "log_lines";
    case Event::log_rate_limited: return "log_rate_limited";
    case Event::esp_decrypted: return "esp_decrypted";
    case Event::esp_encrypted: return "esp_encrypted";
    case Event::packets_reassembled: return "packets_reassembled";
    case Event::handed_to_owner: return "handed_to_owner";
    case Event::user_firewall_accepted: return "user_firewall_accepted";
    case Event::count: break;
  }
  return "?";
}

std::string_view stage_name(Stage s) {
  switch (s) {
    case Stage::ethernet: return "ethernet";
    case Stage::arp: return "arp";
    case Stage::ipv4: return "ipv4";
    case Stage::local: return "local";
    case Stage::route: return "route";
    case Stage::filter: return "filter";
    case Stage::neighbour: return "neighbour";
    case Stage::transmit: return "transmit";
    case Stage::count: break;
  }
  return "?";
}

void CounterSnapshot::add(const WorkerCounters& w) {
  received += w.received.get();
  forwarded += w.forwarded.get();
  generated += w.generated.get();
  punted += w.punted.get();
  consumed += w.consumed.get();
  for (size_t i = 0; i < kDropReasonCount; ++i) dropped[i] += w.dropped[i].get();
  for (size_t i = 0; i < kEventCount; ++i) events[i] += w.events[i].get();
  for (size_t i = 0; i < kStageCount; ++i) stages[i] += w.stages[i].get();
  for (size_t i = 0; i < kStageCount; ++i) stage_cycles[i] += w.stage_cycles[i].get();
}

uint64_t CounterSnapshot::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t d : dropped) total += d;
  return total;
}

}  // namespace bulwark::dataplane
