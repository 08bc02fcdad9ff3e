// The dataplane's IPsec tables: policy lookup by specificity through the prefix index, the
// plaintext check, and SAs keeping their state (sequence numbers) across rebuilds.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "dataplane/ipsec_tables.h"

using namespace bulwark;
using bulwark::dataplane::IpsecTables;
using bulwark::dataplane::SaRegistry;

namespace {

std::string sa(uint32_t spi, const char* dir, const char* local, const char* remote) {
  return fmt::format(
      "sa spi={} proto=50 dir={} src=10.1.0.1 dst=10.1.0.2 encap=0 sport=0 dport=0 reqid=1 mode=tunnel enc=20 "
      "enc_name=AES_GCM_16_128 enc_key=000102030405060708090a0b0c0d0e0f10111213 int=0 int_name=- int_key= "
      "replay=32 esn=0 soft_s=0 hard_s=0 soft_b=0 hard_b=0 soft_p=0 hard_p=0 local_ts={} remote_ts={}\n",
      spi, dir, local, remote);
}

std::string policy(const char* dir, const char* src, const char* dst, uint32_t spi, int proto = 0) {
  return fmt::format("policy dir={} src={} dst={} proto={} reqid=1 spi={} refs=1\n", dir, src, dst, proto, spi);
}

uint32_t ip(const char* text) { return config::Ipv4Address::parse(text)->value; }

}  // namespace

TEST_CASE("Outbound policies: the most specific match wins, through the prefix index") {
  config::IpsecState state;
  std::string error;
  REQUIRE(state.apply(sa(1, "out", "192.168.1.0/24", "10.0.0.0/8") + sa(2, "out", "192.168.1.0/24", "10.2.0.0/16") +
                          sa(3, "out", "192.168.1.0/24", "10.2.3.0/24") +
                          policy("out", "192.168.1.0/24", "10.0.0.0/8", 1) +
                          policy("out", "192.168.1.0/24", "10.2.0.0/16", 2) +
                          policy("out", "192.168.1.128/25", "10.2.3.0/24", 3) +
                          policy("out", "192.168.1.0/24", "10.2.3.4/32", 0, 17),  // no SA yet
                      error));
  SaRegistry registry(1);
  std::vector<std::string> errors;
  auto t = registry.build(state, errors);
  REQUIRE(errors.empty());
  auto spi_for = [&](const char* src, const char* dst, uint8_t proto = 6) -> int64_t {
    const auto* p = t->outbound(ip(src), ip(dst), proto);
    if (!p) return -1;
    return p->sa ? p->sa->spi : 0;
  };
  CHECK(spi_for("192.168.1.10", "10.9.9.9") == 1);
  CHECK(spi_for("192.168.1.10", "10.2.9.9") == 2);
  CHECK(spi_for("192.168.1.200", "10.2.3.9") == 3);
  CHECK(spi_for("192.168.1.10", "10.2.3.9") == 2);  // the /24's source selector does not match
  CHECK(spi_for("192.168.1.10", "10.2.3.4", 17) == 0);  // covered, but its SA is missing: drop
  CHECK(spi_for("192.168.1.10", "10.2.3.4", 6) == 2);
  CHECK(spi_for("192.168.2.10", "10.2.3.9") == -1);
  CHECK(spi_for("192.168.1.10", "11.0.0.1") == -1);
}

TEST_CASE("Inbound policies decide which plaintext must have been protected") {
  config::IpsecState state;
  std::string error;
  REQUIRE(state.apply(policy("in", "10.2.0.0/16", "192.168.1.0/24", 0) + policy("fwd", "10.2.0.0/16", "192.168.1.0/24", 0) +
                          policy("in", "10.3.3.0/24", "192.168.1.7/32", 0, 17),
                      error));
  SaRegistry registry(1);
  std::vector<std::string> errors;
  auto t = registry.build(state, errors);
  CHECK(t->must_be_protected(ip("10.2.5.5"), ip("192.168.1.9"), 6));
  CHECK_FALSE(t->must_be_protected(ip("10.2.5.5"), ip("192.168.2.9"), 6));
  CHECK(t->must_be_protected(ip("10.3.3.3"), ip("192.168.1.7"), 17));
  CHECK_FALSE(t->must_be_protected(ip("10.3.3.3"), ip("192.168.1.7"), 6));
  CHECK_FALSE(t->must_be_protected(ip("10.4.0.1"), ip("192.168.1.7"), 17));
}

TEST_CASE("An SA keeps its state across rebuilds; new keys make a new SA") {
  config::IpsecState state;
  std::string error;
  REQUIRE(state.apply(sa(7, "out", "192.168.1.0/24", "10.0.0.0/8") + sa(8, "in", "192.168.1.0/24", "10.0.0.0/8"), error));
  SaRegistry registry(2);
  std::vector<std::string> errors;
  auto first = registry.build(state, errors);
  uint64_t seq = 0;
  REQUIRE(first->sas()[0]->esp->reserve(10, seq));
  // A rekey adds SAs beside the old ones: the old outbound SA goes on counting where it was.
  REQUIRE(state.apply(sa(9, "out", "192.168.1.0/24", "10.0.0.0/8") + sa(10, "in", "192.168.1.0/24", "10.0.0.0/8"), error));
  auto second = registry.build(state, errors);
  REQUIRE(second->sas().size() == 4);
  const dataplane::SaRuntime* old = nullptr;
  for (const auto& s : second->sas()) {
    if (s->spi == 7) old = s.get();
  }
  REQUIRE(old);
  CHECK(old->esp == first->sas()[0]->esp);
  REQUIRE(old->esp->reserve(1, seq));
  CHECK(seq == 11);
  CHECK(second->inbound_sa(10));
  CHECK(second->inbound_sa(8));
  CHECK_FALSE(second->inbound_sa(9));  // outbound
  // An unsupported algorithm is reported and left out (its policies then drop).
  REQUIRE(state.apply("sa-del spi=7 proto=50 dst=10.1.0.2\n", error));
  std::string bad = sa(11, "out", "192.168.1.0/24", "10.0.0.0/8");
  bad.replace(bad.find("enc=20"), 6, "enc=3");
  REQUIRE(state.apply(bad, error));
  errors.clear();
  auto third = registry.build(state, errors);
  CHECK(errors.size() == 1);
  CHECK(third->sas().size() == 3);
}
