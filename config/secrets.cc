#include "config/secrets.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bulwark::config {

std::optional<std::string> read_secret(const SecretRef& ref, std::string& error) {
  if (ref.kind == SecretRef::Kind::kEnv) {
    const char* value = std::getenv(ref.name.c_str());
    if (!value) {
      error = "environment variable " + ref.name + " is not set";
      return std::nullopt;
    }
    return std::string(value);
  }
  std::ifstream file(ref.name, std::ios::binary);
  if (!file) {
    error = "cannot read secret file " + ref.name + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

}  // namespace bulwark::config
