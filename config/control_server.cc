#include "config/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>

namespace bulwark::config {

ControlServer::~ControlServer() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

bool ControlServer::listen(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    error = fmt::format("socket path too long: {}", path);
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  ::unlink(path.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    error = fmt::format("cannot listen on {}: {}", path, std::strerror(errno));
    return false;
  }
  ::chmod(path.c_str(), 0660);
  path_ = path;
  return true;
}

void ControlServer::serve(const Handler& handler, const std::atomic<bool>& running, int tick_ms) {
  std::map<int, MessageReader> clients;
  while (running.load()) {
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& [fd, reader] : clients) fds.push_back({fd, POLLIN, 0});
    int ready = ::poll(fds.data(), fds.size(), tick_ms);
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) clients.emplace(fd, MessageReader{});
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int fd = fds[i].fd;
      char buffer[65536];
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      auto& reader = clients[fd];
      bool close_it = n <= 0;
      if (n > 0) {
        reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
        while (auto request = reader.next()) {
          if (!send_message(fd, handler(*request))) close_it = true;
        }
        if (!reader.error().empty()) {
          send_message(fd, {MessageType::kError, reader.error()});
          close_it = true;
        }
      }
      if (close_it) {
        ::close(fd);
        clients.erase(fd);
      }
    }
  }
  for (const auto& [fd, reader] : clients) ::close(fd);
}

}  // namespace bulwark::config
