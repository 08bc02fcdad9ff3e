#include "control/child_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>

namespace bulwark::control {

bool SupervisedChild::run(std::vector<std::string> argv, std::string network_namespace) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (pid_ > 0 && (argv != argv_ || network_namespace != namespace_)) stop();
  argv_ = std::move(argv);
  namespace_ = std::move(network_namespace);
  wanted_ = true;
  if (pid_ > 0) return false;
  backoff_ = std::chrono::seconds(1);
  start();
  return true;
}

void SupervisedChild::signal(int signal_number) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (pid_ > 0) kill(pid_, signal_number);
}

void SupervisedChild::start() {
  int out[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) out[0] = out[1] = -1;
  pid_t pid = fork();
  if (pid == 0) {
    if (out[1] >= 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : argv_) argv.push_back(a.data());
    argv.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!namespace_.empty()) {
      int fd = open(("/run/netns/" + namespace_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        fmt::print(stderr, "bulwark-control: cannot enter network namespace {} for {}\n", namespace_, name_);
        _exit(126);
      }
    }
    execv(argv[0], argv.data());
    fmt::print(stderr, "bulwark-control: cannot run {}\n", argv_[0]);
    _exit(127);
  }
  if (out[1] >= 0) close(out[1]);
  if (pid < 0) {
    if (out[0] >= 0) close(out[0]);
    on_line_(fmt::format("bulwark-control: cannot start {}", name_));
  } else {
    if (out[0] >= 0) {
      if (output_ >= 0) close(output_);
      output_ = out[0];
      fcntl(output_, F_SETFL, fcntl(output_, F_GETFL) | O_NONBLOCK);
      partial_.clear();
    }
    fmt::print("bulwark-control: started {} (pid {})\n", name_, pid);
    std::fflush(stdout);
    pid_ = pid;
    ++starts_;
  }
  next_start_ = std::chrono::steady_clock::now() + backoff_;
}

void SupervisedChild::drain_output() {
  if (output_ < 0) return;
  char buf[4096];
  ssize_t n;
  while ((n = read(output_, buf, sizeof buf)) > 0) {
    partial_.append(buf, static_cast<size_t>(n));
    size_t start = 0, end;
    while ((end = partial_.find('\n', start)) != std::string::npos) {
      if (end > start) on_line_(partial_.substr(start, end - start));
      start = end + 1;
    }
    partial_.erase(0, start);
    if (partial_.size() > 4096) {  // a line without end: pass it on in pieces
      on_line_(partial_);
      partial_.clear();
    }
  }
  if (n == 0) {  // the child and everything it started have closed it
    if (!partial_.empty()) on_line_(partial_);
    partial_.clear();
    close(output_);
    output_ = -1;
  }
}

bool SupervisedChild::poll() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  drain_output();
  bool exited = false;
  if (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exited = true;
    drain_output();
    fmt::print("bulwark-control: {} exited ({}); restarting it in {} s\n", name_,
               WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                   : fmt::format("status {}", WEXITSTATUS(status)),
               backoff_.count());
    std::fflush(stdout);
    pid_ = -1;
    next_start_ = std::chrono::steady_clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::seconds(30));
  }
  if (wanted_ && pid_ < 0 && std::chrono::steady_clock::now() >= next_start_) start();
  return exited;
}

void SupervisedChild::stop() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  wanted_ = false;
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      drain_output();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  drain_output();
}

}  // namespace bulwark::control
