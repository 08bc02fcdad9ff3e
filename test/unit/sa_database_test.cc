// bulwark-iked's SA database against the dataplane's counters: query_sa's figures, and SAs that a
// restarted dataplane holds afresh (another instance id) are handed back for a rekey, once.
#include <catch2/catch.hpp>

#include <cstdio>

#include "control/ike/sa_database.h"

using namespace bulwark;
using bulwark::control::ike::SaDatabase;

namespace {

bw_sa_t sample_sa(uint32_t spi) {
  bw_sa_t sa{};
  sa.spi = spi;
  sa.protocol = 50;
  std::snprintf(sa.src, BW_ADDR, "10.1.0.1");
  std::snprintf(sa.dst, BW_ADDR, "10.1.0.2");
  return sa;
}

config::IpsecUsageReport report(uint64_t instance, uint32_t spi, uint64_t packets) {
  config::IpsecUsageReport r;
  r.instance = instance;
  config::IpsecSaUsage u;
  u.packets = packets;
  u.bytes = packets * 100;
  r.sas[{spi, config::Ipv4Address::parse("10.1.0.2")->value, 50}] = u;
  return r;
}

}  // namespace

TEST_CASE("the dataplane's counters answer query_sa", "[ike]") {
  SaDatabase db;
  db.add(sample_sa(0x1001));
  CHECK(db.set_usage(report(7, 0x1001, 5)).empty());
  uint64_t bytes = 0, packets = 0;
  time_t last_use = 0;
  REQUIRE(db.query(0x1001, 50, "10.1.0.2", bytes, packets, last_use) == 0);
  CHECK(bytes == 500);
  CHECK(packets == 5);
}

TEST_CASE("SAs a restarted dataplane holds afresh are rekeyed once", "[ike]") {
  SaDatabase db;
  db.add(sample_sa(0x1001));
  db.add(sample_sa(0x1002));
  CHECK(db.set_usage(report(7, 0x1001, 0)).empty());   // counted (idle) by instance 7
  CHECK(db.set_usage(report(7, 0x1001, 40)).empty());  // same instance: counters grow
  SECTION("another instance, even with more packets than before") {
    auto lost = db.set_usage(report(9, 0x1001, 1000));
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].spi == 0x1001);
    CHECK_FALSE(lost[0].hard);
    CHECK(db.set_usage(report(11, 0x1001, 3)).empty());  // already being rekeyed
  }
  SECTION("an SA first counted by the new instance is left alone") {
    CHECK(db.set_usage(report(9, 0x1002, 0)).empty());
  }
}
