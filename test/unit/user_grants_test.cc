// The user firewall's grant and activity messages (config/user_grants.h): round trips, and every
// truncated, padded or inconsistent message refused with an error.
#include <catch2/catch.hpp>

#include "config/user_grants.h"

using namespace bulwark;
using config::Role;
using config::SessionActivity;
using config::UserGrant;
using config::UserGrants;

namespace {

UserGrants sample() {
  UserGrants g;
  g.serial = 0x0102030405060708ULL;
  g.grants.push_back({7, *config::Ipv4Address::parse("192.168.1.10"), Role::kInternal, "Access Web-Server (HTTP)"});
  g.grants.push_back({7, *config::Ipv4Address::parse("192.168.1.10"), Role::kInternal, "Maintenance"});
  g.grants.push_back({9, *config::Ipv4Address::parse("10.1.0.50"), Role::kExternal, "Remote"});
  g.grants.push_back({11, *config::Ipv4Address::parse("172.16.0.5"), Role::kDmz, "D"});
  return g;
}

// Offsets of the fixed fields of grant `i` in the encoding of sample().
size_t grant_offset(const UserGrants& g, size_t i) {
  size_t at = 12;
  for (size_t k = 0; k < i; ++k) at += 11 + g.grants[k].template_name.size();
  return at;
}

}  // namespace

TEST_CASE("user grants round trip", "[user_grants]") {
  std::string error;
  for (const UserGrants& g : {UserGrants{}, sample()}) {
    auto back = config::decode_user_grants(config::encode_user_grants(g), error);
    REQUIRE(back);
    CHECK(*back == g);
  }
}

TEST_CASE("every truncation of a grant set is refused", "[user_grants]") {
  const std::string wire = config::encode_user_grants(sample());
  for (size_t n = 0; n < wire.size(); ++n) {
    std::string error;
    CHECK_FALSE(config::decode_user_grants(std::string_view(wire).substr(0, n), error));
    CHECK_FALSE(error.empty());
  }
  std::string error;
  CHECK_FALSE(config::decode_user_grants(wire + "x", error));
  CHECK(error.find("after the last grant") != std::string::npos);
}

TEST_CASE("bad values in a grant set are refused", "[user_grants]") {
  const UserGrants g = sample();
  const std::string wire = config::encode_user_grants(g);
  std::string error;

  std::string bad = wire;
  bad[grant_offset(g, 1)] = 0;  // session 0 (little-endian u32 7 -> 0)
  CHECK_FALSE(config::decode_user_grants(bad, error));
  CHECK(error.find("session 0") != std::string::npos);

  bad = wire;
  bad[grant_offset(g, 2) + 8] = 3;  // role past kDmz
  CHECK_FALSE(config::decode_user_grants(bad, error));
  CHECK(error.find("login role") != std::string::npos);

  UserGrants empty_name = g;
  empty_name.grants[3].template_name.clear();
  CHECK_FALSE(config::decode_user_grants(config::encode_user_grants(empty_name), error));
  CHECK(error.find("template name") != std::string::npos);

  UserGrants long_name = g;
  long_name.grants[0].template_name.assign(256, 'a');
  CHECK_FALSE(config::decode_user_grants(config::encode_user_grants(long_name), error));

  // A count beyond the limit, and one the bytes cannot hold.
  bad = wire;
  const uint32_t huge = config::kMaxUserGrants + 1;
  bad.replace(8, 4, reinterpret_cast<const char*>(&huge), 4);
  CHECK_FALSE(config::decode_user_grants(bad, error));
  CHECK(error.find("limit") != std::string::npos);
  bad = wire;
  const uint32_t many = 1000;
  bad.replace(8, 4, reinterpret_cast<const char*>(&many), 4);
  CHECK_FALSE(config::decode_user_grants(bad, error));
}

TEST_CASE("session activity round trips and refuses damage", "[user_grants]") {
  std::vector<SessionActivity> a = {{7, 1500, 2}, {9, config::kNeverActive, 0}};
  std::string error;
  const std::string wire = config::encode_session_activity(a);
  auto back = config::decode_session_activity(wire, error);
  REQUIRE(back);
  CHECK(*back == a);
  CHECK(config::decode_session_activity(config::encode_session_activity({}), error)->empty());
  for (size_t n = 0; n < wire.size(); ++n) {
    CHECK_FALSE(config::decode_session_activity(std::string_view(wire).substr(0, n), error));
  }
  CHECK_FALSE(config::decode_session_activity(wire + "x", error));
  std::string zero = wire;
  zero[4] = 0;
  CHECK_FALSE(config::decode_session_activity(zero, error));
}
