#include "control/dataplane_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace bulwark::control {

std::optional<config::Message> request(const std::string& socket_path, const config::Message& m,
                                       std::string& error) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    error = "socket path too long";
    return std::nullopt;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = fmt::format("cannot connect to {}: {}", socket_path, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::optional<config::Message> reply;
  if (!config::send_message(fd, m)) {
    error = fmt::format("cannot send to {}: {}", socket_path, std::strerror(errno));
  } else {
    reply = config::receive_message(fd, error);
  }
  ::close(fd);
  return reply;
}

}  // namespace bulwark::control
