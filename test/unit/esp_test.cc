// ESP: known answers from an independent implementation (Python `cryptography`, the generator
// is quoted below), published HMAC vectors, round trips, the replay window's edges and malformed
// packets.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crypto/esp_sa.h"
#include "crypto/hmac.h"
#include "crypto/replay_window.h"

using namespace bulwark::crypto;

namespace {

std::vector<uint8_t> hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}
std::string bytes(std::vector<uint8_t> v) { return std::string(v.begin(), v.end()); }
std::string range(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// An ICMP echo request 192.168.1.1 → 192.168.2.1, the inner packet of every vector.
const std::vector<uint8_t> kInner = hex("4500001c000100004001f7cfc0a80101c0a802010800f7ff00000000");

// Generated with:
//   pad(p, b): p + bytes(1..k) + [k, 4], padded to a multiple of b
//   AESGCM(bytes(range(16))).encrypt(salt + iv, pad(inner, 4), spi||seq)   salt = cafebabe
//   CBC: AES(bytes(range(16,32))), iv = bytes(range(100,116)); HMAC over spi||seq||iv||ct
const char* kGcm = "12345678000000010000000000000001f70519854a7e51f4db1a36d286d7a83613c08341b1f7bf7afeb51ff476ef2b3f52aecf777a1b34a84a372be374531494";
const char* kGcmEsn = "12345678000000050000000100000005a5e92bf0cd2934649018379f5e22338ffb2eacee54175e257b1cc2084c687111ded3347a32bbf0780d2776a6f1d24faf";
const char* kCbcSha1 = "12345678000000076465666768696a6b6c6d6e6f7071727397bbcacdfe02b5644f01c232313f325f3306c640349924ad05101d3612b9bf91dadc17f1996c4a61bad915c3";
const char* kCbcSha256 = "12345678000000076465666768696a6b6c6d6e6f7071727397bbcacdfe02b5644f01c232313f325f3306c640349924ad05101d3612b9bf91c266b55dcd6fe38d89bdcd1dd77b829e";

SaSettings gcm(bool inbound, bool esn = false) {
  SaSettings s;
  s.spi = 0x12345678;
  s.inbound = inbound;
  s.enc_alg = kEncrAesGcm16;
  s.enc_key = range(0, 16) + bytes(hex("cafebabe"));
  s.esn = esn;
  s.replay_window = 64;
  return s;
}

SaSettings cbc(bool inbound, uint16_t integrity) {
  SaSettings s;
  s.spi = 0x12345678;
  s.inbound = inbound;
  s.enc_alg = kEncrAesCbc;
  s.enc_key = range(16, 32);
  s.int_alg = integrity;
  s.int_key = integrity == kAuthHmacSha1_96 ? range(32, 52) : range(64, 96);
  return s;
}

std::unique_ptr<EspSa> make(const SaSettings& s) {
  std::string error;
  auto sa = EspSa::create(s, 2, error);
  INFO(error);
  REQUIRE(sa);
  return sa;
}

std::vector<uint8_t> encrypt(EspSa& sa, const std::vector<uint8_t>& payload, uint64_t* seq_out = nullptr) {
  std::vector<uint8_t> buf(sa.header_length() + payload.size() + sa.trailer_max());
  std::copy(payload.begin(), payload.end(), buf.begin() + sa.header_length());
  uint64_t seq = 0;
  REQUIRE(sa.reserve(1, seq));
  if (seq_out) *seq_out = seq;
  uint32_t n = sa.encrypt(1, seq, 4, buf.data() + sa.header_length(), static_cast<uint32_t>(payload.size()), 99);
  REQUIRE(n == sa.esp_length(static_cast<uint32_t>(payload.size())));
  buf.resize(n);
  return buf;
}

std::vector<uint8_t> decrypt_ok(EspSa& sa, std::vector<uint8_t> packet) {
  auto d = sa.decrypt(0, packet.data(), static_cast<uint32_t>(packet.size()), 7);
  REQUIRE(d.status == DecryptStatus::kOk);
  CHECK(d.next_header == 4);
  return {packet.begin() + d.offset, packet.begin() + d.offset + d.length};
}

}  // namespace

TEST_CASE("HMAC with published vectors (RFC 2202, RFC 4231)") {
  uint8_t out[32];
  const std::string hi = "Hi There";
  Hmac(Hmac::Hash::kSha1, std::string(20, '\x0b')).compute(reinterpret_cast<const uint8_t*>(hi.data()), hi.size(), nullptr, 0, out, 20);
  CHECK(std::vector<uint8_t>(out, out + 20) == hex("b617318655057264e28bc0b6fb378c8ef146be00"));
  const std::string what = "what do ya want for nothing?";
  // Split in two ranges: the MAC is of the concatenation.
  Hmac(Hmac::Hash::kSha1, "Jefe").compute(reinterpret_cast<const uint8_t*>(what.data()), 10,
                                           reinterpret_cast<const uint8_t*>(what.data()) + 10, what.size() - 10, out, 20);
  CHECK(std::vector<uint8_t>(out, out + 20) == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
  Hmac(Hmac::Hash::kSha256, "Jefe").compute(reinterpret_cast<const uint8_t*>(what.data()), what.size(), nullptr, 0, out, 32);
  CHECK(std::vector<uint8_t>(out, out + 32) == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  // RFC 4231 test case 6: a key longer than the block is hashed first.
  const std::string big = "Test Using Larger Than Block-Size Key - Hash Key First";
  Hmac(Hmac::Hash::kSha256, std::string(131, '\xaa')).compute(reinterpret_cast<const uint8_t*>(big.data()), big.size(), nullptr, 0, out, 32);
  CHECK(std::vector<uint8_t>(out, out + 32) == hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
}

TEST_CASE("AES-GCM ESP matches the independent implementation byte for byte, with either engine") {
  for (auto engine : {SaSettings::Engine::kFastest, SaSettings::Engine::kOpenSsl}) {
    SaSettings o = gcm(false), i = gcm(true);
    o.engine = i.engine = engine;
    auto out = make(o);
    CHECK(encrypt(*out, kInner) == hex(kGcm));
    auto in = make(i);
    auto bad = hex(kGcm);
    bad[20] ^= 0x80;
    CHECK(in->decrypt(0, bad.data(), static_cast<uint32_t>(bad.size()), 0).status == DecryptStatus::kBadIcv);
    CHECK(decrypt_ok(*in, hex(kGcm)) == kInner);
    CHECK(in->totals().packets == 1);
    CHECK(in->totals().bytes == kInner.size());
  }
}

TEST_CASE("The two AES-GCM engines interoperate at every size and key length") {
  for (bool big : {false, true}) {
    SaSettings fast_out = gcm(false), slow_in = gcm(true), slow_out = gcm(false), fast_in = gcm(true);
    for (SaSettings* s : {&fast_out, &slow_in, &slow_out, &fast_in}) {
      if (big) s->enc_key = range(0, 32) + "salt";
    }
    slow_in.engine = slow_out.engine = SaSettings::Engine::kOpenSsl;
    auto a = make(fast_out), b = make(slow_in), c = make(slow_out), d = make(fast_in);
    for (size_t len : {0, 1, 3, 4, 15, 16, 17, 100, 1400}) {
      std::vector<uint8_t> payload(len, static_cast<uint8_t>(len));
      CHECK(decrypt_ok(*b, encrypt(*a, payload)) == payload);
      CHECK(decrypt_ok(*d, encrypt(*c, payload)) == payload);
    }
  }
}

TEST_CASE("AES-GCM with extended sequence numbers authenticates the high half") {
  auto in = make(gcm(true, true));
  auto out = make(gcm(false, true));
  uint64_t first = 0;
  REQUIRE(out->reserve(uint32_t{0xffffffef}, first));  // the next is 0xfffffff0
  uint64_t seq = 0;
  auto before_wrap = encrypt(*out, kInner, &seq);
  CHECK(seq == 0xfffffff0);
  REQUIRE(out->reserve(0x13, first));
  auto after_wrap = encrypt(*out, kInner, &seq);
  CHECK(seq == (uint64_t{1} << 32) + 4);
  CHECK(decrypt_ok(*in, before_wrap) == kInner);
  // Case A: low half 5 lies below the window's bottom, so it is 2^32 + 5 (independent vector).
  CHECK(decrypt_ok(*in, hex(kGcmEsn)) == kInner);
  CHECK(in->replay_window().top() == (uint64_t{1} << 32) + 5);
  // Case B: 2^32 + 4, just below the new top, still in the window.
  CHECK(decrypt_ok(*in, after_wrap) == kInner);
  CHECK(in->decrypt(0, after_wrap.data(), static_cast<uint32_t>(after_wrap.size()), 0).status == DecryptStatus::kReplayed);
  // Without ESN the same bytes fail authentication: the AAD differs.
  auto plain = make(gcm(true, false));
  auto v = hex(kGcmEsn);
  CHECK(plain->decrypt(0, v.data(), static_cast<uint32_t>(v.size()), 0).status == DecryptStatus::kBadIcv);
  CHECK(plain->totals().auth_failed == 1);
}

TEST_CASE("AES-CBC with HMAC-SHA1-96 and HMAC-SHA-256-128 decrypt the independent vectors") {
  auto sha1 = make(cbc(true, kAuthHmacSha1_96));
  CHECK(decrypt_ok(*sha1, hex(kCbcSha1)) == kInner);
  auto sha256 = make(cbc(true, kAuthHmacSha256_128));
  CHECK(decrypt_ok(*sha256, hex(kCbcSha256)) == kInner);
}

TEST_CASE("Round trips of every algorithm and payload size") {
  for (auto [out_settings, in_settings] : {std::pair{gcm(false), gcm(true)},
                                           std::pair{gcm(false, true), gcm(true, true)},
                                           std::pair{cbc(false, kAuthHmacSha1_96), cbc(true, kAuthHmacSha1_96)},
                                           std::pair{cbc(false, kAuthHmacSha256_128), cbc(true, kAuthHmacSha256_128)}}) {
    for (bool big : {false, true}) {
      out_settings.enc_key = in_settings.enc_key = big ? range(0, 32) + (out_settings.enc_alg == kEncrAesGcm16 ? "salt" : "") : out_settings.enc_key;
      auto out = make(out_settings);
      auto in = make(in_settings);
      for (size_t len : {0, 1, 13, 14, 15, 16, 17, 64, 1400}) {
        std::vector<uint8_t> payload(len);
        for (size_t i = 0; i < len; ++i) payload[i] = static_cast<uint8_t>(i * 7);
        CHECK(decrypt_ok(*in, encrypt(*out, payload)) == payload);
      }
    }
  }
}

TEST_CASE("CBC IVs are never repeated") {
  auto out = make(cbc(false, kAuthHmacSha256_128));
  auto a = encrypt(*out, kInner);
  auto b = encrypt(*out, kInner);
  CHECK(std::vector<uint8_t>(a.begin() + 8, a.begin() + 24) != std::vector<uint8_t>(b.begin() + 8, b.begin() + 24));
}

TEST_CASE("Malformed ESP is refused and counted, never decrypted") {
  auto in = make(gcm(true));
  auto good = hex(kGcm);
  SECTION("short") {
    auto d = in->decrypt(0, good.data(), 20, 0);
    CHECK(d.status == DecryptStatus::kTruncated);
    CHECK(in->totals().malformed == 1);
  }
  SECTION("bad ICV") {
    auto bad = good;
    bad.back() ^= 1;
    CHECK(in->decrypt(0, bad.data(), static_cast<uint32_t>(bad.size()), 0).status == DecryptStatus::kBadIcv);
    CHECK(in->totals().auth_failed == 1);
    // A forged packet does not move the window: the genuine one still passes.
    CHECK(decrypt_ok(*in, good) == kInner);
  }
  SECTION("sequence number zero") {
    auto zero = good;
    zero[7] = 0;
    CHECK(in->decrypt(0, zero.data(), static_cast<uint32_t>(zero.size()), 0).status == DecryptStatus::kInvalidSequence);
  }
  SECTION("CBC ciphertext that is not whole blocks") {
    auto cbc_in = make(cbc(true, kAuthHmacSha1_96));
    auto v = hex(kCbcSha1);
    v.erase(v.begin() + 30);
    CHECK(cbc_in->decrypt(0, v.data(), static_cast<uint32_t>(v.size()), 0).status == DecryptStatus::kBadLength);
  }
}

TEST_CASE("Bad padding is refused after authentication and does not move the window") {
  // Authentic packets (made with the keys by the generator) whose trailer lies: padding bytes
  // 9, 9 instead of 1, 2; and a pad length of 200 in a 32-byte plaintext.
  auto in = make(gcm(true));
  for (const char* v : {"12345678000000020000000000000002eca9b9610cd82114834f2ee3b4d6a803ab0ab2a582593158d69d1ddb8ca0e99b7f053ca64ce8d1da85c27349103246fb",
                        "12345678000000030000000000000003a6cbc16232273b6b4f59210e6fd374b40a7f4ab0939d448e8ee26030acfcb8ab343bcf010d77c55af9ae601bcbd4a424"}) {
    auto p = hex(v);
    CHECK(in->decrypt(0, p.data(), static_cast<uint32_t>(p.size()), 0).status == DecryptStatus::kBadPadding);
  }
  CHECK(in->totals().malformed == 2);
  CHECK(in->replay_window().top() == 0);
}

TEST_CASE("Replay window: duplicates, order, the edge and far jumps") {
  ReplayWindow w(64);
  CHECK(w.check(0) == ReplayWindow::Verdict::kInvalid);
  CHECK(w.check(1) == ReplayWindow::Verdict::kNew);
  w.accept(1);
  CHECK(w.check(1) == ReplayWindow::Verdict::kReplayed);
  w.accept(100);
  CHECK(w.check(37) == ReplayWindow::Verdict::kNew);   // 100 - 63: the bottom edge, inside
  CHECK(w.check(36) == ReplayWindow::Verdict::kTooOld);  // just outside
  w.accept(37);
  CHECK(w.check(37) == ReplayWindow::Verdict::kReplayed);
  CHECK(w.check(99) == ReplayWindow::Verdict::kNew);
  w.accept(100 + 64 * 10);  // a jump far beyond the window clears it
  CHECK(w.check(100 + 64 * 10 - 1) == ReplayWindow::Verdict::kNew);
  CHECK(w.check(100 + 64 * 10) == ReplayWindow::Verdict::kReplayed);
  // Advancing by less than the ring clears exactly the slots that leave the window.
  ReplayWindow r(64);
  for (uint64_t s = 1; s <= 64; ++s) r.accept(s);
  r.accept(70);
  for (uint64_t s = 7; s <= 64; ++s) CHECK(r.check(s) == ReplayWindow::Verdict::kReplayed);
  for (uint64_t s = 65; s < 70; ++s) CHECK(r.check(s) == ReplayWindow::Verdict::kNew);
  CHECK(r.check(6) == ReplayWindow::Verdict::kTooOld);
}

TEST_CASE("Two workers decrypting one SA accept every sequence number exactly once") {
  // The fragments of ESP in UDP can reach another worker than the SA's whole packets: both then
  // check and move the window. Every packet is offered to both workers at once; each sequence
  // number must be accepted by exactly one of them (a lost update of the window would let the
  // other accept it too, i.e. a replay through).
  auto out = make(gcm(false));
  SaSettings settings = gcm(true);
  settings.replay_window = 4096;
  auto in = make(settings);
  constexpr int kPackets = 20000;
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < kPackets; ++i) packets.push_back(encrypt(*out, kInner));
  std::atomic<int> accepted{0}, refused{0}, ready{0};
  auto worker = [&](unsigned w) {
    std::vector<std::vector<uint8_t>> mine = packets;  // decrypted in place: a copy per worker
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    for (auto& p : mine) {
      const auto d = in->decrypt(w, p.data(), static_cast<uint32_t>(p.size()), 0);
      (d.status == DecryptStatus::kOk ? accepted : refused).fetch_add(1);
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  CHECK(accepted.load() == kPackets);
  CHECK(refused.load() == kPackets);
  CHECK(in->totals().replayed == static_cast<uint64_t>(kPackets));
}

TEST_CASE("Replay window: sizes that are not multiples of 64, and off") {
  ReplayWindow w(100);
  w.accept(1000);
  CHECK(w.check(901) == ReplayWindow::Verdict::kNew);
  CHECK(w.check(900) == ReplayWindow::Verdict::kTooOld);
  ReplayWindow off(0);
  off.accept(5);
  CHECK(off.check(5) == ReplayWindow::Verdict::kNew);
}

TEST_CASE("Replay window with ESN infers the high half across the 2^32 wrap (RFC 4303 A2)") {
  ReplayWindow w(64, true);
  w.accept(0xfffffff0);
  CHECK(w.infer(0xfffffff5) == 0xfffffff5);      // case A, same block
  CHECK(w.infer(3) == (uint64_t{1} << 32) + 3);  // case A, past the wrap
  w.accept((uint64_t{1} << 32) + 3);
  CHECK(w.infer(0xfffffff8) == 0xfffffff8);      // case B, from before the wrap
  CHECK(w.check(w.infer(0xfffffff8)) == ReplayWindow::Verdict::kNew);
  CHECK(w.infer(10) == (uint64_t{1} << 32) + 10);
}

TEST_CASE("Sequence numbers run out without ESN") {
  auto out = make(gcm(false));
  uint64_t first = 0;
  CHECK(out->reserve(uint32_t{0xfffffffe}, first));
  CHECK(out->reserve(1, first));
  CHECK(first == 0xffffffff);
  CHECK_FALSE(out->reserve(1, first));
}

TEST_CASE("Unsupported algorithms and wrong key lengths are refused with a reason") {
  std::string error;
  SaSettings s = gcm(false);
  s.enc_alg = 3;  // 3DES
  CHECK_FALSE(EspSa::create(s, 1, error));
  CHECK(error.find("not supported") != std::string::npos);
  s = cbc(false, kAuthHmacSha1_96);
  s.int_key = "short";
  CHECK_FALSE(EspSa::create(s, 1, error));
  s = gcm(false);
  s.enc_key = range(0, 10);
  CHECK_FALSE(EspSa::create(s, 1, error));
}
