// A helper program that bulwark-control keeps running: bulwark-iked, the DHCP clients. Started
// (optionally inside a network namespace: the exception namespace, where the box's addresses
// are) with its stdout and stderr on a pipe that `poll` reads line by line into `on_line`;
// restarted when it exits, 1 s after the first exit and doubling up to 30 s; stopped with SIGTERM
// and, after 5 s, SIGKILL. Thread-safe: reloads (socket thread) configure it while the main loop
// polls it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace bulwark::control {

class SupervisedChild {
 public:
  // `name` is used in messages ("bulwark-iked"); `on_line` gets each line the child prints.
  SupervisedChild(std::string name, std::function<void(const std::string&)> on_line)
      : name_(std::move(name)), on_line_(std::move(on_line)) {}
  ~SupervisedChild() { stop(); }
  SupervisedChild(const SupervisedChild&) = delete;
  SupervisedChild& operator=(const SupervisedChild&) = delete;

  // Runs `argv` (argv[0] is the program's path) in `network_namespace` (empty: this one) from
  // now on; a running child with other arguments or namespace is stopped first. True when it
  // was started now, false when the same child was running already.
  bool run(std::vector<std::string> argv, std::string network_namespace = {});
  void signal(int signal_number);
  // How many times it has been started: a new value means a fresh process.
  unsigned starts() const { return starts_; }
  // Reads output, reaps and restarts. True when the child has just exited.
  bool poll();
  // Stops it and does not restart it.
  void stop();

 private:
  std::recursive_mutex mutex_;
  std::string name_;
  std::function<void(const std::string&)> on_line_;
  std::vector<std::string> argv_;
  std::string namespace_;
  bool wanted_ = false;
  pid_t pid_ = -1;
  std::atomic<unsigned> starts_{0};
  std::chrono::seconds backoff_{1};
  std::chrono::steady_clock::time_point next_start_{};
  int output_ = -1;      // read end of the child's stdout and stderr
  std::string partial_;  // a line not yet complete
  void start();
  void drain_output();
};

}  // namespace bulwark::control
