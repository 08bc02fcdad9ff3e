#include "crypto/esp_sa.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

namespace bulwark::crypto {
namespace {

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

const EVP_CIPHER* gcm_cipher(size_t key) {
  return key == 16 ? EVP_aes_128_gcm() : key == 24 ? EVP_aes_192_gcm() : key == 32 ? EVP_aes_256_gcm() : nullptr;
}
const EVP_CIPHER* cbc_cipher(size_t key) {
  return key == 16 ? EVP_aes_128_cbc() : key == 24 ? EVP_aes_192_cbc() : key == 32 ? EVP_aes_256_cbc() : nullptr;
}

EVP_CIPHER_CTX* make_context(const EVP_CIPHER* cipher, const uint8_t* key, bool encrypt, bool gcm) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return nullptr;
  bool ok = EVP_CipherInit_ex(ctx, cipher, nullptr, nullptr, nullptr, encrypt) == 1;
  if (ok && gcm) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1;
  if (ok) ok = EVP_CipherInit_ex(ctx, nullptr, nullptr, key, nullptr, encrypt) == 1;
  if (ok) ok = EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
  if (!ok) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

DecryptStatus status_of(ReplayWindow::Verdict v) {
  switch (v) {
    case ReplayWindow::Verdict::kNew: return DecryptStatus::kOk;
    case ReplayWindow::Verdict::kReplayed: return DecryptStatus::kReplayed;
    case ReplayWindow::Verdict::kTooOld: return DecryptStatus::kTooOld;
    case ReplayWindow::Verdict::kInvalid: break;
  }
  return DecryptStatus::kInvalidSequence;
}

}  // namespace

// A test-and-test-and-set spin lock: the critical sections are a few loads and stores.
class EspSa::WindowGuard {
 public:
  explicit WindowGuard(EspSa& sa) : lock_(sa.shared_window_ ? &sa.window_lock_ : nullptr) {
    if (!lock_) return;
    while (lock_->exchange(true, std::memory_order_acquire)) {
      while (lock_->load(std::memory_order_relaxed)) cpu_relax();
    }
  }
  ~WindowGuard() {
    if (lock_) lock_->store(false, std::memory_order_release);
  }
  WindowGuard(const WindowGuard&) = delete;
  WindowGuard& operator=(const WindowGuard&) = delete;

 private:
  std::atomic<bool>* lock_;
};

EspSa::EspSa(const SaSettings& settings)
    : settings_(settings), window_(settings.replay_window, settings.esn) {}

EspSa::~EspSa() {
  for (auto* c : cipher_) EVP_CIPHER_CTX_free(c);
  for (auto* c : iv_cipher_) EVP_CIPHER_CTX_free(c);
}

std::unique_ptr<EspSa> EspSa::create(const SaSettings& settings, unsigned workers, std::string& error) {
  std::unique_ptr<EspSa> sa(new EspSa(settings));
  sa->shared_window_ = settings.inbound && workers > 1;
  const auto* key = reinterpret_cast<const uint8_t*>(settings.enc_key.data());
  const EVP_CIPHER* cipher = nullptr;
  uint8_t iv_key[32];
  if (settings.enc_alg == kEncrAesGcm16) {
    if (settings.enc_key.size() < 4) {
      error = "AES-GCM key shorter than its salt";
      return nullptr;
    }
    cipher = gcm_cipher(settings.enc_key.size() - 4);
    std::memcpy(sa->salt_, key + settings.enc_key.size() - 4, 4);
    sa->gcm_ = true;
    sa->iv_length_ = 8;
    sa->icv_length_ = 16;
    sa->block_ = 4;
    if (!settings.int_key.empty()) {
      error = "AES-GCM is combined mode: no separate integrity key";
      return nullptr;
    }
  } else if (settings.enc_alg == kEncrAesCbc) {
    cipher = cbc_cipher(settings.enc_key.size());
    sa->iv_length_ = 16;
    sa->block_ = 16;
    if (settings.int_alg == kAuthHmacSha1_96 && settings.int_key.size() == 20) {
      sa->hmac_ = Hmac(Hmac::Hash::kSha1, settings.int_key);
      sa->icv_length_ = 12;
    } else if (settings.int_alg == kAuthHmacSha256_128 && settings.int_key.size() == 32) {
      sa->hmac_ = Hmac(Hmac::Hash::kSha256, settings.int_key);
      sa->icv_length_ = 16;
    } else {
      error = "AES-CBC needs HMAC-SHA1-96 (20-byte key) or HMAC-SHA-256-128 (32-byte key)";
      return nullptr;
    }
    if (!settings.inbound && RAND_bytes(iv_key, sizeof iv_key) != 1) {
      error = "no random bytes for the IV key";
      return nullptr;
    }
  } else {
    error = "encryption algorithm " + std::to_string(settings.enc_alg) +
            " is not supported (AES-GCM-16 and AES-CBC are)";
    return nullptr;
  }
  if (!cipher) {
    error = "key length " + std::to_string(settings.enc_key.size()) + " does not fit the algorithm";
    return nullptr;
  }
#ifdef BULWARK_HAVE_IPSEC_MB
  if (sa->gcm_ && settings.engine == SaSettings::Engine::kFastest) {
    sa->imb_gcm_ = ImbGcm::create(key, settings.enc_key.size() - 4, workers);
    if (sa->imb_gcm_) {
      sa->imb_block_ = static_cast<const char*>(sa->imb_gcm_->block());
      sa->imb_block_size_ = static_cast<uint32_t>(sa->imb_gcm_->block_size());
    }
  }
#endif
  for (unsigned w = 0; w < workers && !sa->imb_gcm_; ++w) {
    EVP_CIPHER_CTX* ctx = make_context(cipher, key, !settings.inbound, sa->gcm_);
    if (!ctx) {
      error = "OpenSSL refused the cipher context";
      return nullptr;
    }
    sa->cipher_.push_back(ctx);
    if (!sa->gcm_ && !settings.inbound) {
      EVP_CIPHER_CTX* iv = make_context(EVP_aes_256_ecb(), iv_key, true, false);
      if (!iv) {
        error = "OpenSSL refused the IV cipher context";
        return nullptr;
      }
      sa->iv_cipher_.push_back(iv);
    }
  }
  OPENSSL_cleanse(iv_key, sizeof iv_key);
  sa->stats_ = std::vector<SaStats>(workers);
  return sa;
}

bool EspSa::reserve(uint32_t count, uint64_t& first) {
  first = next_sequence_.fetch_add(count, std::memory_order_relaxed);
  const uint64_t limit = settings_.esn ? ~uint64_t{0} : uint64_t{0xffffffff};
  return first + count - 1 <= limit && first + count > first;
}

uint32_t EspSa::aad(uint64_t seq, uint8_t* out) const {
  put32(out, settings_.spi);
  if (settings_.esn) {
    put32(out + 4, static_cast<uint32_t>(seq >> 32));
    put32(out + 8, static_cast<uint32_t>(seq));
    return 12;
  }
  put32(out + 4, static_cast<uint32_t>(seq));
  return 8;
}

uint32_t EspSa::encrypt(unsigned worker, uint64_t seq, uint8_t next_header, uint8_t* payload,
                        uint32_t len, uint64_t now) {
  uint8_t* esp = payload - header_length();
  put32(esp, settings_.spi);
  put32(esp + 4, static_cast<uint32_t>(seq));
  const uint32_t padded = (len + 2 + block_ - 1) & ~uint32_t{block_ - 1u};
  const uint32_t pad = padded - len - 2;
  for (uint32_t i = 0; i < pad; ++i) payload[len + i] = static_cast<uint8_t>(i + 1);  // RFC 4303 2.4
  payload[padded - 2] = static_cast<uint8_t>(pad);
  payload[padded - 1] = next_header;
  uint32_t n = gcm_ ? encrypt_gcm(worker, seq, esp, padded) : encrypt_cbc(worker, seq, esp, padded);
  if (n) count(worker, len, now);
  return n;
}

void EspSa::prefetch(unsigned worker) const {
  __builtin_prefetch(this);
  __builtin_prefetch(&settings_.esn);  // with the SPI, for the AAD
  __builtin_prefetch(&stats_[worker]);
  __builtin_prefetch(&next_sequence_);
  if (!imb_gcm_) return;
  __builtin_prefetch(imb_gcm_.get());
  for (uint32_t at = 0; at < imb_block_size_; at += 64) __builtin_prefetch(imb_block_ + at);
}

uint32_t EspSa::encrypt_gcm(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t padded) {
  uint8_t* iv = esp + 8;
  put32(iv, static_cast<uint32_t>(seq >> 32));
  put32(iv + 4, static_cast<uint32_t>(seq));
  uint8_t nonce[12];
  std::memcpy(nonce, salt_, 4);
  std::memcpy(nonce + 4, iv, 8);
  uint8_t a[12];
  uint32_t a_len = aad(seq, a);
  uint8_t* data = iv + 8;
  if (imb_gcm_) {
    imb_gcm_->encrypt(worker, nonce, a, a_len, data, padded, data + padded);
    return 16 + padded + 16;
  }
  EVP_CIPHER_CTX* ctx = cipher_[worker];
  int out = 0, last = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &out, a, static_cast<int>(a_len)) != 1 ||
      EVP_EncryptUpdate(ctx, data, &out, data, static_cast<int>(padded)) != 1 ||
      EVP_EncryptFinal_ex(ctx, data + out, &last) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, data + padded) != 1) {
    return 0;
  }
  return 16 + padded + 16;
}

uint32_t EspSa::encrypt_cbc(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t padded) {
  uint8_t* iv = esp + 8;
  uint8_t counter[16] = {};
  put32(counter + 8, static_cast<uint32_t>(seq >> 32));
  put32(counter + 12, static_cast<uint32_t>(seq));
  int out = 0;
  if (EVP_EncryptUpdate(iv_cipher_[worker], iv, &out, counter, 16) != 1) return 0;
  EVP_CIPHER_CTX* ctx = cipher_[worker];
  uint8_t* data = iv + 16;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1 ||
      EVP_EncryptUpdate(ctx, data, &out, data, static_cast<int>(padded)) != 1) {
    return 0;
  }
  uint8_t high[4];
  put32(high, static_cast<uint32_t>(seq >> 32));
  const uint32_t covered = 8 + 16 + padded;
  hmac_.compute(esp, covered, high, settings_.esn ? 4 : 0, esp + covered, icv_length_);
  return covered + icv_length_;
}

EspSa::Decrypted EspSa::decrypt(unsigned worker, uint8_t* esp, uint32_t len, uint64_t now) {
  Decrypted d;
  const uint32_t overhead = header_length() + icv_length_;
  if (len < overhead + 2) {
    d.status = DecryptStatus::kTruncated;
    fail(worker, d.status);
    return d;
  }
  const uint32_t ciphertext = len - overhead;
  if (ciphertext % block_ != 0) {
    d.status = DecryptStatus::kBadLength;
    fail(worker, d.status);
    return d;
  }
  uint64_t seq;
  {
    WindowGuard guard(*this);
    seq = window_.infer(get32(esp + 4));
    d.status = status_of(window_.check(seq));
  }
  if (d.status != DecryptStatus::kOk) {
    fail(worker, d.status);
    return d;
  }
  if (!(gcm_ ? decrypt_gcm(worker, seq, esp, ciphertext) : decrypt_cbc(worker, seq, esp, ciphertext))) {
    d.status = DecryptStatus::kBadIcv;
    fail(worker, d.status);
    return d;
  }
  const uint8_t* plain = esp + header_length();
  const uint8_t pad = plain[ciphertext - 2];
  if (pad > ciphertext - 2) {
    d.status = DecryptStatus::kBadPadding;
    fail(worker, d.status);
    return d;
  }
  const uint32_t length = ciphertext - 2 - pad;
  for (uint32_t i = 0; i < pad; ++i) {
    if (plain[length + i] != i + 1) {
      d.status = DecryptStatus::kBadPadding;
      fail(worker, d.status);
      return d;
    }
  }
  {
    WindowGuard guard(*this);
    // Shared: another worker may have taken this sequence number (or moved the window past it)
    // while this one decrypted.
    if (shared_window_) d.status = status_of(window_.check(seq));
    if (d.status == DecryptStatus::kOk) window_.accept(seq);
  }
  if (d.status != DecryptStatus::kOk) {
    fail(worker, d.status);
    return d;
  }
  d.offset = header_length();
  d.length = length;
  d.next_header = plain[ciphertext - 1];
  count(worker, length, now);
  return d;
}

bool EspSa::decrypt_gcm(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t ciphertext) {
  uint8_t nonce[12];
  std::memcpy(nonce, salt_, 4);
  std::memcpy(nonce + 4, esp + 8, 8);
  uint8_t a[12];
  uint32_t a_len = aad(seq, a);
  uint8_t* data = esp + 16;
  if (imb_gcm_) return imb_gcm_->decrypt(worker, nonce, a, a_len, data, ciphertext, data + ciphertext);
  EVP_CIPHER_CTX* ctx = cipher_[worker];
  int out = 0, last = 0;
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &out, a, static_cast<int>(a_len)) == 1 &&
         EVP_DecryptUpdate(ctx, data, &out, data, static_cast<int>(ciphertext)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, data + ciphertext) == 1 &&
         EVP_DecryptFinal_ex(ctx, data + out, &last) == 1;
}

bool EspSa::decrypt_cbc(unsigned worker, uint64_t seq, uint8_t* esp, uint32_t ciphertext) {
  const uint32_t covered = 8 + 16 + ciphertext;
  uint8_t high[4];
  put32(high, static_cast<uint32_t>(seq >> 32));
  uint8_t icv[32];
  hmac_.compute(esp, covered, high, settings_.esn ? 4 : 0, icv, icv_length_);
  if (CRYPTO_memcmp(icv, esp + covered, icv_length_) != 0) return false;
  EVP_CIPHER_CTX* ctx = cipher_[worker];
  uint8_t* data = esp + 24;
  int out = 0;
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, esp + 8) == 1 &&
         EVP_DecryptUpdate(ctx, data, &out, data, static_cast<int>(ciphertext)) == 1;
}

void EspSa::count(unsigned worker, uint32_t bytes, uint64_t now) {
  SaStats& s = stats_[worker];
  s.add(s.packets, 1);
  s.add(s.bytes, bytes);
  s.last_use.store(now, std::memory_order_relaxed);
}

void EspSa::fail(unsigned worker, DecryptStatus status) {
  SaStats& s = stats_[worker];
  switch (status) {
    case DecryptStatus::kReplayed:
    case DecryptStatus::kTooOld: s.add(s.replayed, 1); break;
    case DecryptStatus::kBadIcv: s.add(s.auth_failed, 1); break;
    default: s.add(s.malformed, 1); break;
  }
}

SaTotals EspSa::totals() const {
  SaTotals t;
  for (const auto& s : stats_) {
    t.packets += s.packets.load(std::memory_order_relaxed);
    t.bytes += s.bytes.load(std::memory_order_relaxed);
    t.last_use = std::max(t.last_use, s.last_use.load(std::memory_order_relaxed));
    t.replayed += s.replayed.load(std::memory_order_relaxed);
    t.auth_failed += s.auth_failed.load(std::memory_order_relaxed);
    t.malformed += s.malformed.load(std::memory_order_relaxed);
  }
  return t;
}

}  // namespace bulwark::crypto
