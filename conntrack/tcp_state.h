// The TCP state machine and loose window check of the connection tracker (internal to
// conntrack/; the table calls it from `insert` and `update`). The states, their transitions and
// the window check are described in docs/conntrack.md.
#pragma once

#include "conntrack/conntrack.h"

namespace bulwark::conntrack::tcp {

// True for the only packet that opens a TCP connection: SYN without ACK, RST or FIN.
bool is_opening(const PacketInfo& p);

// Puts a fresh entry into SYN_SENT for its opening SYN.
void start(Entry& e, const PacketInfo& syn);

// One packet of direction `d`. The entry changes only on kAccept.
Verdict track(Entry& e, Direction d, const PacketInfo& p);

}  // namespace bulwark::conntrack::tcp
