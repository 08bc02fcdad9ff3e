// A small SMTP client for notifications (RFC 5321): EHLO, STARTTLS when configured (RFC 3207,
// certificate checked against the system's CAs), AUTH PLAIN when a user name is configured, one
// message. A server that does not offer STARTTLS when it is required gets no mail — credentials
// and reports never travel in clear text by accident. Every step has a timeout.
#pragma once

#include <string>

#include "config/model.h"

namespace bulwark::control::cifs {

struct Mail {
  std::string to;
  std::string subject;
  std::string body;  // plain text; lines are dot-stuffed on sending
};

// Sends `mail`; false with `error` (no password in it) on failure.
bool send_mail(const config::SmtpServer& server, const std::string& hostname, const Mail& mail,
               std::string& error);

}  // namespace bulwark::control::cifs
