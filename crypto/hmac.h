// HMAC-SHA1 and HMAC-SHA-256 with the keyed inner and outer states computed once per SA
// (RFC 2104 section 4): a packet costs copying two small structs and hashing its bytes, with no
// allocation — OpenSSL's EVP_MAC would duplicate a context per packet.
#pragma once

#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulwark::crypto {

class Hmac {
 public:
  enum class Hash : uint8_t { kSha1, kSha256 };
  Hmac() = default;
  Hmac(Hash hash, std::string_view key);

  // The MAC of the concatenation of up to two byte ranges, truncated to `out_len` bytes.
  void compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* out,
               size_t out_len) const;
  static size_t digest_length(Hash hash) { return hash == Hash::kSha1 ? 20 : 32; }

 private:
  Hash hash_ = Hash::kSha256;
  union State {
    SHA_CTX sha1;
    SHA256_CTX sha256;
  };
  State inner_{}, outer_{};
};

}  // namespace bulwark::crypto
