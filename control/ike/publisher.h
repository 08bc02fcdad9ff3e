// Hands every SA and policy change of bulwark-iked to the dataplane (control message kIpsec,
// config/ipsec_records.h), in order, from a thread of its own so that charon's threads never
// wait for the dataplane. When the dataplane is unreachable (not started yet, restarting) the
// changes are dropped and, once it answers again, a flush and the full current state are sent.
// A heartbeat every second compares the dataplane's SA and policy counts with ours, so a
// dataplane that restarted between two changes is noticed too: the dataplane always ends up with
// exactly what the backend holds. With each heartbeat it also fetches what the dataplane counted
// per SA and hands it to `usage` (charon's query_sa, volume lifetimes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bulwark::control::ike {

class DataplanePublisher {
 public:
  // `snapshot` returns the whole state in wire form and `counts` the dataplane's expected reply
  // to a heartbeat ("N SAs, M policies"); both are called from the publisher's thread.
  DataplanePublisher(std::string socket, std::function<std::string()> snapshot, std::function<std::string()> counts,
                     std::function<void(const std::string&)> usage);
  ~DataplanePublisher();
  void publish(std::string lines);

 private:
  std::string socket_;
  std::function<std::string()> snapshot_;
  std::function<std::string()> counts_;
  std::function<void(const std::string&)> usage_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  bool in_sync_ = false;
  std::thread thread_;
  void run();
};

}  // namespace bulwark::control::ike
