#include "config/services.h"

namespace bulwark::config {

const std::vector<std::pair<std::string_view, uint16_t>>& all_services() {
  static const std::vector<std::pair<std::string_view, uint16_t>> kServices = {
      {"ftp", 21},         {"ssh", 22},          {"telnet", 23},      {"smtp", 25},
      {"domain", 53},      {"tftp", 69},         {"http", 80},        {"s7", 102},
      {"pop3", 110},       {"ntp", 123},         {"imap", 143},       {"snmp", 161},
      {"ldap", 389},       {"https", 443},       {"smb", 445},        {"isakmp", 500},
      {"modbus", 502},     {"syslog", 514},      {"ldaps", 636},      {"imaps", 993},
      {"pop3s", 995},      {"openvpn", 1194},    {"radius", 1812},    {"mqtt", 1883},
      {"iec-104", 2404},   {"rdp", 3389},        {"ipsec-nat-t", 4500}, {"opc-ua", 4840},
      {"vnc", 5900},       {"http-alt", 8080},   {"mqtts", 8883},     {"dnp3", 20000},
      {"profinet", 34964}, {"ethernet-ip", 44818},
  };
  return kServices;
}

std::optional<uint16_t> service_port(std::string_view name) {
  for (const auto& [service, port] : all_services()) {
    if (service == name) return port;
  }
  return std::nullopt;
}

std::optional<std::string_view> service_name(uint16_t port) {
  for (const auto& [service, p] : all_services()) {
    if (p == port) return service;
  }
  return std::nullopt;
}

}  // namespace bulwark::config
