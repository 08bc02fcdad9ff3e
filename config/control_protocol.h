// The control socket protocol between bulwark-control (and the CLI) and bulwark-dataplane.
//
// A Unix stream socket carries length-prefixed messages:
//   magic "BWCP" (u32) | version (u16) | type (u16) | payload length (u32) | payload
// all little-endian (both ends run on the same host). A peer speaking another version gets an
// kError reply and is disconnected. Requests and replies alternate; every request gets exactly one
// reply. Payloads are the binary encoding below (kApply) or JSON text (status replies).
//
// The encoding of the dataplane's tables is versioned with the protocol: both processes are
// built from the same tree, and a version bump is required whenever an encoded type changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/tables.h"

namespace bulwark::config {

inline constexpr uint32_t kControlMagic = 0x50435742;  // "BWCP"
inline constexpr uint16_t kControlVersion = 2;  // 2: user firewall templates in the tables
inline constexpr uint32_t kMaxControlPayload = 64u << 20;

enum class MessageType : uint16_t {
  kApply = 1,          // request: encoded tables; reply kApplied or kError
  kApplied = 2,        // reply: text "generation N"
  kGetStatus = 3,      // request: "json", "text", "rules" or "rules-json"; reply kStatus
  kStatus = 4,
  kGetNeighbours = 5,  // request: "json" or "text"; reply kNeighbours
  kNeighbours = 6,
  kShutdown = 7,       // request: empty; reply kApplied ("bye") before the dataplane exits
  kError = 8,          // reply: text
  kGetLog = 10,        // request: empty; reply kLog: the firewall log lines since the last request
  kLog = 11,
  kRecord = 12,        // to bulwark-control: "NAME\ton|off|status" (empty NAME: all records)
  kSwitch = 13,        // to bulwark-control: "NAME\ton|off|status"
  kConntrack = 14,     // request: "json|text\tPROTOCOL\tADDRESS\tPORT" (empty fields: any);
  kConnections = 15,   //   reply kConnections
  kFlush = 16,         // request: "\tPROTOCOL\tADDRESS\tPORT"; reply kApplied "flushed N"
  kGetNat = 17,        // request: "json" or "text"; reply kNat: mappings and active translations
  kNat = 18,
  kCifs = 19,          // to bulwark-control: "VERB\tNAME\tFORMAT" (control/cifs/monitor.h);
                       //   reply kApplied or kError with text or JSON
  kSa = 20,            // to the dataplane or bulwark-iked: "json" or "text"; reply kApplied with the SAs and policies
                       //   (keys as SHA-256 fingerprints, never in clear)
  kVpn = 21,           // to bulwark-iked: "VERB\tNAME\tFORMAT", VERB list, status, up or down; reply
                       //   kApplied or kError with text or JSON
  kIpsec = 22,         // to the dataplane: IPsec SA and policy updates (config/ipsec_records.h);
                       //   reply kApplied or kError
  kVpnState = 23,      // to bulwark-control from bulwark-iked: "NAME\tup" or "NAME\tdown" (a VPN
                       //   connection's first CHILD SA came up, or its last went); reply kApplied
  kUsers = 24,         // to bulwark-control: "list\tjson|text" or "logout\tNAME|ADDRESS"; reply kApplied
                       //   or kError (the user firewall's logged-in users, control/user_firewall/)
  kUserGrants = 25,    // to the dataplane: the user firewall's grants (config/user_grants.h), the
                       //   whole set each time; reply kApplied or kError
  kUserActivity = 26,  // to the dataplane: empty; reply kApplied with the encoded activity of every
                       //   session of the last grants (config/user_grants.h)
  kReload = 9,         // to bulwark-control: re-read and push the configuration; reply kApplied
                       // or kError with every diagnostic
};

struct Message {
  MessageType type = MessageType::kError;
  std::string payload;
};

// Wire form of a message.
std::string encode_message(const Message& m);

// Incremental decoding: feed bytes, take complete messages. A malformed stream (bad magic,
// version, or oversized length) sets `error` and stops.
class MessageReader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  std::optional<Message> next();
  const std::string& error() const { return error_; }

 private:
  std::string buffer_;
  std::string error_;
};

// The part of the tables the dataplane uses, encoded for kApply. Decoding checks every length
// and index and returns nullopt (with `error`) for anything truncated or inconsistent.
std::string encode_dataplane_tables(const Tables& tables);
std::optional<Tables> decode_dataplane_tables(std::string_view data, std::string& error);

// The exception-path tap interface of a configured interface: "bw-" + its name, at most 15
// bytes (the kernel's limit). The dataplane creates it; the control plane configures it.
std::string exception_tap_name(const std::string& interface);

// `text` cut at every `separator` (n separators: n + 1 pieces, empty ones kept).
std::vector<std::string> split_text(std::string_view text, char separator);
// The tab-separated fields of a request payload ("VERB\tNAME\tFORMAT"), padded with empty
// fields to at least `count`.
std::vector<std::string> split_fields(std::string_view payload, size_t count);

// Blocking helpers over a connected socket; false on error or EOF. `receive_message` reads one
// reply and is meant for the strict request/reply exchange of clients.
bool send_message(int fd, const Message& m);
std::optional<Message> receive_message(int fd, std::string& error);

}  // namespace bulwark::config
