#include "control/ike/notifier.h"

#include "config/control_protocol.h"
#include "control/dataplane_client.h"

namespace bulwark::control::ike {

ControlNotifier::ControlNotifier(std::string socket) : socket_(std::move(socket)), thread_([this] { run(); }) {}

ControlNotifier::~ControlNotifier() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ControlNotifier::connection_state(const std::string& connection, bool up) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_[connection] = up;
  }
  wake_.notify_all();
}

void ControlNotifier::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !pending_.empty(); });
    if (stop_) break;
    std::map<std::string, bool> batch;
    batch.swap(pending_);
    lock.unlock();
    std::map<std::string, bool> failed;
    for (const auto& [name, up] : batch) {
      std::string error;
      auto reply = control::request(socket_, {config::MessageType::kVpnState, name + (up ? "\tup" : "\tdown")}, error);
      if (!reply) failed[name] = up;
    }
    lock.lock();
    for (const auto& [name, up] : failed) pending_.try_emplace(name, up);  // a newer state wins
    if (!failed.empty()) wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
  }
}

}  // namespace bulwark::control::ike
