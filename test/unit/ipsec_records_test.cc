// The SA and policy records bulwark-iked hands to the dataplane: wire form, the dataplane's
// state, and refusal of malformed updates.
#include <catch2/catch.hpp>

#include "config/ipsec_records.h"

using namespace bulwark::config;

namespace {

IpsecSa sample_sa() {
  IpsecSa s;
  s.spi = 0xc1234567;
  s.inbound = true;
  s.src = *Ipv4Address::parse("10.1.0.102");
  s.dst = *Ipv4Address::parse("10.1.0.101");
  s.encap = true;
  s.src_port = 4500;
  s.dst_port = 4500;
  s.reqid = 7;
  s.enc_alg = 20;
  s.enc_name = "AES_GCM_16";
  s.enc_key = std::string("\x00\x01\x02\xff\x10 key material", 19);
  s.replay_window = 64;
  s.hard_seconds = 3600;
  s.local_ts = {*Ipv4Prefix::parse("192.168.1.0/24")};
  s.remote_ts = {*Ipv4Prefix::parse("192.168.2.0/24"), *Ipv4Prefix::parse("192.168.3.0/24")};
  return s;
}

}  // namespace

TEST_CASE("SAs and policies reach the dataplane's state and are listed without keys", "[ipsec]") {
  IpsecState state;
  std::string error;
  IpsecSa sa = sample_sa();
  IpsecPolicy policy;
  policy.direction = IpsecPolicy::Direction::kOut;
  policy.src = *Ipv4Prefix::parse("192.168.1.0/24");
  policy.dst = *Ipv4Prefix::parse("192.168.2.0/24");
  policy.reqid = 7;
  policy.references = 2;
  REQUIRE(state.apply(encode_sa(sa) + encode_policy(policy), error));
  CHECK(state.sa_count() == 1);
  CHECK(state.policy_count() == 1);
  std::string json = state.list(true);
  CHECK(json.find("\"spi\": 3240314215") != std::string::npos);
  CHECK(json.find("\"enc_key_sha256\": \"" + key_fingerprint(sa.enc_key) + "\"") != std::string::npos);
  CHECK(json.find("key material") == std::string::npos);
  CHECK(json.find("\"remote_ts\": \"192.168.2.0/24,192.168.3.0/24\"") != std::string::npos);
  CHECK(json.find("\"src_port\": 4500") != std::string::npos);

  // Policies are reference counted: refs 0 removes; an SA goes by SPI, destination and protocol.
  policy.references = 0;
  REQUIRE(state.apply(encode_policy(policy) + encode_sa_delete(sa.spi, 50, sa.dst), error));
  CHECK(state.sa_count() == 0);
  CHECK(state.policy_count() == 0);
}

TEST_CASE("a flush replaces the whole state", "[ipsec]") {
  IpsecState state;
  std::string error;
  IpsecSa a = sample_sa(), b = sample_sa();
  b.spi = 42;
  REQUIRE(state.apply(encode_sa(a), error));
  REQUIRE(state.apply("flush\n" + encode_sa(b), error));
  CHECK(state.sa_count() == 1);
  CHECK(state.list(false).find("SA 0000002a") != std::string::npos);
}

TEST_CASE("malformed updates are refused with the line number", "[ipsec]") {
  IpsecState state;
  std::string error;
  CHECK_FALSE(state.apply("sa spi=notanumber proto=50 dst=10.0.0.1\n", error));
  CHECK(error.find("line 1") != std::string::npos);
  CHECK_FALSE(state.apply("\nsa-del spi=1 proto=50 dst=999.0.0.1\n", error));
  CHECK(error.find("line 2") != std::string::npos);
  CHECK_FALSE(state.apply("teleport everything\n", error));
  CHECK_FALSE(state.apply(encode_sa(sample_sa()).replace(0, 2, "sa") + "policy dir=up src=1.2.3.0/24\n", error));
  std::string odd_key = encode_sa(sample_sa());
  odd_key.replace(odd_key.find("enc_key=") + 8, 1, "");  // an odd number of hex digits
  CHECK_FALSE(state.apply(odd_key, error));
}

TEST_CASE("the dataplane's counters travel with its instance id", "[ipsec]") {
  IpsecUsageReport sent;
  sent.instance = 0x8000000000000001ull;
  IpsecSaUsage u;
  u.bytes = 1500;
  u.packets = 10;
  u.last_use = 1796000000;
  u.replayed = 2;
  sent.sas[{0xc1234567, Ipv4Address::parse("10.1.0.101")->value, 50}] = u;
  IpsecUsageReport received;
  REQUIRE(decode_usage(encode_usage(sent), received));
  CHECK(received.instance == sent.instance);
  REQUIRE(received.sas.size() == 1);
  CHECK(received.sas.begin()->second.packets == 10);
  CHECK(received.sas.begin()->second.replayed == 2);
  IpsecUsageReport ignored;
  CHECK_FALSE(decode_usage("usage spi=1 dst=10.1.0.101 proto=50 bytes=1 packets=1 last_use=0 replayed=0 "
                           "auth_failed=0 malformed=0\n",
                           ignored));  // no instance: counters of unknown origin
}
