// RFC 5424 over UDP (remote_syslog.h).
#include "control/syslog/remote_syslog.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include <fmt/format.h>

namespace bulwark::control {
namespace {

constexpr int kFacilityDaemon = 3;
constexpr size_t kMaxMessage = 2048;  // RFC 5426 3.2: receivers SHOULD accept 2048 octets

// RFC 5424 6.2.4/6.2.5: PRINTUSASCII without spaces, bounded; "-" when empty.
std::string header_field(std::string_view value, size_t max) {
  std::string out;
  for (char c : value.substr(0, max)) out += (c > 32 && c < 127) ? c : '_';
  return out.empty() ? "-" : out;
}

int make_socket(const config::SyslogServer& s, std::string& error) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(s.port);
  sa.sin_addr.s_addr = htonl(s.address.value);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    error = fmt::format("syslog server {}:{}: {}", s.address.str(), s.port, std::strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RemoteSyslog::~RemoteSyslog() { close_all(); }

void RemoteSyslog::close_all() {
  for (int fd : sockets_) close(fd);
  sockets_.clear();
}

bool RemoteSyslog::configure(const std::vector<config::SyslogServer>& servers, const std::string& hostname,
                             const std::string& network_namespace, std::string& error) {
  std::string key = network_namespace;
  for (const auto& s : servers) key += fmt::format("|{}:{}", s.address.str(), s.port);
  std::lock_guard<std::mutex> lock(mutex_);
  hostname_ = hostname;
  if (complete_ && key == key_) return true;
  std::vector<int> made;
  bool ok = true;
  // A thread of its own enters the namespace, so that the caller's thread stays where it is.
  std::thread maker([&] {
    if (!network_namespace.empty()) {
      int ns = open(("/run/netns/" + network_namespace).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        error = fmt::format("cannot enter network namespace {}: {}", network_namespace, std::strerror(errno));
        if (ns >= 0) close(ns);
        ok = false;
        return;
      }
      close(ns);
    }
    for (const auto& s : servers) {
      int fd = make_socket(s, error);
      if (fd < 0) {
        ok = false;
        continue;
      }
      made.push_back(fd);
    }
  });
  maker.join();
  close_all();
  sockets_ = std::move(made);
  key_ = key;
  complete_ = ok;
  return ok;
}

void RemoteSyslog::send(SyslogSeverity severity, std::string_view msgid, std::string_view text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sockets_.empty()) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string message = format(severity, hostname_, getpid(), msgid, text, now);
  for (int fd : sockets_) {
    if (::send(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(message.size())) {
      ++sent_;
    } else {
      ++dropped_;  // buffer full, or the server's port unreachable (reported on a later send)
    }
  }
}

std::string RemoteSyslog::status(bool json) {
  size_t servers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    servers = sockets_.size();
  }
  if (json) return fmt::format("{{\"servers\": {}, \"sent\": {}, \"dropped\": {}}}", servers, sent(), dropped());
  if (servers == 0) return "syslog: no remote servers\n";
  return fmt::format("syslog: {} remote server{}, {} messages sent, {} dropped\n", servers, servers == 1 ? "" : "s",
                     sent(), dropped());
}

std::string RemoteSyslog::format(SyslogSeverity severity, std::string_view hostname, int pid,
                                 std::string_view msgid, std::string_view text, int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = fmt::format("<{}>1 {}.{:03}Z {} bulwark {} {} - ", kFacilityDaemon * 8 + static_cast<int>(severity),
                                stamp, unix_ms % 1000, header_field(hostname, 255), pid, header_field(msgid, 32));
  for (char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;  // one line per message
  if (out.size() > kMaxMessage) out.resize(kMaxMessage);
  return out;
}

}  // namespace bulwark::control
