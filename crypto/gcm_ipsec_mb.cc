#include "crypto/gcm_ipsec_mb.h"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <mutex>

namespace bulwark::crypto {
namespace {

// One manager per worker index, created when the first SA needs it and kept for the life of the
// process (a manager holds only dispatch tables and scratch state; workers never allocate one).
// Written under the mutex before any SA that uses it is published to the workers (the
// publication orders the write before their reads); read without a lock, from a table every SA
// shares instead of a per-SA copy that would be one more cache miss per packet of a cold SA.
constexpr unsigned kMaxWorkers = 128;
IMB_MGR* managers[kMaxWorkers] = {};

IMB_MGR* manager(unsigned worker) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (worker >= kMaxWorkers) return nullptr;  // OpenSSL then
  if (!managers[worker]) {
    IMB_MGR* m = alloc_mb_mgr(0);
    if (!m) return nullptr;
    IMB_ARCH arch;
    init_mb_mgr_auto(m, &arch);
    if (arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
      free_mb_mgr(m);
      return nullptr;  // no AES-NI: OpenSSL is as good
    }
    managers[worker] = m;
  }
  return managers[worker];
}

}  // namespace

// Everything a call reads besides the packet and the manager, in one block (block()), which
// EspSa::prefetch brings whole.
struct ImbGcm::State {
  size_t key_length = 16;
  alignas(64) gcm_key_data key;
};

ImbGcm::ImbGcm(std::unique_ptr<State> state) : state_(std::move(state)) {}

ImbGcm::~ImbGcm() { OPENSSL_cleanse(&state_->key, sizeof state_->key); }

std::unique_ptr<ImbGcm> ImbGcm::create(const uint8_t* key, size_t key_length, unsigned workers) {
  if (workers == 0 || (key_length != 16 && key_length != 24 && key_length != 32)) return nullptr;
  auto state = std::make_unique<State>();
  state->key_length = key_length;
  for (unsigned w = 0; w < workers; ++w) {
    if (!manager(w)) return nullptr;
  }
  IMB_MGR* m = managers[0];
  if (key_length == 16) IMB_AES128_GCM_PRE(m, key, &state->key);
  if (key_length == 24) IMB_AES192_GCM_PRE(m, key, &state->key);
  if (key_length == 32) IMB_AES256_GCM_PRE(m, key, &state->key);
  return std::unique_ptr<ImbGcm>(new ImbGcm(std::move(state)));
}

const void* ImbGcm::block() const { return state_.get(); }

size_t ImbGcm::block_size() const { return sizeof(State); }

void ImbGcm::encrypt(unsigned worker, const uint8_t* iv, const uint8_t* aad, size_t aad_length, uint8_t* data,
                     size_t length, uint8_t* tag) const {
  IMB_MGR* m = managers[worker];
  gcm_context_data ctx;
  switch (state_->key_length) {
    case 16: IMB_AES128_GCM_ENC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, tag, 16); break;
    case 24: IMB_AES192_GCM_ENC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, tag, 16); break;
    default: IMB_AES256_GCM_ENC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, tag, 16); break;
  }
}

bool ImbGcm::decrypt(unsigned worker, const uint8_t* iv, const uint8_t* aad, size_t aad_length, uint8_t* data,
                     size_t length, const uint8_t* tag) const {
  IMB_MGR* m = managers[worker];
  gcm_context_data ctx;
  uint8_t computed[16];
  switch (state_->key_length) {
    case 16: IMB_AES128_GCM_DEC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, computed, 16); break;
    case 24: IMB_AES192_GCM_DEC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, computed, 16); break;
    default: IMB_AES256_GCM_DEC(m, &state_->key, &ctx, data, data, length, iv, aad, aad_length, computed, 16); break;
  }
  return CRYPTO_memcmp(computed, tag, 16) == 0;
}

}  // namespace bulwark::crypto
