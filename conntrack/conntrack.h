// Connection tracking: one entry per connection for both directions.
//
// Theory of operation
// -------------------
// A connection is identified by its zone (the side it was first seen on: 0 for the box's own
// interfaces; VPN zones follow later) and its 5-tuple as the first packet carried it — the
// *original* direction. ICMP echo and other ICMP queries use the identifier as both ports; other
// protocols use ports 0. `lookup` finds the entry for a packet in either direction and says which
// direction it travels.
//
// The table is a fixed array sized at start (no allocation afterwards), organised as buckets of
// 32 entries. A hash of the direction-independent key names two candidate buckets; a new entry
// goes into the emptier of the two ("power of two choices"), which keeps a table up to ~95% full
// free of overflow. A parallel array of 16-bit tags (hash bits, 0 = free; a bucket's tags fill
// one cache line) lets a lookup skip non-matching slots without touching their entries: a hit
// reads at most two tag lines and one entry, a miss reads no entry at all.
// Each dataplane worker owns one table (symmetric RSS sends both directions of a connection to the
// same worker; see docs/conntrack.md), so nothing is shared or locked.
//
// An `Entry` is one cache line and holds everything a packet reads or writes. Totals that only
// listings and logs read (64-bit counters, creation time, rule id, user session) live in a
// parallel cold array;
// the entry accumulates up to 255 packets per direction and then folds them into the totals, so
// the fast path touches the cold line about once in 255 packets. `Table::stats` returns totals.
//
// State machines (`update`): TCP follows the usual states (SYN_SENT, SYN_RECV, ESTABLISHED,
// FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE) with RST handling and a loose window check;
// UDP is unreplied until the first reply, then assured; ICMP queries are answered once; other
// protocols are tracked generically. Every state has its own timeout (config
// `dataplane.conntrack.timeouts`); an entry expires when `now` reaches its deadline.
//
// Aging is a bounded sweep: `sweep(now, budget)` examines `budget` slots per call, resuming where
// it stopped, and frees expired entries. When a new connection finds its buckets full, an expired
// entry in them is reclaimed, else the oldest-expiring *non-protected* one is evicted;
// established TCP connections and assured UDP flows are never evicted for a new one — the new
// connection is refused instead (`insert` returns nullptr) and the caller counts the drop.
//
// Time is in the pipeline clock's ticks; `hz` converts the configured seconds. Nothing here reads
// a clock: every deadline is derived from the `now` the caller passes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "config/model.h"

namespace bulwark::conntrack {

// A packet's identity, host byte order. For ICMP queries src_port = dst_port = identifier.
struct FlowKey {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t protocol = 0;
  uint8_t zone = 0;
  uint16_t pad = 0;  // always 0 in the table; ignored by lookup and insert

  bool operator==(const FlowKey&) const = default;
  FlowKey reversed() const { return {dst, src, dst_port, src_port, protocol, zone, 0}; }
};
static_assert(sizeof(FlowKey) == 16);

enum class Direction : uint8_t { kOriginal, kReply };

enum class State : uint8_t {
  // TCP
  kSynSent,
  kSynRecv,
  kEstablished,
  kFinWait,
  kCloseWait,
  kLastAck,
  kTimeWait,
  kClose,
  // UDP and generic
  kUnreplied,
  kAssured,
  // ICMP query
  kIcmpRequest,
  kIcmpReplied,
  // The second slot of a translated connection (NAT): found by the reply tuple, it stands for its
  // partner entry; it has no state of its own and lives and dies with the partner.
  kAlias,
};
const char* state_name(State s);

// What `update` decided about one packet of a tracked connection.
enum class Verdict : uint8_t {
  kAccept,
  kInvalid,        // not acceptable in this state (e.g. out of window): drop, keep the entry
  kNewConnection,  // a SYN on a closed/time-wait entry: the caller replaces the entry
};

// TCP flag bits as on the wire.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// `PacketInfo::window_scale` of a SYN without the window-scale option (a shift of 0 is valid).
inline constexpr uint8_t kNoWindowScale = 0xff;

// The parts of a packet the state machines read.
struct PacketInfo {
  uint8_t tcp_flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;                    // raw header value; the tracker applies the scale
  uint8_t window_scale = kNoWindowScale;  // the SYN's window-scale option (shift), if any
  uint32_t payload = 0;                   // TCP payload length
  uint16_t length = 0;                    // IP total length, for counters
};

// Per-direction TCP tracking for the loose window check (12 bytes; see docs/conntrack.md).
struct TcpWindow {
  uint32_t end = 0;      // highest seq + len this side sent (SYN and FIN count one)
  uint32_t max_end = 0;  // highest ack + window the other side allowed: limit for this side's seq
  uint16_t max_win = 0;  // largest window this side advertised, in units of 1 << scale
  uint8_t scale = 0;     // window-scale shift (in effect once both SYNs carried the option)
  uint8_t flags = 0;     // tracking bits, private to the state machine
};
static_assert(sizeof(TcpWindow) == 12);

// One connection; exactly one cache line (the layout is documented in docs/conntrack.md).
struct alignas(64) Entry {
  FlowKey key;  // original direction
  uint64_t expires = 0;
  TcpWindow window[2];                  // per Direction; TCP only
  uint32_t generation = 0;              // the table generation that last accepted it
  uint32_t pending_bytes[2] = {0, 0};   // per Direction, not yet folded into the totals
  uint8_t pending_packets[2] = {0, 0};  // (read totals with Table::stats)
  State state = State::kUnreplied;
  bool in_use : 1 = false;
  uint8_t flags : 7 = 0;  // bits 0-4 free for the dataplane; kUserSession, kTranslated: the table's
};
static_assert(sizeof(Entry) == 64 && alignof(Entry) == 64);
// Entry::flags bit: the connection has an alias slot (NAT), so reply_key() must look it up.
inline constexpr uint8_t kTranslated = 0x40;
// Entry::flags bit: a user-firewall grant admitted the connection (Table::set_session); its
// session id is in the cold data, and its release is reported to the SessionObserver.
inline constexpr uint8_t kUserSession = 0x20;

// Told when an entry of a session leaves the table (erased, expired, evicted), so that the
// dataplane can count a session's open connections without scanning the table.
class SessionObserver {
 public:
  virtual void connection_closed(uint32_t session) = 0;

 protected:
  ~SessionObserver() = default;
};

// A connection's totals, for listings and logs (not the fast path).
struct Stats {
  uint64_t packets[2] = {0, 0};  // per Direction
  uint64_t bytes[2] = {0, 0};
  uint64_t created = 0;  // `now` of the first packet
  uint32_t rule_id = 0;  // the rule that accepted the connection (0 = list default)
};

// Timeouts in clock ticks.
struct Timeouts {
  uint64_t tcp_syn_sent, tcp_syn_recv, tcp_established, tcp_fin_wait, tcp_close_wait, tcp_last_ack,
      tcp_time_wait, tcp_close, udp_unreplied, udp_assured, icmp, generic;

  static Timeouts from_config(const config::ConntrackTimeouts& t, uint64_t hz);
  uint64_t of(State s, uint8_t protocol) const;
};

class Table {
 public:
  // `capacity` entries at most (at least 1). `seed` keys the hash: give each table a random one
  // so that remote hosts cannot aim their flows at one bucket.
  Table(uint32_t capacity, const Timeouts& timeouts, uint64_t seed = kDefaultSeed);

  // The entry of the connection `key` belongs to, in either direction, or nullptr.
  Entry* lookup(const FlowKey& key, uint64_t now, Direction& direction);
  // For burst processing: the key's hash, with the tag lines of its two buckets prefetched;
  // a later `lookup(key, hash, …)` then finds them in the cache.
  uint64_t prefetch(const FlowKey& key) const;
  // The second step, once the tag lines have arrived: prefetches the entries whose tags match.
  void prefetch_entries(uint64_t hash) const;
  Entry* lookup(const FlowKey& key, uint64_t hash, uint64_t now, Direction& direction);
  // Creates an entry for a new connection whose first packet is `key`, in its initial state
  // for that packet, and counts that packet; reclaims expired entries as needed. nullptr when
  // the table is full, or for a TCP packet other than a SYN without ACK (see `opens_connection`).
  // The caller has looked the key up first: no live entry exists for it.
  Entry* insert(const FlowKey& key, const PacketInfo& first, uint64_t now);
  // The same for a translated connection whose replies carry `reply` rather than
  // key.reversed(): the connection is then found under both tuples. nullptr when full.
  Entry* insert(const FlowKey& key, const PacketInfo& first, uint64_t now, const FlowKey& reply);
  // The tuple replies carry: key.reversed() unless the connection is translated.
  FlowKey reply_key(const Entry& e) const;
  // True when no live connection uses the tuple `key` in either direction, translated or not
  // (port allocation for NAT).
  bool unused(const FlowKey& key, uint64_t now) {
    Direction ignored;
    return lookup(key, now, ignored) == nullptr && lookup(key.reversed(), now, ignored) == nullptr;
  }
  void erase(Entry* e);

  // Advances the state machine with one packet; on kAccept also counts the packet and refreshes
  // the deadline. kInvalid and kNewConnection leave the entry as it was.
  Verdict update(Entry& e, Direction d, const PacketInfo& p, uint64_t now);

  // Examines up to `budget` slots, freeing expired entries; returns how many it freed.
  size_t sweep(uint64_t now, size_t budget);

  // Totals of a live entry, including the packets not yet folded.
  Stats stats(const Entry& e) const;
  void set_rule_id(Entry& e, uint32_t rule_id) { cold_[index_of(e)].rule_id = rule_id; }
  // Marks `e` as admitted by a grant of user-firewall session `session` (never 0).
  void set_session(Entry& e, uint32_t session) {
    cold_[index_of(e)].session = session;
    e.flags |= kUserSession;
  }
  uint32_t session(const Entry& e) const { return cold_[index_of(e)].session; }
  void set_session_observer(SessionObserver* o) { observer_ = o; }

  void set_timeouts(const Timeouts& t) { timeouts_ = t; }
  size_t size() const { return used_; }
  size_t capacity() const { return slots_; }
  // Live entries evicted to make room for new connections since construction.
  uint64_t evictions() const { return evictions_; }

  // Calls `fn(const Entry&)` for every live entry (for listings; not on the fast path).
  template <class Fn>
  void for_each(uint64_t now, Fn&& fn) const {
    for (size_t i = 0; i < slots_; ++i) {
      if (entries_[i].in_use && entries_[i].state != State::kAlias && entries_[i].expires > now) {
        fn(entries_[i]);
      }
    }
  }

  static constexpr uint64_t kDefaultSeed = 0x243f6a8885a308d3;

 private:
  static constexpr size_t kBucket = 32;  // slots per bucket

  struct alignas(64) Tags {
    uint16_t tag[kBucket];  // 0 = free
  };

  // What only listings, logs and the fold read.
  struct Cold {
    uint64_t packets[2];
    uint64_t bytes[2];
    uint64_t created;
    uint32_t rule_id;
    uint32_t partner;  // the alias slot of a translated connection (or its primary), or kNoPartner
    uint32_t session;  // the user-firewall session that admitted it (kUserSession), else 0
  };
  static_assert(sizeof(Cold) == 56);
  static constexpr uint32_t kNoPartner = 0xffffffff;
  Entry* place(const FlowKey& key, uint64_t now);

  uint64_t hash(const FlowKey& key) const;
  // The two candidate buckets of a hash (they may coincide).
  size_t first_bucket(uint64_t hash) const { return ((hash >> 32) * buckets_) >> 32; }
  size_t second_bucket(uint64_t hash) const {
    return (((hash * 0x9e3779b97f4a7c15ULL) >> 32) * buckets_) >> 32;
  }
  size_t bucket_size(size_t b) const { return std::min(kBucket, slots_ - b * kBucket); }
  struct KeyWords;  // a key as two machine words (conntrack.cc)
  Entry* find(size_t bucket, uint16_t tag, const KeyWords& key, const KeyWords& reply, uint64_t now,
              Direction& direction);
  // Bit j set when slot j of `bucket` carries `tag` (tag 0: the free slots).
  uint32_t matches(size_t bucket, uint16_t tag) const;
  uint16_t& tag(size_t slot) const { return tags_[slot / kBucket].tag[slot % kBucket]; }
  size_t index_of(const Entry& e) const { return static_cast<size_t>(&e - entries_.get()); }
  void release(size_t i);
  void fold(Entry& e, size_t direction);

  // The arrays are allocated in 2 MiB-aligned blocks advised for transparent huge pages: a
  // lookup touches random cache lines of a large table, and with 4 KiB pages most of them would
  // also miss the TLB (measured: docs/performance.md).
  struct FreeBlock {
    void operator()(void* p) const { std::free(p); }
  };
  template <class T>
  using Block = std::unique_ptr<T[], FreeBlock>;
  template <class T>
  static Block<T> allocate(size_t count);

  Block<Entry> entries_;
  Block<Tags> tags_;  // per bucket
  Block<Cold> cold_;
  size_t slots_ = 0;
  size_t buckets_ = 0;
  size_t used_ = 0;
  size_t sweep_cursor_ = 0;
  uint64_t seed_ = 0;
  uint64_t evictions_ = 0;
  Timeouts timeouts_;
  SessionObserver* observer_ = nullptr;
};

// True for entries a new connection must not evict: TCP connections that completed the handshake
// and have not finished closing (ESTABLISHED, FIN_WAIT, CLOSE_WAIT) and assured UDP and generic
// flows.
bool is_protected(const Entry& e);

// True when a packet of `protocol` may create an entry: any packet, except that TCP connections
// start only with a SYN without ACK (the caller drops other unmatched TCP packets).
bool opens_connection(uint8_t protocol, const PacketInfo& p);

}  // namespace bulwark::conntrack
