// A small single-threaded Unix-socket server for the control protocol (control_protocol.h),
// used by both daemons. In the dataplane it runs on the management thread, never on a worker.
// It accepts any number of clients, reads their requests, and answers each with the reply the
// handler returns.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/control_protocol.h"

namespace bulwark::config {

class ControlServer {
 public:
  using Handler = std::function<Message(const Message&)>;

  ~ControlServer();
  // Binds `path` (a stale socket file is replaced) with mode 0660.
  bool listen(const std::string& path, std::string& error);
  // Serves until `running` becomes false; checks it at least every `tick_ms`.
  void serve(const Handler& handler, const std::atomic<bool>& running, int tick_ms = 200);

 private:
  int listen_fd_ = -1;
  std::string path_;
};

}  // namespace bulwark::config
