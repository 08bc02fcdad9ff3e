#include "control/control_daemon.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "config/config.h"
#include "control/dataplane_client.h"
#include "control/exception_path.h"
#include "config/control_server.h"

namespace bulwark::control {
namespace {

using config::Message;
using config::MessageType;

// The dataplane's generation from its status reply, or 0.
uint64_t dataplane_generation(const std::string& socket, std::string& error) {
  auto reply = request(socket, {MessageType::kGetStatus, {}}, error);
  if (!reply || reply->type != MessageType::kStatus) return 0;
  const std::string key = "\"generation\": ";
  size_t at = reply->payload.find(key);
  return at == std::string::npos ? 0 : std::stoull(reply->payload.substr(at + key.size()));
}

}  // namespace

Message ControlDaemon::reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  config::Diagnostics read_errors;
  std::vector<config::Source> sources =
      options_.config_files.empty() ? std::vector<config::Source>{config::default_source()}
                                    : config::read_sources(options_.config_files, read_errors);
  config::LoadResult loaded;
  if (read_errors.has_errors()) {
    loaded.diagnostics = read_errors;
  } else {
    loaded = config::load(sources, generation_ + 1);
  }
  std::string report;
  for (const auto& d : loaded.diagnostics.all()) report += d.str() + "\n";
  if (!loaded.tables) {
    return {MessageType::kError,
            report + fmt::format("configuration rejected; the dataplane keeps generation {}\n", generation_)};
  }
  std::string error;
  auto reply = request(options_.dataplane_socket,
                       {MessageType::kApply, config::encode_dataplane_tables(*loaded.tables)}, error);
  if (!reply) return {MessageType::kError, report + "dataplane unreachable: " + error + "\n"};
  if (reply->type != MessageType::kApplied) {
    return {MessageType::kError, report + "dataplane refused the tables: " + reply->payload + "\n"};
  }
  generation_ = loaded.tables->generation;
  if (options_.exception_path && !configure_exception_path(*loaded.tables, error)) {
    report += "warning: exception path: " + error + "\n";
  }
  return {MessageType::kApplied, report + fmt::format("applied generation {}\n", generation_)};
}

int ControlDaemon::run() {
  // Wait for the dataplane, then continue its generation numbering.
  std::string error;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.connect_timeout_seconds);
  while (true) {
    auto reply = request(options_.dataplane_socket, {MessageType::kGetStatus, {}}, error);
    if (reply) break;
    if (std::chrono::steady_clock::now() > deadline || !running_) {
      fmt::print(stderr, "bulwark-control: {}\n", error);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  generation_ = dataplane_generation(options_.dataplane_socket, error);

  Message first = reload();
  fmt::print("{}", first.payload);
  std::fflush(stdout);
  if (first.type != MessageType::kApplied && generation_ == 0) return 1;

  config::ControlServer server;
  if (!server.listen(options_.control_socket, error)) {
    fmt::print(stderr, "bulwark-control: {}\n", error);
    return 1;
  }
  // SIGHUP sets reload_requested_; the socket thread answers `bulwark reload`.
  std::thread socket_thread([&] {
    server.serve([this](const Message& m) -> Message {
      if (m.type == MessageType::kReload) return reload();
      return {MessageType::kError, "bulwark-control answers reload requests only"};
    }, running_);
  });
  while (running_) {
    if (reload_requested_.exchange(false)) {
      Message result = reload();
      fmt::print("{}", result.payload);
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  socket_thread.join();
  return 0;
}

}  // namespace bulwark::control
