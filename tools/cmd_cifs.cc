// `bulwark cifs`: CIFS integrity monitoring (manual chapter 16). The operations run inside
// bulwark-control; this command starts them, follows their progress and shows the result.
// `validate` works offline: it checks the signature of a report or database file.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/config.h"
#include "config/control_protocol.h"
#include "config/secrets.h"
#include "control/cifs/signature.h"
#include "control/dataplane_client.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {
namespace {

namespace po = boost::program_options;
using config::Message;
using config::MessageType;

// The number after "KEY": in a flat JSON object, or -1; booleans as 1/0.
long long json_number(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return -1;
  std::string rest = json.substr(at + key.size() + 4);
  if (rest.rfind("true", 0) == 0) return 1;
  if (rest.rfind("false", 0) == 0) return 0;
  return std::atoll(rest.c_str());
}

std::optional<Message> ask(const std::string& socket, const std::string& payload) {
  std::string error;
  auto reply = control::request(socket, {MessageType::kCifs, payload}, error);
  if (!reply) fmt::print(stderr, "bulwark cifs: {}\n", error);
  return reply;
}

// Follows a started operation until it ends; exit status 0 when it succeeded.
int follow(const std::string& socket, const std::string& name) {
  bool tty = isatty(STDOUT_FILENO);
  auto last_line = std::chrono::steady_clock::now();
  while (true) {
    auto reply = ask(socket, "status\t" + name + "\tjson");
    if (!reply || reply->type != MessageType::kApplied) return 1;
    const std::string& s = reply->payload;
    if (json_number(s, "running") == 0) break;
    long long files = json_number(s, "files"), total = json_number(s, "total");
    std::string line = total > 0 ? fmt::format("{} files scanned of {}", files, total)
                                 : fmt::format("{} files scanned", files);
    auto now = std::chrono::steady_clock::now();
    if (tty) {
      fmt::print("\r{}   ", line);
      std::fflush(stdout);
    } else if (now - last_line > std::chrono::seconds(5)) {
      fmt::print("{}\n", line);
      last_line = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (tty) fmt::print("\r");
  auto text = ask(socket, "status\t" + name + "\ttext");
  auto json = ask(socket, "status\t" + name + "\tjson");
  if (!text || !json) return 1;
  std::cout << text->payload;
  size_t last = json->payload.find("\"last\": ");
  return last != std::string::npos && json_number(json->payload.substr(last), "ok") == 1 ? 0 : 1;
}

int validate(const std::string& file, const po::variables_map& vm) {
  std::string error;
  std::optional<control::cifs::IntegrityKey> key;
  if (vm.count("certificate")) {
    key = control::cifs::IntegrityKey::from_certificate(vm["certificate"].as<std::string>(), error);
  } else {
    std::vector<std::string> configs;
    if (vm.count("config")) configs = vm["config"].as<std::vector<std::string>>();
    auto loaded = config::load_files(configs);
    if (!loaded.tables) {
      for (const auto& d : loaded.diagnostics.all()) fmt::print(stderr, "{}\n", d.str());
      return 2;
    }
    const auto& t = *loaded.tables;
    if (t.cifs.integrity_certificate >= t.ipsec.machine_certificates.size()) {
      fmt::print(stderr, "bulwark cifs validate: the configuration names no integrity certificate; "
                         "give --certificate CERT.pem\n");
      return 2;
    }
    const auto& cert = t.ipsec.machine_certificates[t.cifs.integrity_certificate];
    std::string password;
    if (cert.password) {
      auto secret = config::read_secret(*cert.password, error);
      if (!secret) {
        fmt::print(stderr, "bulwark cifs validate: {}\n", error);
        return 2;
      }
      password = *secret;
    }
    key = control::cifs::IntegrityKey::from_pkcs12(cert.path, password, error);
  }
  if (!key) {
    fmt::print(stderr, "bulwark cifs validate: {}\n", error);
    return 2;
  }
  std::string signature = control::cifs::read_text_file(file + ".sig", error);
  if (error.empty() && control::cifs::verify_file(file, signature, *key, error)) {
    fmt::print("{}: valid, signed by {} (SHA-256 {})\n", file, key->subject(), key->fingerprint());
    return 0;
  }
  fmt::print("{}: NOT VALID: {}\n", file, error.empty() ? "no signature" : error);
  return 1;
}

}  // namespace

int run_cifs(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark cifs status [NAME] [--json]\n"
      "       bulwark cifs access-check|init|check|erase NAME [--no-wait]\n"
      "       bulwark cifs cancel NAME\n"
      "       bulwark cifs validate FILE [--certificate CERT.pem | --config FILE…]\n\n"
      "CIFS integrity monitoring of Windows shares (see docs/cifs.md). access-check lists what\n"
      "cannot be read; init (re)builds the signed integrity database; check compares the share\n"
      "with it; erase removes the database and the reports; cancel stops the running operation.\n"
      "The operations run in bulwark-control; this command follows their progress and exits\n"
      "with 0 when the operation succeeded (a check without differences), else 1. validate\n"
      "checks the signature of a report or database (FILE.sig next to it) against the\n"
      "integrity certificate of the configuration or a PEM certificate.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/control.sock"), "bulwark-control socket")(
      "json", "status as JSON")("no-wait", "start the operation and return")(
      "certificate", po::value<std::string>(), "validate: the integrity certificate (PEM)")(
      "config", po::value<std::vector<std::string>>()->composing(), "validate: configuration file(s)")(
      "words", po::value<std::vector<std::string>>(), "VERB and NAME");
  po::positional_options_description positional;
  positional.add("words", -1);
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "cifs"); rc >= 0) return rc;
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  if (words.empty() || words.size() > 2 || (words.size() == 1 && words[0] != "status")) {
    std::cerr << options << "\n";
    return 2;
  }
  const std::string& verb = words[0];
  std::string name = words.size() == 2 ? words[1] : "";
  if (verb == "validate") return validate(name, vm);
  std::string socket = vm["socket"].as<std::string>();
  std::string format = vm.count("json") ? "json" : "text";
  auto reply = ask(socket, fmt::format("{}\t{}\t{}", verb, name, format));
  if (!reply) return 1;
  std::string text = reply->payload;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (reply->type != MessageType::kApplied) {
    std::cerr << text;
    return 1;
  }
  if (verb == "status" || verb == "cancel" || vm.count("no-wait")) {
    std::cout << text;
    return 0;
  }
  std::cout << text;
  return follow(socket, name);
}

}  // namespace bulwark::tools
