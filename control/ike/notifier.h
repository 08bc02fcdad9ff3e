// Tells bulwark-control when a VPN connection goes up (its first CHILD SA) or down (its last),
// so that rule records controlled by the connection follow it (manual 8.1, 10.9). From a thread
// of its own: charon's threads never wait for bulwark-control. Only the latest state of each
// connection is kept; what could not be delivered is retried every second.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace bulwark::control::ike {

class ControlNotifier {
 public:
  explicit ControlNotifier(std::string socket);
  ~ControlNotifier();
  void connection_state(const std::string& connection, bool up);

 private:
  std::string socket_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, bool> pending_;
  bool stop_ = false;
  std::thread thread_;
  void run();
};

}  // namespace bulwark::control::ike
