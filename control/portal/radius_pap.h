// One RADIUS PAP exchange (RFC 2865) with one server, for the login portal's authenticator
// (authenticator.h). Encoding, the User-Password hiding, Message-Authenticator (RFC 3579 3.2)
// and the verification of the answer are FreeRADIUS's own packet library (libfreeradius-radius);
// this C file only drives it: a request with Message-Authenticator, an answer accepted only with
// a valid Response Authenticator and, when it has one or when required, a valid
// Message-Authenticator (BlastRADIUS, CVE-2024-3596). C, because FreeRADIUS's headers are not
// valid C++.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bw_radius_answer { BW_RADIUS_ACCEPT, BW_RADIUS_REJECT, BW_RADIUS_NO_ANSWER };

// Addresses in host byte order. Waits at most `timeout_ms` for an answer that verifies. `detail`
// gets a reason for the log ("timed out", "answer without Message-Authenticator", ...), never
// the secret or the password. Thread-safe.
// `require_ma`: an answer without Message-Authenticator does not count (one that has it is always
// checked).
enum bw_radius_answer bw_radius_pap(uint32_t server, uint16_t port, const char* secret, unsigned timeout_ms,
                                    int require_ma, const char* user, const char* password, uint32_t nas_ip,
                                    char* detail, size_t detail_size);

#ifdef __cplusplus
}
#endif
