// AES-GCM through Intel's multi-buffer crypto library (intel-ipsec-mb, Debian's libipsec-mb)
// where the build has it: its one-shot GCM functions run a small packet in a fraction of the
// cycles OpenSSL's EVP spends on call overhead alone (docs/performance.md, ESP). The expanded
// key is computed once per SA and only read afterwards, so all workers share it; every worker
// calls through a manager of its own. Built only when meson finds the library (x86-64); otherwise
// EspSa uses OpenSSL for GCM too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace bulwark::crypto {

class ImbGcm {
 public:
  // nullptr when the library is missing or refuses the key length (16, 24 or 32 bytes).
  static std::unique_ptr<ImbGcm> create(const uint8_t* key, size_t key_length, unsigned workers);
  ~ImbGcm();

  // In place; `iv` is the 12-byte nonce, the tag 16 bytes.
  void encrypt(unsigned worker, const uint8_t* iv, const uint8_t* aad, size_t aad_length, uint8_t* data,
               size_t length, uint8_t* tag) const;
  // In place; false when the tag does not match (constant-time comparison).
  bool decrypt(unsigned worker, const uint8_t* iv, const uint8_t* aad, size_t aad_length, uint8_t* data,
               size_t length, const uint8_t* tag) const;
  // The memory a call reads besides the packet and the worker's manager (the key length and the
  // expanded key, about 1 KiB with the AVX-512 powers of H), for the caller to prefetch: an SA
  // keeps its address beside its hot fields, so no dependent load stands before the prefetch.
  const void* block() const;
  size_t block_size() const;

 private:
  struct State;
  explicit ImbGcm(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace bulwark::crypto
