#include "control/ike/vici_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace bulwark::control::ike {
namespace {

enum Element : uint8_t { kSectionStart = 1, kSectionEnd = 2, kKeyValue = 3, kListStart = 4, kListItem = 5, kListEnd = 6 };

void put_name(std::string& out, const std::string& name) {
  out += static_cast<char>(std::min<size_t>(name.size(), 255));
  out.append(name, 0, 255);
}

void put_value(std::string& out, const std::string& value) {
  size_t n = std::min<size_t>(value.size(), 65535);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n & 0xff);
  out.append(value, 0, n);
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::recv(fd, out + done, size - done, 0);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string encode_vici_message(const ViciFields& fields) {
  std::string out;
  std::vector<std::string> open;
  std::string list;
  for (const auto& [path, value] : fields) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::string key = parts.back();
    parts.pop_back();
    bool is_list = key.size() > 2 && key.compare(key.size() - 2, 2, "[]") == 0;
    if (is_list) key.resize(key.size() - 2);
    size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    bool same_list = is_list && list == key && common == open.size() && common == parts.size();
    if (!list.empty() && !same_list) {
      out += static_cast<char>(kListEnd);
      list.clear();
    }
    while (open.size() > common) {
      out += static_cast<char>(kSectionEnd);
      open.pop_back();
    }
    while (open.size() < parts.size()) {
      open.push_back(parts[open.size()]);
      out += static_cast<char>(kSectionStart);
      put_name(out, open.back());
    }
    if (is_list) {
      if (!same_list) {
        out += static_cast<char>(kListStart);
        put_name(out, key);
        list = key;
      }
      out += static_cast<char>(kListItem);
      put_value(out, value);
    } else {
      out += static_cast<char>(kKeyValue);
      put_name(out, key);
      put_value(out, value);
    }
  }
  if (!list.empty()) out += static_cast<char>(kListEnd);
  for (size_t i = 0; i < open.size(); ++i) out += static_cast<char>(kSectionEnd);
  return out;
}

std::optional<ViciFields> decode_vici_message(const std::string& m) {
  ViciFields out;
  std::vector<std::string> sections;
  std::string list;
  size_t at = 0;
  auto name = [&]() -> std::optional<std::string> {
    if (at >= m.size()) return std::nullopt;
    size_t n = static_cast<uint8_t>(m[at++]);
    if (at + n > m.size()) return std::nullopt;
    std::string s = m.substr(at, n);
    at += n;
    return s;
  };
  auto value = [&]() -> std::optional<std::string> {
    if (at + 2 > m.size()) return std::nullopt;
    size_t n = static_cast<size_t>(static_cast<uint8_t>(m[at])) << 8 | static_cast<uint8_t>(m[at + 1]);
    at += 2;
    if (at + n > m.size()) return std::nullopt;
    std::string s = m.substr(at, n);
    at += n;
    return s;
  };
  auto prefix = [&]() {
    std::string p;
    for (const auto& s : sections) p += s + ".";
    return p;
  };
  while (at < m.size()) {
    auto type = static_cast<uint8_t>(m[at++]);
    switch (type) {
      case kSectionStart: {
        auto n = name();
        if (!n) return std::nullopt;
        sections.push_back(*n);
        break;
      }
      case kSectionEnd:
        if (sections.empty()) return std::nullopt;
        sections.pop_back();
        break;
      case kKeyValue: {
        auto n = name();
        auto v = n ? value() : std::nullopt;
        if (!v) return std::nullopt;
        out.emplace_back(prefix() + *n, *v);
        break;
      }
      case kListStart: {
        auto n = name();
        if (!n) return std::nullopt;
        list = *n;
        break;
      }
      case kListItem: {
        auto v = value();
        if (!v || list.empty()) return std::nullopt;
        out.emplace_back(prefix() + list + "[]", *v);
        break;
      }
      case kListEnd:
        list.clear();
        break;
      default:
        return std::nullopt;
    }
  }
  return out;
}

ViciClient::~ViciClient() {
  if (fd_ >= 0) close(fd_);
}

bool ViciClient::connect(const std::string& path, std::string& error) {
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd_ < 0 || path.size() >= sizeof(addr.sun_path)) {
    error = fmt::format("cannot connect to {}", path);
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  timeval tv{30, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = fmt::format("cannot connect to the IKE daemon at {}: {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

std::optional<ViciFields> ViciClient::request(const std::string& name, const ViciFields& fields, std::string& error) {
  std::string packet(1, '\0');  // CMD_REQUEST
  put_name(packet, name);
  packet += encode_vici_message(fields);
  std::string frame(4, '\0');
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>(packet.size() >> (24 - 8 * i));
  if (!write_all(fd_, frame + packet)) {
    error = fmt::format("{}: lost the IKE daemon", name);
    return std::nullopt;
  }
  while (true) {
    char header[4];
    if (!read_all(fd_, header, 4)) {
      error = fmt::format("{}: no answer from the IKE daemon", name);
      return std::nullopt;
    }
    uint32_t length = 0;
    for (char b : header) length = length << 8 | static_cast<uint8_t>(b);
    if (length == 0 || length > (1u << 24)) {
      error = fmt::format("{}: malformed answer", name);
      return std::nullopt;
    }
    std::string reply(length, '\0');
    if (!read_all(fd_, reply.data(), length)) {
      error = fmt::format("{}: answer cut short", name);
      return std::nullopt;
    }
    auto type = static_cast<uint8_t>(reply[0]);
    if (type == 2) {
      error = fmt::format("{}: the IKE daemon does not know this command", name);
      return std::nullopt;
    }
    if (type != 1) continue;  // events of registrations, not ours
    auto decoded = decode_vici_message(reply.substr(1));
    if (!decoded) error = fmt::format("{}: malformed answer", name);
    return decoded;
  }
}

std::string vici_value(const ViciFields& fields, const std::string& key, const std::string& fallback) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return fallback;
}

}  // namespace bulwark::control::ike
