// The login portal's pages: plain HTML forms that work without JavaScript (the manual's login
// page, chapter 9.2: user name, password, access type), and the same answers as plain text for
// scripts that ask with `Accept: text/plain`. Every page is complete and self-contained (inline
// style only, so the Content-Security-Policy can forbid everything else); every text from the
// configuration or the request is HTML-escaped.
#pragma once

#include <chrono>
#include <string>

#include "control/portal/https_server.h"
#include "control/user_firewall/login_types.h"

namespace bulwark::control::pages {

enum class Format { kHtml, kText };

// kText when the client asks for text/plain and not for HTML.
Format format_for(const HttpRequest& request);

// The security headers every answer carries.
void add_security_headers(HttpResponse& response);

// GET /: the login form (status 200).
HttpResponse login_form(Format f);
// POST /login accepted: the templates the login unlocked, their expiry, and a logout button.
HttpResponse logged_in(Format f, const SessionView& session,
                       std::chrono::system_clock::time_point now);
// GET / from an address that is logged in: the same page as after the login.
// Wrong password or unknown user: one answer for both, byte for byte (401).
HttpResponse login_failed(Format f);
// The password was right but the login could not open a session (e.g. no template lists the
// user): 403 with the session manager's reason.
HttpResponse login_refused(Format f, const std::string& reason);
// No RADIUS server answered (503).
HttpResponse authentication_unavailable(Format f);
// Too many failed logins from this address or for this user (429).
HttpResponse rate_limited(Format f);
// POST /logout: the session ended (200), or there was none from this address (200 as well:
// the result, logged out, is the same).
HttpResponse logged_out(Format f, bool had_session);
// A malformed request (400), unknown path (404), wrong method (405), or a cross-site form (403).
HttpResponse error(Format f, int status, const std::string& message);

}  // namespace bulwark::control::pages
