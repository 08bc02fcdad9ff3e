// The anti-replay window of an inbound SA (RFC 4303 section 3.4.3 and appendix A2).
//
// The window remembers which of the last `size` sequence numbers below the highest one seen
// (`top`) have arrived, in a ring of bits indexed by sequence number, so that moving the window
// forward clears only the slots that leave it. With extended sequence numbers the packet carries
// only the low 32 bits; `infer` reconstructs the high half from the window's position (A2.2).
//
// Checking and updating are split because the update may happen only after the ICV verified:
// a forged packet must not move the window.
#pragma once

#include <array>
#include <cstdint>

namespace bulwark::crypto {

class ReplayWindow {
 public:
  static constexpr uint32_t kMaxSize = 4096;

  // `size` 0 switches replay protection off (RFC 4303: the receiver may choose so).
  explicit ReplayWindow(uint32_t size = 32, bool esn = false);

  // The full 64-bit sequence number of a packet carrying `low` (identity without ESN).
  uint64_t infer(uint32_t low) const;
  enum class Verdict : uint8_t { kNew, kReplayed, kTooOld, kInvalid };
  Verdict check(uint64_t seq) const;
  // Records `seq` as received (after `check` said kNew and the ICV verified).
  void accept(uint64_t seq);

  uint64_t top() const { return top_; }
  uint32_t size() const { return size_; }

 private:
  static constexpr uint32_t kWords = kMaxSize / 64;
  bool test(uint64_t seq) const { return bits_[slot(seq) / 64] >> (slot(seq) % 64) & 1; }
  uint32_t slot(uint64_t seq) const { return static_cast<uint32_t>(seq % (words_ * 64u)); }

  uint64_t top_ = 0;
  uint32_t size_;
  uint32_t words_;
  bool esn_;
  std::array<uint64_t, kWords> bits_{};
};

}  // namespace bulwark::crypto
