// Sliding-window counts of failed logins (rate_limiter.h).
#include "control/portal/rate_limiter.h"

#include <iterator>

namespace bulwark::control {
namespace {

// Names are counted by their first 256 bytes: bounded memory whatever a client posts.
std::string user_key(const std::string& user) { return user.substr(0, 256); }

}  // namespace

LoginRateLimiter::LoginRateLimiter(RateLimits limits) : limits_(limits) {}

bool LoginRateLimiter::over(std::unordered_map<std::string, Window>& map, const std::string& key, unsigned limit,
                            Clock::time_point now) {
  auto it = map.find(key);
  if (it == map.end()) return false;
  auto& failures = it->second.failures;
  while (!failures.empty() && now - failures.front() >= limits_.window) failures.pop_front();
  if (failures.empty()) {
    map.erase(it);
    return false;
  }
  return failures.size() >= limit;
}

void LoginRateLimiter::add(std::unordered_map<std::string, Window>& map, const std::string& key,
                           Clock::time_point now) {
  if (map.size() >= limits_.max_tracked_keys && !map.count(key)) {
    // Forget expired windows first; when every key is recent, the one with the oldest last failure.
    for (auto it = map.begin(); it != map.end();) {
      it = (it->second.failures.empty() || now - it->second.failures.back() >= limits_.window) ? map.erase(it)
                                                                                                : std::next(it);
    }
    if (map.size() >= limits_.max_tracked_keys) {
      auto oldest = map.begin();
      for (auto it = map.begin(); it != map.end(); ++it) {
        if (it->second.failures.back() < oldest->second.failures.back()) oldest = it;
      }
      map.erase(oldest);
    }
  }
  auto& failures = map[key].failures;
  failures.push_back(now);
  while (failures.size() > 64) failures.pop_front();  // more than any limit needs
}

bool LoginRateLimiter::admit(config::Ipv4Address source, const std::string& user, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return !over(by_address_, source.str(), limits_.failures_per_address, now) &&
         !over(by_user_, user_key(user), limits_.failures_per_user, now);
}

void LoginRateLimiter::record_failure(config::Ipv4Address source, const std::string& user, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  add(by_address_, source.str(), now);
  add(by_user_, user_key(user), now);
}

void LoginRateLimiter::record_success(config::Ipv4Address source, Clock::time_point) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_address_.erase(source.str());
}

}  // namespace bulwark::control
