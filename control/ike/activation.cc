#include "control/ike/activation.h"

#include <fmt/format.h>

namespace bulwark::control::ike {

bool Activation::started(const std::string& connection, const std::string& by, uint32_t timeout_seconds,
                         std::time_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = started_.find(connection);
  if (it != started_.end() && it->second.by == by && by.rfind("switch ", 0) == 0) return false;
  started_[connection] = {by, now, timeout_seconds ? now + static_cast<std::time_t>(timeout_seconds) : 0};
  return true;
}

void Activation::stopped(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  started_.erase(connection);
}

bool Activation::is_started(const std::string& connection) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_.count(connection) != 0;
}

std::vector<std::string> Activation::due(std::time_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (auto it = started_.begin(); it != started_.end();) {
    if (it->second.stop_at && it->second.stop_at <= now) {
      out.push_back(it->first);
      it = started_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::string Activation::describe(const std::string& connection, std::time_t now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = started_.find(connection);
  if (it == started_.end()) return {};
  char at[32];
  std::tm tm{};
  localtime_r(&it->second.at, &tm);
  std::strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = fmt::format("started by {} at {}", it->second.by, at);
  if (it->second.stop_at) out += fmt::format(", stops in {} s", std::max<long>(0, it->second.stop_at - now));
  return out;
}

}  // namespace bulwark::control::ike
