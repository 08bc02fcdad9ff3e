// ESP (RFC 4303) for one security association: the cryptographic core, on plain byte buffers.
//
// Theory of operation. An outbound SA turns a payload (a whole inner IPv4 packet in tunnel mode,
// the transport header and data in transport mode) into the ESP packet body in place:
//
//   | SPI | seq | IV | payload | padding | pad length | next header | ICV |
//   ^ payload - header_length()                                          ^ + trailer
//
// An inbound SA checks the sequence number against its replay window, verifies the ICV, decrypts
// in place, checks the padding and only then moves the window. Algorithms (IKEv2 transform IDs,
// as charon negotiates them):
//   * AES-GCM with a 16-byte ICV (RFC 4106): key = AES key || 4-byte salt; nonce = salt || IV;
//     IV = the 64-bit sequence number (unique per key, as RFC 4106 section 3.1 requires);
//     AAD = SPI || sequence (low 32 bits, or high || low with ESN).
//   * AES-CBC (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or HMAC-SHA-256-128 (RFC 4868);
//     IV = AES under a random per-SA key of the sequence number (unpredictable, never reused);
//     ICV over SPI || seq || IV || ciphertext, with the high sequence half appended under ESN.
// Ciphers run on the calling core: AES-GCM through intel-ipsec-mb where the build has it (x86-64
// with AES-NI), everything else through OpenSSL's EVP (AES-NI/ARMv8 crypto extensions where the
// CPU has them, constant-time software otherwise). Each worker has its own cipher contexts; the
// outbound sequence counter is one atomic shared by all workers. The replay window is mostly
// written by one worker, the one that receives the SA's traffic (receive-side scaling hashes an
// SA's outer addresses to one queue) — but not always: the NIC hashes ESP in UDP by its ports
// too, its fragments by their addresses only, so the reassembled packets of an SA can reach
// another worker than its whole ones. With more than one worker the window is therefore checked
// and updated under a lock of the SA (never held during the cipher); with one, no lock.
#pragma once

#include <openssl/evp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crypto/gcm_ipsec_mb.h"
#include "crypto/hmac.h"
#include "crypto/replay_window.h"

namespace bulwark::crypto {

// IANA IKEv2 transform identifiers.
inline constexpr uint16_t kEncrAesCbc = 12;
inline constexpr uint16_t kEncrAesGcm16 = 20;
inline constexpr uint16_t kAuthHmacSha1_96 = 2;
inline constexpr uint16_t kAuthHmacSha256_128 = 12;

struct SaSettings {
  uint32_t spi = 0;
  bool inbound = false;
  uint16_t enc_alg = 0, int_alg = 0;
  std::string enc_key, int_key;  // raw bytes
  uint32_t replay_window = 32;
  bool esn = false;
  // kOpenSsl: AES-GCM through OpenSSL even where intel-ipsec-mb is built in (the engine of
  // machines without it; tests run both).
  enum class Engine : uint8_t { kFastest, kOpenSsl } engine = Engine::kFastest;
};

enum class DecryptStatus : uint8_t { kOk, kTruncated, kInvalidSequence, kReplayed, kTooOld, kBadIcv, kBadLength, kBadPadding };

// Per-worker figures of an SA; read from other threads with relaxed loads.
struct alignas(64) SaStats {
  std::atomic<uint64_t> packets{0}, bytes{0}, last_use{0};
  std::atomic<uint64_t> replayed{0}, auth_failed{0}, malformed{0};
  void add(std::atomic<uint64_t>& c, uint64_t n) { c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
};

struct SaTotals {
  uint64_t packets = 0, bytes = 0, last_use = 0, replayed = 0, auth_failed = 0, malformed = 0;
};

class EspSa {
 public:
  static std::unique_ptr<EspSa> create(const SaSettings& settings, unsigned workers, std::string& error);
  ~EspSa();
  EspSa(const EspSa&) = delete;
  EspSa& operator=(const EspSa&) = delete;

  uint32_t spi() const { return settings_.spi; }
  bool esn() const { return settings_.esn; }
  // Bytes before the payload: SPI, sequence number, IV.
  uint16_t header_length() const { return static_cast<uint16_t>(8 + iv_length_); }
  // The most bytes after the payload: padding, pad length, next header, ICV.
  uint16_t trailer_max() const { return static_cast<uint16_t>(block_ + 1 + icv_length_); }
  // The ESP length of a payload of `len` bytes.
  uint32_t esp_length(uint32_t len) const {
    const uint32_t padded = (len + 2 + block_ - 1) & ~uint32_t{block_ - 1u};
    return header_length() + padded + icv_length_;
  }

  // Outbound: reserves `count` sequence numbers; false when the SA is used up (2^32 - 1 without
  // ESN; it must be rekeyed before).
  bool reserve(uint32_t count, uint64_t& first);
  // Encrypts `len` bytes at `payload` in place, with header_length() bytes of room before and
  // trailer_max() after; returns the ESP length, which starts at payload - header_length().
  uint32_t encrypt(unsigned worker, uint64_t seq, uint8_t next_header, uint8_t* payload, uint32_t len,
                   uint64_t now);
  // Brings what encrypt() reads (the SA, the worker's counters, the expanded key) towards the
  // cache ahead of a burst's encryption: with many SAs their keys are not in the cache.
  void prefetch(unsigned worker) const;

  // Inbound: the ESP packet of `len` bytes at `esp`, decrypted in place.
  struct Decrypted {
    DecryptStatus status = DecryptStatus::kOk;
    uint32_t offset = 0;  // of the plaintext payload from `esp`
    uint32_t length = 0;
    uint8_t next_header = 0;
  };
  Decrypted decrypt(unsigned worker, uint8_t* esp, uint32_t len, uint64_t now);

  SaTotals totals() const;
  const ReplayWindow& replay_window() const { return window_; }

 private:
  explicit EspSa(const SaSettings& settings);
  void count(unsigned worker, uint32_t bytes, uint64_t now);
  void fail(unsigned worker, DecryptStatus status);
  uint32_t encrypt_gcm(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t padded);
  uint32_t encrypt_cbc(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t padded);
  bool decrypt_gcm(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t ciphertext);
  bool decrypt_cbc(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t ciphertext);
  uint32_t aad(uint64_t seq, uint8_t* out) const;
  // Holds window_lock_ for its lifetime when the window is shared between workers.
  class WindowGuard;

  // The first line holds what encryption reads before the settings, and the addresses that
  // prefetch() needs, so that prefetching a cold SA takes no dependent load once the dataplane
  // has prefetched this line with the policy.
  std::unique_ptr<ImbGcm> imb_gcm_;  // AES-GCM through intel-ipsec-mb, when built with it
  const char* imb_block_ = nullptr;  // imb_gcm_->block(), imb_block_size_ bytes
  uint32_t imb_block_size_ = 0;
  bool gcm_ = false;
  uint16_t iv_length_ = 0, icv_length_ = 0;
  uint16_t block_ = 4;  // padding alignment: a power of two
  uint8_t salt_[4] = {};
  std::vector<SaStats> stats_;
  SaSettings settings_;
  Hmac hmac_;
  std::vector<EVP_CIPHER_CTX*> cipher_;  // per worker (OpenSSL)
  std::vector<EVP_CIPHER_CTX*> iv_cipher_;  // per worker, CBC outbound: IV generation
  alignas(64) std::atomic<uint64_t> next_sequence_{1};
  bool shared_window_ = false;  // more than one worker may decrypt: lock the window
  alignas(64) std::atomic<bool> window_lock_{false};
  ReplayWindow window_;
};

}  // namespace bulwark::crypto
