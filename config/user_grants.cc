// Wire form of the user firewall's grants and activity (theory: config/user_grants.h).
//
// Little-endian like the rest of the control protocol:
//   grants:   serial u64 | count u32 | count × (session u32 | source u32 | role u8 |
//             name length u16 | name bytes)
//   activity: count u32 | count × (session u32 | idle_ms u64 | connections u32)
// Decoding checks every length before it reads and rejects trailing bytes, so a truncated or
// padded message is an error, never a partial set.
#include "config/user_grants.h"

#include <cstring>

#include <fmt/format.h>

namespace bulwark::config {
namespace {

constexpr size_t kMaxTemplateName = 255;
constexpr size_t kGrantFixedBytes = 4 + 4 + 1 + 2;
constexpr size_t kActivityBytes = 4 + 8 + 4;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  template <class T>
  bool get(T& v) {
    if (data_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, data_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool bytes(size_t n, std::string& out) {
    if (data_.size() - pos_ < n) return false;
    out.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  size_t left() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_user_grants(const UserGrants& grants) {
  std::string out;
  put<uint64_t>(out, grants.serial);
  put<uint32_t>(out, static_cast<uint32_t>(grants.grants.size()));
  for (const auto& g : grants.grants) {
    put<uint32_t>(out, g.session);
    put<uint32_t>(out, g.source.value);
    put<uint8_t>(out, static_cast<uint8_t>(g.login_role));
    put<uint16_t>(out, static_cast<uint16_t>(g.template_name.size()));
    out += g.template_name;
  }
  return out;
}

std::optional<UserGrants> decode_user_grants(std::string_view data, std::string& error) {
  Cursor c(data);
  UserGrants out;
  uint32_t count = 0;
  if (!c.get(out.serial) || !c.get(count)) {
    error = "user grants: truncated header";
    return std::nullopt;
  }
  if (count > kMaxUserGrants) {
    error = fmt::format("user grants: {} grants exceed the limit of {}", count, kMaxUserGrants);
    return std::nullopt;
  }
  if (count > c.left() / (kGrantFixedBytes + 1)) {
    error = fmt::format("user grants: {} grants announced, the message is too short for them", count);
    return std::nullopt;
  }
  out.grants.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    UserGrant g;
    uint8_t role = 0;
    uint16_t length = 0;
    if (!c.get(g.session) || !c.get(g.source.value) || !c.get(role) || !c.get(length) ||
        !c.bytes(length, g.template_name)) {
      error = fmt::format("user grants: grant {} truncated", i + 1);
      return std::nullopt;
    }
    if (g.session == 0) {
      error = fmt::format("user grants: grant {} has session 0", i + 1);
      return std::nullopt;
    }
    if (role > static_cast<uint8_t>(Role::kDmz)) {
      error = fmt::format("user grants: grant {} has login role {} (out of range)", i + 1, role);
      return std::nullopt;
    }
    if (length == 0 || length > kMaxTemplateName) {
      error = fmt::format("user grants: grant {} has a template name of {} bytes (1 to {} allowed)", i + 1,
                          length, kMaxTemplateName);
      return std::nullopt;
    }
    g.login_role = static_cast<Role>(role);
    out.grants.push_back(std::move(g));
  }
  if (c.left() != 0) {
    error = fmt::format("user grants: {} bytes after the last grant", c.left());
    return std::nullopt;
  }
  return out;
}

std::string encode_session_activity(const std::vector<SessionActivity>& activity) {
  std::string out;
  put<uint32_t>(out, static_cast<uint32_t>(activity.size()));
  for (const auto& a : activity) {
    put<uint32_t>(out, a.session);
    put<uint64_t>(out, a.idle_ms);
    put<uint32_t>(out, a.connections);
  }
  return out;
}

std::optional<std::vector<SessionActivity>> decode_session_activity(std::string_view data, std::string& error) {
  Cursor c(data);
  uint32_t count = 0;
  if (!c.get(count)) {
    error = "session activity: truncated header";
    return std::nullopt;
  }
  if (count > kMaxUserGrants || c.left() != size_t{count} * kActivityBytes) {
    error = fmt::format("session activity: {} entries announced in {} bytes", count, c.left());
    return std::nullopt;
  }
  std::vector<SessionActivity> out(count);
  for (auto& a : out) {
    c.get(a.session);
    c.get(a.idle_ms);
    c.get(a.connections);
    if (a.session == 0) {
      error = "session activity: session 0";
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace bulwark::config
