// Firewall log lines, in the manner of the manual's kernel log (chapter 15.5):
//   fw-incoming-2 act=ACCEPT IN=external OUT=internal SRC=10.1.0.100 DST=192.168.1.10 LEN=60
//   TOS=0x00 TTL=63 ID=4711 PROTO=TCP SPT=40000 DPT=80 RULE=7 "web access"
// (one line). OUT is empty for traffic to the box itself.
#pragma once

#include <string>
#include <vector>

#include "dataplane/log_ring.h"

namespace bulwark::dataplane {

// `vpn_names`: the VPN connections, for lines of their firewalls ("fw-vpn_NAME-in-1 …", as the
// manual's chapter 15.5 shows them). `template_names`: the user firewall's templates, for lines of
// their rules ("fw-user-outgoing-1 … RULE=n TEMPLATE="NAME" SESSION=s": the list the template
// was applied as, its rule's position, the template and the logged-in session).
std::string format_log(const LogRecord& r, const std::vector<std::string>& interface_names,
                       const std::vector<std::string>& vpn_names = {},
                       const std::vector<std::string>& template_names = {});

}  // namespace bulwark::dataplane
