// The low-level SHA interfaces are deprecated in OpenSSL 3 in favour of EVP, whose contexts
// cannot be copied without allocating; they remain supported and are what this needs.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/hmac.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace bulwark::crypto {

Hmac::Hmac(Hash hash, std::string_view key) : hash_(hash) {
  const size_t block = 64;  // both hashes
  std::array<uint8_t, 64> k{};
  if (key.size() > block) {
    if (hash == Hash::kSha1) {
      SHA1(reinterpret_cast<const uint8_t*>(key.data()), key.size(), k.data());
    } else {
      SHA256(reinterpret_cast<const uint8_t*>(key.data()), key.size(), k.data());
    }
  } else {
    std::memcpy(k.data(), key.data(), key.size());
  }
  std::array<uint8_t, 64> ipad, opad;
  for (size_t i = 0; i < block; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  if (hash == Hash::kSha1) {
    SHA1_Init(&inner_.sha1);
    SHA1_Update(&inner_.sha1, ipad.data(), block);
    SHA1_Init(&outer_.sha1);
    SHA1_Update(&outer_.sha1, opad.data(), block);
  } else {
    SHA256_Init(&inner_.sha256);
    SHA256_Update(&inner_.sha256, ipad.data(), block);
    SHA256_Init(&outer_.sha256);
    SHA256_Update(&outer_.sha256, opad.data(), block);
  }
  std::fill(k.begin(), k.end(), 0);
  std::fill(ipad.begin(), ipad.end(), 0);
  std::fill(opad.begin(), opad.end(), 0);
}

void Hmac::compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* out,
                   size_t out_len) const {
  uint8_t digest[32];
  if (hash_ == Hash::kSha1) {
    SHA_CTX c = inner_.sha1;
    SHA1_Update(&c, a, a_len);
    if (b_len) SHA1_Update(&c, b, b_len);
    SHA1_Final(digest, &c);
    c = outer_.sha1;
    SHA1_Update(&c, digest, 20);
    SHA1_Final(digest, &c);
  } else {
    SHA256_CTX c = inner_.sha256;
    SHA256_Update(&c, a, a_len);
    if (b_len) SHA256_Update(&c, b, b_len);
    SHA256_Final(digest, &c);
    c = outer_.sha256;
    SHA256_Update(&c, digest, 32);
    SHA256_Final(digest, &c);
  }
  std::memcpy(out, digest, std::min(out_len, digest_length(hash_)));
}

}  // namespace bulwark::crypto
