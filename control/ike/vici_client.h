// A client of charon's VICI protocol (the one swanctl speaks), written for bulwark-iked: libvici
// cannot be used inside a process that runs charon itself, because its init and deinit
// reconfigure and then cancel the shared libstrongswan thread pool.
//
// Wire format: a 4-byte big-endian length, then a packet: a type byte (0 request, 1 response,
// 2 unknown command), for requests the command name (1-byte length + bytes), then message
// elements: 1 section start (name), 2 section end, 3 key/value (name, 2-byte length, value),
// 4 list start (name), 5 list item (2-byte length, value), 6 list end.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::control::ike {

// A message as a flat list of (path, value): '.' separates sections, a trailing "[]" makes
// consecutive values of one key a list, e.g. {"children.net.local_ts[]", "10.0.0.0/8"}.
using ViciFields = std::vector<std::pair<std::string, std::string>>;

std::string encode_vici_message(const ViciFields& fields);
// The response's elements flattened the same way (list items as "key[]", in order); nullopt
// for a malformed message.
std::optional<ViciFields> decode_vici_message(const std::string& message);

class ViciClient {
 public:
  ~ViciClient();
  bool connect(const std::string& socket_path, std::string& error);
  // Sends command `name` with `fields`; the response, or nullopt with `error`.
  std::optional<ViciFields> request(const std::string& name, const ViciFields& fields, std::string& error);

 private:
  int fd_ = -1;
};

// The first value of `key` in `fields`, or `fallback`.
std::string vici_value(const ViciFields& fields, const std::string& key, const std::string& fallback = "");

}  // namespace bulwark::control::ike
