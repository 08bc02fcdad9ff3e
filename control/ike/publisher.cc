#include "control/ike/publisher.h"

#include <fmt/format.h>

#include "config/control_protocol.h"
#include "control/dataplane_client.h"

namespace bulwark::control::ike {

DataplanePublisher::DataplanePublisher(std::string socket, std::function<std::string()> snapshot,
                                       std::function<std::string()> counts,
                                       std::function<void(const std::string&)> usage)
    : socket_(std::move(socket)),
      snapshot_(std::move(snapshot)),
      counts_(std::move(counts)),
      usage_(std::move(usage)),
      thread_([this] { run(); }) {}

DataplanePublisher::~DataplanePublisher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DataplanePublisher::publish(std::string lines) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(lines));
  }
  wake_.notify_all();
}

void DataplanePublisher::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    // A change goes out at once: as itself when the dataplane is in sync, else (not reachable
    // before, or just started) as part of a flush and the whole state. Without changes, a
    // heartbeat once a second.
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    std::string payload;
    bool heartbeat = false;
    if (!in_sync_) {
      queue_.clear();  // the snapshot below contains them
      lock.unlock();
      payload = "flush\n" + snapshot_();
    } else if (queue_.empty()) {
      heartbeat = true;  // nothing changed for a second: is the dataplane still the one we fed?
      lock.unlock();
    } else {
      while (!queue_.empty()) {
        payload += queue_.front();
        queue_.pop_front();
      }
      lock.unlock();
    }
    std::string error;
    auto reply = control::request(socket_, {config::MessageType::kIpsec, payload}, error);
    bool ok = reply && reply->type == config::MessageType::kApplied;
    if (ok && heartbeat) ok = reply->payload == counts_();
    if (ok && heartbeat) {
      auto usage = control::request(socket_, {config::MessageType::kSa, "usage"}, error);
      if (usage && usage->type == config::MessageType::kApplied) usage_(usage->payload);
    }
    if (!ok && in_sync_ && !heartbeat) {
      fmt::print("dataplane: IPsec update not delivered ({}); will resend the whole state\n",
                 reply ? reply->payload : error);
      std::fflush(stdout);
    }
    lock.lock();
    in_sync_ = ok;
  }
}

}  // namespace bulwark::control::ike
