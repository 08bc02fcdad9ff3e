// The login portal's pages (pages.h). HTML is built from small fixed fragments; anything that
// comes from the configuration or the session is escaped by `esc`.
#include "control/portal/pages.h"

#include <ctime>

#include <fmt/format.h>

namespace bulwark::control::pages {
namespace {

using std::chrono::system_clock;

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string utc(system_clock::time_point t) {
  std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string duration(std::chrono::seconds s) {
  long v = s.count() < 0 ? 0 : static_cast<long>(s.count());
  if (v >= 3600) return fmt::format("{} h {} min", v / 3600, v % 3600 / 60);
  if (v >= 60) return fmt::format("{} min {} s", v / 60, v % 60);
  return fmt::format("{} s", v);
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.4em}label{display:block;margin-top:.8em}"
    "input,select{font-size:1em;padding:.3em;width:100%;box-sizing:border-box}"
    "button{font-size:1em;margin-top:1em;padding:.4em 1.2em}"
    ".msg{padding:.6em;border-radius:4px;background:#fdd}.ok{background:#dfd}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em;border-bottom:1px solid #ccc}";

std::string html(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{}</title><style>{}</style></head>\n<body>\n<h1>{}</h1>\n{}</body></html>\n",
      esc(title), kStyle, esc(title), body);
}

std::string form_html(const std::string& message) {
  std::string msg = message.empty() ? "" : "<p class=\"msg\">" + esc(message) + "</p>\n";
  return msg +
         "<form method=\"post\" action=\"/login\">\n"
         "<label for=\"username\">User name</label>"
         "<input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\n"
         "<label for=\"password\">Password</label>"
         "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n"
         "<label for=\"access\">Access type</label>"
         "<select id=\"access\" name=\"access\"><option value=\"user_firewall\" selected>User firewall</option></select>\n"
         "<button type=\"submit\">Log in</button>\n</form>\n";
}

HttpResponse answer(Format f, int status, const std::string& title, const std::string& html_body,
                    const std::string& text) {
  HttpResponse r;
  r.status = status;
  if (f == Format::kText) {
    r.content_type = "text/plain; charset=utf-8";
    r.body = text;
  } else {
    r.body = html(title, html_body);
  }
  add_security_headers(r);
  return r;
}

}  // namespace

Format format_for(const HttpRequest& request) {
  auto it = request.headers.find("accept");
  if (it == request.headers.end()) return Format::kHtml;
  const std::string& a = it->second;
  return a.find("text/plain") != std::string::npos && a.find("text/html") == std::string::npos
             ? Format::kText
             : Format::kHtml;
}

void add_security_headers(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");  // "no-referrer" makes browsers send "Origin: null"
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
}

HttpResponse login_form(Format f) {
  return answer(f, 200, "Bulwark login", form_html(""),
                "POST /login with username, password (application/x-www-form-urlencoded)\n");
}

HttpResponse logged_in(Format f, const SessionView& s, system_clock::time_point now) {
  std::string rows, text;
  text = fmt::format("logged in: {} from {}\n", s.user, s.source.str());
  for (const UnlockedTemplate& t : s.templates) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(t.expires - now);
    std::string when = t.dynamic_timeout
                           ? fmt::format("expires {} without traffic (in {}; idle timeout)", utc(t.expires), duration(left))
                           : fmt::format("expires {} (in {})", utc(t.expires), duration(left));
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", esc(t.name), esc(t.source.str()), esc(when));
    text += fmt::format("template: {}\tsource: {}\t{}\n", t.name, t.source.str(), when);
  }
  std::string body = fmt::format(
      "<p class=\"msg ok\">Logged in as <b>{}</b> from {}.</p>\n"
      "<p>These templates are unlocked for your address:</p>\n"
      "<table><tr><th>Template</th><th>Source</th><th>Expiry</th></tr>\n{}</table>\n"
      "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>\n",
      esc(s.user), esc(s.source.str()), rows);
  return answer(f, 200, "Bulwark: logged in", body, text);
}

HttpResponse login_failed(Format f) {
  return answer(f, 401, "Bulwark login", form_html("Login failed: wrong user name or password."),
                "login failed: wrong user name or password\n");
}

HttpResponse login_refused(Format f, const std::string& reason) {
  return answer(f, 403, "Bulwark login", form_html("Login refused: " + reason + "."),
                "login refused: " + reason + "\n");
}

HttpResponse authentication_unavailable(Format f) {
  const char* m = "The authentication service is unavailable (no RADIUS server answered). Try again later.";
  return answer(f, 503, "Bulwark login", form_html(m), std::string(m) + "\n");
}

HttpResponse rate_limited(Format f) {
  const char* m = "Too many failed logins. Try again later.";
  HttpResponse r = answer(f, 429, "Bulwark login", form_html(m), std::string(m) + "\n");
  r.headers.emplace_back("Retry-After", "60");
  return r;
}

HttpResponse logged_out(Format f, bool had_session) {
  const char* m = had_session ? "You have been logged out." : "You were not logged in.";
  return answer(f, 200, "Bulwark: logged out", "<p class=\"msg ok\">" + std::string(m) + "</p>\n" + form_html(""),
                std::string(had_session ? "logged out" : "not logged in") + "\n");
}

HttpResponse error(Format f, int status, const std::string& message) {
  return answer(f, status, "Bulwark", "<p class=\"msg\">" + esc(message) + "</p>\n", message + "\n");
}

}  // namespace bulwark::control::pages
