#include "conntrack/conntrack.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <type_traits>
#include <bit>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "conntrack/tcp_state.h"

namespace bulwark::conntrack {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();
constexpr uint8_t kPendingLimit = 255;  // fold the per-entry counters at this many packets

size_t side(Direction d) {
  return d == Direction::kOriginal ? 0 : 1;
}

// The finaliser of MurmurHash3: every input bit affects every output bit.
uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// 0 marks a free slot.
uint16_t tag_of(uint64_t hash) {
  const auto t = static_cast<uint16_t>(hash);
  return t == 0 ? 1 : t;
}

FlowKey normalised(const FlowKey& key) {
  FlowKey k = key;
  k.pad = 0;
  return k;
}

}  // namespace

// A key as two words, for comparisons in two instructions. The reverse direction is derived in
// registers: building it as a FlowKey in memory and reloading it as words would stall on store
// forwarding (narrow stores, wide loads) on every lookup.
struct Table::KeyWords {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "word layout of FlowKey");
  static constexpr uint64_t kPadMask = 0x0000ffffffffffffULL;  // src_port … zone; pad zero
  uint64_t addresses;  // src | dst << 32
  uint64_t rest;       // src_port | dst_port << 16 | protocol << 32 | zone << 40

  explicit KeyWords(const FlowKey& k) {
    uint64_t w[2];
    std::memcpy(w, &k, sizeof w);
    addresses = w[0];
    rest = w[1] & kPadMask;
  }
  KeyWords(uint64_t a, uint64_t r) : addresses(a), rest(r) {}
  KeyWords reversed() const {
    const uint64_t ports = (rest & 0xffff) << 16 | (rest >> 16 & 0xffff);
    return {addresses >> 32 | addresses << 32, (rest & ~uint64_t{0xffffffff}) | ports};
  }
  bool operator==(const KeyWords&) const = default;
};

const char* state_name(State s) {
  switch (s) {
    case State::kSynSent:
      return "SYN_SENT";
    case State::kSynRecv:
      return "SYN_RECV";
    case State::kEstablished:
      return "ESTABLISHED";
    case State::kFinWait:
      return "FIN_WAIT";
    case State::kCloseWait:
      return "CLOSE_WAIT";
    case State::kLastAck:
      return "LAST_ACK";
    case State::kTimeWait:
      return "TIME_WAIT";
    case State::kClose:
      return "CLOSE";
    case State::kUnreplied:
      return "UNREPLIED";
    case State::kAssured:
      return "ASSURED";
    case State::kIcmpRequest:
      return "ICMP_REQUEST";
    case State::kIcmpReplied:
      return "ICMP_REPLIED";
    case State::kAlias:
      return "ALIAS";
  }
  return "?";
}

Timeouts Timeouts::from_config(const config::ConntrackTimeouts& t, uint64_t hz) {
  return {t.tcp_syn_sent * hz,  t.tcp_syn_recv * hz,   t.tcp_established * hz,
          t.tcp_fin_wait * hz,  t.tcp_close_wait * hz, t.tcp_last_ack * hz,
          t.tcp_time_wait * hz, t.tcp_close * hz,      t.udp_unreplied * hz,
          t.udp_assured * hz,   t.icmp * hz,           t.generic * hz};
}

uint64_t Timeouts::of(State s, uint8_t protocol) const {
  switch (s) {
    case State::kSynSent:
      return tcp_syn_sent;
    case State::kSynRecv:
      return tcp_syn_recv;
    case State::kEstablished:
      return tcp_established;
    case State::kFinWait:
      return tcp_fin_wait;
    case State::kCloseWait:
      return tcp_close_wait;
    case State::kLastAck:
      return tcp_last_ack;
    case State::kTimeWait:
      return tcp_time_wait;
    case State::kClose:
      return tcp_close;
    case State::kUnreplied:
      return protocol == config::kProtoUdp ? udp_unreplied : generic;
    case State::kAssured:
      return protocol == config::kProtoUdp ? udp_assured : generic;
    case State::kIcmpRequest:
    case State::kIcmpReplied:
      return icmp;
    case State::kAlias:
      return generic;
  }
  return generic;
}

bool is_protected(const Entry& e) {
  switch (e.state) {
    case State::kEstablished:
    case State::kFinWait:
    case State::kCloseWait:
    case State::kAssured:
    case State::kAlias:  // goes with its partner, never alone
      return true;
    default:
      return false;
  }
}

bool opens_connection(uint8_t protocol, const PacketInfo& p) {
  return protocol != config::kProtoTcp || tcp::is_opening(p);
}

Table::Table(uint32_t capacity, const Timeouts& timeouts, uint64_t seed)
    : slots_(std::max<uint32_t>(capacity, 1)),
      buckets_((slots_ + kBucket - 1) / kBucket),
      seed_(seed),
      timeouts_(timeouts) {
  entries_ = allocate<Entry>(slots_);
  tags_ = allocate<Tags>(buckets_);
  cold_ = allocate<Cold>(slots_);
}

template <class T>
Table::Block<T> Table::allocate(size_t count) {
  static_assert(std::is_trivially_destructible_v<T>);
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t bytes = std::max<size_t>(count * sizeof(T), 1);
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (!p) throw std::bad_alloc();
  madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without transparent huge pages, 4 KiB pages
  std::uninitialized_value_construct_n(static_cast<T*>(p), count);
  return Block<T>(static_cast<T*>(p));
}

// Both directions hash alike: the two endpoints are put in a fixed order first.
uint64_t Table::hash(const FlowKey& k) const {
  const uint64_t a = uint64_t{k.src} << 16 | k.src_port;
  const uint64_t b = uint64_t{k.dst} << 16 | k.dst_port;
  const uint64_t lo = std::min(a, b);
  const uint64_t hi = std::max(a, b);
  const uint64_t x = lo | uint64_t{k.protocol} << 48 | uint64_t{k.zone} << 56;
  return mix(mix(x ^ seed_) ^ hi);
}

// Slots past the end of a partial last bucket keep tag 0: they never match a key's tag, and
// the mask hides them from the search for free slots.
uint32_t Table::matches(size_t bucket, uint16_t t) const {
  static_assert(kBucket == 32);
  const uint16_t* tags = tags_[bucket].tag;
  uint32_t mask = 0;
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi16(static_cast<int16_t>(t));
  const auto* v = reinterpret_cast<const __m128i*>(tags);
  for (int half = 0; half < 2; ++half) {
    const __m128i lo = _mm_cmpeq_epi16(_mm_load_si128(v + 2 * half), needle);
    const __m128i hi = _mm_cmpeq_epi16(_mm_load_si128(v + 2 * half + 1), needle);
    mask |= static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi))) << (16 * half);
  }
#else
  for (size_t j = 0; j < kBucket; ++j) mask |= static_cast<uint32_t>(tags[j] == t) << j;
#endif
  const size_t n = bucket_size(bucket);
  if (t == 0 && n < kBucket) mask &= (uint32_t{1} << n) - 1;
  return mask;
}

Entry* Table::find(size_t bucket, uint16_t t, const KeyWords& original_words, const KeyWords& reply_words,
                   uint64_t now, Direction& direction) {
  for (uint32_t m = matches(bucket, t); m != 0; m &= m - 1) {
    const size_t i = bucket * kBucket + static_cast<size_t>(std::countr_zero(m));
    Entry& e = entries_[i];
    const KeyWords words(e.key);
    Direction d;
    if (words == original_words) {
      d = Direction::kOriginal;
    } else if (words == reply_words) {
      d = Direction::kReply;
    } else {
      continue;
    }
    if (e.state == State::kAlias) {
      // The reply tuple of a translated connection: stands for its partner.
      if (d != Direction::kOriginal) continue;
      const uint32_t partner = cold_[i].partner;
      Entry& primary = entries_[partner];
      if (primary.expires <= now) {
        release(partner);
        continue;
      }
      direction = Direction::kReply;
      return &primary;
    }
    // A translated connection answers only through its alias: an untranslated reply is not
    // part of it (masqueraded hosts are not reachable directly).
    if ((e.flags & kTranslated) && d == Direction::kReply) continue;
    if (e.expires <= now) {  // dead: free it and keep looking (a new entry may follow)
      release(i);
      continue;
    }
    direction = d;
    return &e;
  }
  return nullptr;
}

Entry* Table::lookup(const FlowKey& key, uint64_t now, Direction& direction) {
  return lookup(key, hash(key), now, direction);
}

uint64_t Table::prefetch(const FlowKey& key) const {
  const uint64_t h = hash(key);  // reads no padding
  if (used_ == 0) return h;  // nothing to find (a box that only routes never tracks)
  __builtin_prefetch(&tags_[first_bucket(h)]);
  __builtin_prefetch(&tags_[second_bucket(h)]);
  return h;
}

void Table::prefetch_entries(uint64_t h) const {
  if (used_ == 0) return;
  const uint16_t t = tag_of(h);
  // The second bucket only when the first has no candidate: lookup tries the first bucket
  // first, and a tag match there is nearly always the entry (16-bit tags).
  for (size_t bucket : {first_bucket(h), second_bucket(h)}) {
    uint32_t m = matches(bucket, t);
    if (m == 0) continue;
    for (; m != 0; m &= m - 1) {
      __builtin_prefetch(&entries_[bucket * kBucket + static_cast<size_t>(std::countr_zero(m))]);
    }
    return;
  }
}

Entry* Table::lookup(const FlowKey& key_in, uint64_t h, uint64_t now, Direction& direction) {
  if (used_ == 0) return nullptr;
  const KeyWords key(key_in);
  const KeyWords reply = key.reversed();
  const uint16_t t = tag_of(h);
  const size_t first = first_bucket(h);
  if (Entry* e = find(first, t, key, reply, now, direction)) return e;
  const size_t second = second_bucket(h);
  return second == first ? nullptr : find(second, t, key, reply, now, direction);
}

Entry* Table::insert(const FlowKey& key_in, const PacketInfo& first, uint64_t now) {
  if (!opens_connection(key_in.protocol, first)) return nullptr;
  Entry* placed = place(normalised(key_in), now);
  if (!placed) return nullptr;
  Entry& e = *placed;
  const FlowKey key = e.key;
  if (key.protocol == config::kProtoTcp) {
    tcp::start(e, first);
  } else if (key.protocol == config::kProtoIcmp) {
    e.state = State::kIcmpRequest;
  } else {
    e.state = State::kUnreplied;
  }
  e.expires = now + timeouts_.of(e.state, key.protocol);
  e.pending_packets[0] = 1;
  e.pending_bytes[0] = first.length;
  return &e;
}

Entry* Table::insert(const FlowKey& key_in, const PacketInfo& first, uint64_t now,
                     const FlowKey& reply_in) {
  const FlowKey reply = normalised(reply_in);
  if (reply == normalised(key_in).reversed()) return insert(key_in, first, now);
  Entry* e = insert(key_in, first, now);
  if (!e) return nullptr;
  const size_t primary = index_of(*e);
  // The alias slot may not reuse the primary's: keep the primary protected while placing it.
  const State state = e->state;
  e->state = State::kAlias;
  Entry* alias = place(reply, now);
  e->state = state;
  if (!alias) {
    release(primary);
    return nullptr;
  }
  alias->state = State::kAlias;
  alias->expires = std::numeric_limits<uint64_t>::max();
  const size_t a = index_of(*alias);
  cold_[a].partner = static_cast<uint32_t>(primary);
  cold_[primary].partner = static_cast<uint32_t>(a);
  e->flags |= kTranslated;
  return e;
}

FlowKey Table::reply_key(const Entry& e) const {
  if (!(e.flags & kTranslated)) return e.key.reversed();  // the common case: no cold line
  const uint32_t partner = cold_[index_of(e)].partner;
  return partner == kNoPartner ? e.key.reversed() : entries_[partner].key;
}

// Finds a slot for `key` (a free one, an expired one, or the non-protected one nearest its
// deadline) and marks it used with an empty entry; nullptr when there is none.
Entry* Table::place(const FlowKey& key, uint64_t now) {
  const uint64_t h = hash(key);
  const size_t candidates[2] = {first_bucket(h), second_bucket(h)};
  const size_t count = candidates[1] == candidates[0] ? 1 : 2;

  size_t slot = kNone;
  // The emptier candidate, found from the tags alone.
  const uint32_t free0 = matches(candidates[0], 0);
  const uint32_t free1 = count == 2 ? matches(candidates[1], 0) : 0;
  if (free0 != 0 || free1 != 0) {
    const bool second = std::popcount(free1) > std::popcount(free0);
    const uint32_t free = second ? free1 : free0;
    slot = candidates[second ? 1 : 0] * kBucket + static_cast<size_t>(std::countr_zero(free));
  } else {
    // Both full: reclaim an expired entry, else evict the non-protected one nearest its deadline.
    size_t victim = kNone;
    for (size_t c = 0; c < count && slot == kNone; ++c) {
      const size_t begin = candidates[c] * kBucket;
      const size_t end = begin + bucket_size(candidates[c]);
      for (size_t i = begin; i < end; ++i) {
        const Entry& e = entries_[i];
        if (e.expires <= now) {
          slot = i;
          break;
        }
        if (!is_protected(e) && (victim == kNone || e.expires < entries_[victim].expires)) {
          victim = i;
        }
      }
    }
    if (slot == kNone) {
      if (victim == kNone) return nullptr;
      slot = victim;
      ++evictions_;
    }
    release(slot);
  }

  Entry& e = entries_[slot];
  e = Entry{};
  e.key = key;
  e.in_use = true;
  cold_[slot] = Cold{{0, 0}, {0, 0}, now, 0, kNoPartner, 0};
  tag(slot) = tag_of(h);
  ++used_;
  return &e;
}

void Table::release(size_t i) {
  tag(i) = 0;
  entries_[i].in_use = false;
  --used_;
  if ((entries_[i].flags & kUserSession) && observer_) observer_->connection_closed(cold_[i].session);
  // A translated connection's two slots go together.
  const uint32_t partner = cold_[i].partner;
  cold_[i].partner = kNoPartner;
  if (partner != kNoPartner && entries_[partner].in_use) {
    cold_[partner].partner = kNoPartner;
    release(partner);
  }
}

void Table::erase(Entry* e) {
  if (e == nullptr || !e->in_use) return;
  release(index_of(*e));
}

Verdict Table::update(Entry& e, Direction d, const PacketInfo& p, uint64_t now) {
  const uint8_t protocol = e.key.protocol;
  if (protocol == config::kProtoTcp) {
    const Verdict v = tcp::track(e, d, p);
    if (v != Verdict::kAccept) return v;
  } else if (d == Direction::kReply) {
    if (protocol == config::kProtoIcmp) {
      e.state = State::kIcmpReplied;
    } else {
      e.state = State::kAssured;
    }
  }
  const size_t s = side(d);
  e.pending_bytes[s] += p.length;
  if (++e.pending_packets[s] == kPendingLimit) fold(e, s);
  e.expires = now + timeouts_.of(e.state, protocol);
  return Verdict::kAccept;
}

void Table::fold(Entry& e, size_t direction) {
  Cold& c = cold_[index_of(e)];
  c.packets[direction] += e.pending_packets[direction];
  c.bytes[direction] += e.pending_bytes[direction];
  e.pending_packets[direction] = 0;
  e.pending_bytes[direction] = 0;
}

Stats Table::stats(const Entry& e) const {
  const Cold& c = cold_[index_of(e)];
  Stats s;
  for (size_t d = 0; d < 2; ++d) {
    s.packets[d] = c.packets[d] + e.pending_packets[d];
    s.bytes[d] = c.bytes[d] + e.pending_bytes[d];
  }
  s.created = c.created;
  s.rule_id = c.rule_id;
  return s;
}

// Runs once per poll loop on every worker: the occupied slots of a bucket come from one compare
// of its tag line, so a sparse table costs a line per bucket and no branch per free slot.
size_t Table::sweep(uint64_t now, size_t budget) {
  size_t freed = 0;
  for (size_t left = std::min(budget, slots_); left > 0;) {
    const size_t bucket = sweep_cursor_ / kBucket;
    const size_t first = sweep_cursor_ % kBucket;
    const size_t count = std::min(left, bucket_size(bucket) - first);
    const auto window = static_cast<uint32_t>(((uint64_t{1} << count) - 1) << first);
    for (uint32_t m = ~matches(bucket, 0) & window; m != 0; m &= m - 1) {
      const size_t i = bucket * kBucket + static_cast<size_t>(std::countr_zero(m));
      // Releasing a translated connection frees its partner slot too, maybe one in this mask.
      if (tag(i) != 0 && entries_[i].expires <= now) {
        release(i);
        ++freed;
      }
    }
    left -= count;
    sweep_cursor_ += count;
    if (sweep_cursor_ == slots_) sweep_cursor_ = 0;
  }
  return freed;
}

}  // namespace bulwark::conntrack
