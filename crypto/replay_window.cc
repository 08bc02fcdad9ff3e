#include "crypto/replay_window.h"

#include <algorithm>

namespace bulwark::crypto {

ReplayWindow::ReplayWindow(uint32_t size, bool esn)
    : size_(std::min(size, kMaxSize)), words_(std::max<uint32_t>(1, (size_ + 63) / 64)), esn_(esn) {}

uint64_t ReplayWindow::infer(uint32_t low) const {
  if (!esn_) return low;
  // RFC 4303 A2.2: the window spans [top - size + 1, top]; a low half below the window's
  // bottom belongs to the next 2^32 block, one above it in case B to the previous one.
  const uint32_t window = std::max<uint32_t>(size_, 1);
  const auto top_low = static_cast<uint32_t>(top_);
  uint32_t high = static_cast<uint32_t>(top_ >> 32);
  const uint32_t bottom = top_low - window + 1;  // modulo 2^32
  if (top_low >= window - 1) {
    if (low < bottom) ++high;  // case A: the packet is past a wrap of the low half
  } else if (low >= bottom && high > 0) {
    --high;  // case B: the packet is from before the wrap
  }
  return uint64_t{high} << 32 | low;
}

ReplayWindow::Verdict ReplayWindow::check(uint64_t seq) const {
  if (seq == 0) return Verdict::kInvalid;  // sequence numbers start at 1
  if (size_ == 0 || seq > top_) return Verdict::kNew;
  if (top_ - seq >= size_) return Verdict::kTooOld;
  return test(seq) ? Verdict::kReplayed : Verdict::kNew;
}

void ReplayWindow::accept(uint64_t seq) {
  if (size_ == 0) {
    top_ = std::max(top_, seq);
    return;
  }
  if (seq > top_) {
    const uint64_t advance = seq - top_;
    if (advance >= words_ * 64u) {
      bits_.fill(0);
    } else {
      for (uint64_t s = top_ + 1; s < seq; ++s) bits_[slot(s) / 64] &= ~(uint64_t{1} << (slot(s) % 64));
    }
    top_ = seq;
  }
  bits_[slot(seq) / 64] |= uint64_t{1} << (slot(seq) % 64);
}

}  // namespace bulwark::crypto
