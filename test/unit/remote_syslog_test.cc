// Remote syslog (control/syslog/remote_syslog.h): the RFC 5424 message, and delivery over UDP to
// a socket on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "control/syslog/remote_syslog.h"

using bulwark::control::RemoteSyslog;
using bulwark::control::SyslogSeverity;

TEST_CASE("remote syslog: an RFC 5424 message") {
  // 2026-12-08T01:30:00.042Z, facility daemon (3), informational (6): PRI 30.
  CHECK(RemoteSyslog::format(SyslogSeverity::kInfo, "mguard1", 4242, "firewall",
                             "fw-incoming-2 act=ACCEPT IN=external", 1796693400042) ==
        "<30>1 2026-12-08T01:30:00.042Z mguard1 bulwark 4242 firewall - fw-incoming-2 act=ACCEPT IN=external");
  // Header fields are printable ASCII without spaces; the text stays on one line; 2048 at most.
  std::string m = RemoteSyslog::format(SyslogSeverity::kWarning, "my box", 1, "", "a\nb\rc", 0);
  CHECK(m == "<28>1 1970-01-01T00:00:00.000Z my_box bulwark 1 - - a b c");
  CHECK(RemoteSyslog::format(SyslogSeverity::kInfo, "h", 1, "m", std::string(5000, 'x'), 0).size() == 2048);
}

TEST_CASE("remote syslog: messages reach every server, and an absent one only costs a count") {
  int server = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(server, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  getsockname(server, reinterpret_cast<sockaddr*>(&sa), &len);
  timeval tv{2, 0};
  setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  bulwark::config::SyslogServer s;
  s.address = *bulwark::config::Ipv4Address::parse("127.0.0.1");
  s.port = ntohs(sa.sin_port);
  RemoteSyslog remote;
  std::string error;
  REQUIRE(remote.configure({s}, "mguard1", "", error));
  remote.send(SyslogSeverity::kInfo, "userfw", "user firewall: login hpotter from 192.168.1.10");
  char buf[4096];
  ssize_t n = recv(server, buf, sizeof buf, 0);
  REQUIRE(n > 0);
  std::string got(buf, static_cast<size_t>(n));
  CHECK(got.rfind("<30>1 ", 0) == 0);
  CHECK(got.find(" mguard1 bulwark ") != std::string::npos);
  CHECK(got.find(" userfw - user firewall: login hpotter from 192.168.1.10") != std::string::npos);
  CHECK(remote.sent() == 1);

  close(server);  // nobody listens any more: the next sends are refused by the kernel, counted
  for (int i = 0; i < 3; ++i) remote.send(SyslogSeverity::kInfo, "x", "y");
  CHECK(remote.sent() + remote.dropped() == 4);
  CHECK(remote.dropped() >= 1);

  REQUIRE(remote.configure({}, "mguard1", "", error));  // no servers: nothing sent, nothing counted
  remote.send(SyslogSeverity::kInfo, "x", "y");
  CHECK(remote.sent() + remote.dropped() == 4);
}
