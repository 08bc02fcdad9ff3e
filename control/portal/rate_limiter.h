// Limits password guessing at the login portal: failed logins are counted per client address
// and per user name in a sliding window; while either is over its limit, further attempts are
// refused before any password is checked (HTTP 429). A success clears the address's count.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "config/net_types.h"

namespace bulwark::control {

struct RateLimits {
  unsigned failures_per_address = 5;
  unsigned failures_per_user = 10;
  std::chrono::seconds window{60};
  size_t max_tracked_keys = 4096;  // oldest forgotten first: bounded memory under attack
};

class LoginRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoginRateLimiter(RateLimits limits = {});
  // False when `source` or `user` has had too many failures within the window.
  bool admit(config::Ipv4Address source, const std::string& user, Clock::time_point now);
  void record_failure(config::Ipv4Address source, const std::string& user, Clock::time_point now);
  void record_success(config::Ipv4Address source, Clock::time_point now);

 private:
  struct Window {
    std::deque<Clock::time_point> failures;
  };
  bool over(std::unordered_map<std::string, Window>& map, const std::string& key, unsigned limit,
            Clock::time_point now);
  void add(std::unordered_map<std::string, Window>& map, const std::string& key,
           Clock::time_point now);
  RateLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> by_address_;
  std::unordered_map<std::string, Window> by_user_;
};

}  // namespace bulwark::control
