#include "control/cifs/smtp.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "config/secrets.h"

namespace bulwark::control::cifs {
namespace {

constexpr int kTimeoutSeconds = 20;

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

class Connection {
 public:
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    if (tls_) SSL_CTX_free(tls_);
    if (fd_ >= 0) close(fd_);
  }

  bool connect(const std::string& host, uint16_t port, std::string& error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list)) {
      error = fmt::format("cannot resolve mail server {}: {}", host, gai_strerror(rc));
      return false;
    }
    for (addrinfo* a = list; a; a = a->ai_next) {
      fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ < 0) continue;
      timeval tv{kTimeoutSeconds, 0};
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      error = fmt::format("cannot connect to mail server {}:{}: {}", host, port, std::strerror(errno));
      close(fd_);
      fd_ = -1;
    }
    freeaddrinfo(list);
    return fd_ >= 0;
  }

  bool start_tls(const std::string& host, std::string& error) {
    tls_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_default_verify_paths(tls_);
    SSL_CTX_set_verify(tls_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(tls_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
    if (SSL_connect(ssl_) != 1) {
      char text[256];
      ERR_error_string_n(ERR_get_error(), text, sizeof text);
      ERR_clear_error();
      error = fmt::format("TLS with the mail server failed: {}", text);
      return false;
    }
    buffer_.clear();
    return true;
  }

  bool send(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      long n = ssl_ ? SSL_write(ssl_, text.data() + done, static_cast<int>(text.size() - done))
                    : ::send(fd_, text.data() + done, text.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // One reply (possibly multi-line): its code and text; 0 on a broken connection.
  int reply(std::string& text) {
    text.clear();
    while (true) {
      std::string line;
      if (!read_line(line)) return 0;
      text += line + "\n";
      if (line.size() < 4 || line[3] != '-') return std::atoi(line.substr(0, 3).c_str());
    }
  }

 private:
  int fd_ = -1;
  SSL_CTX* tls_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;

  bool read_line(std::string& line) {
    while (true) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      if (buffer_.size() > 65536) return false;
      char chunk[4096];
      long n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
};

std::string rfc5322_date() {
  std::time_t now = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S %z", std::localtime(&now));
  return text;
}

std::string dot_stuffed(const std::string& body) {
  std::string out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == '.') out += '.';
    out += line + "\r\n";
    start = end + 1;
  }
  return out;
}

}  // namespace

bool send_mail(const config::SmtpServer& server, const std::string& hostname, const Mail& mail,
               std::string& error) {
  Connection c;
  if (!c.connect(server.server, server.port, error)) return false;
  std::string text;
  auto expect = [&](int wanted, const std::string& step) {
    int code = c.reply(text);
    if (code / 100 == wanted / 100) return true;
    error = code ? fmt::format("mail server refused {}: {}", step, text.substr(0, text.find('\n')))
                 : fmt::format("mail server closed the connection during {}", step);
    return false;
  };
  auto command = [&](const std::string& line, int wanted, const std::string& step) {
    if (!c.send(line + "\r\n")) {
      error = fmt::format("lost the mail server during {}", step);
      return false;
    }
    return expect(wanted, step);
  };
  if (!expect(220, "the greeting") || !command("EHLO " + hostname, 250, "EHLO")) return false;
  if (server.starttls) {
    if (text.find("STARTTLS") == std::string::npos) {
      error = fmt::format("mail server {} does not offer STARTTLS, which system.smtp.starttls requires",
                          server.server);
      return false;
    }
    if (!command("STARTTLS", 220, "STARTTLS") || !c.start_tls(server.server, error)) return false;
    if (!command("EHLO " + hostname, 250, "EHLO")) return false;
  }
  if (!server.username.empty()) {
    std::string password;
    if (server.password) {
      auto secret = config::read_secret(*server.password, error);
      if (!secret) return false;
      password = *secret;
    }
    std::string token = base64(std::string("\0", 1) + server.username + std::string("\0", 1) + password);
    if (!command("AUTH PLAIN " + token, 235, "authentication (check system.smtp.username and password)")) {
      return false;
    }
  }
  if (!command(fmt::format("MAIL FROM:<{}>", server.from), 250, "the sender") ||
      !command(fmt::format("RCPT TO:<{}>", mail.to), 250, "the recipient") || !command("DATA", 354, "DATA")) {
    return false;
  }
  std::string message = fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}.\r\n",
      server.from, mail.to, mail.subject, rfc5322_date(), dot_stuffed(mail.body));
  if (!c.send(message) || !expect(250, "the message")) return false;
  c.send("QUIT\r\n");
  return true;
}

}  // namespace bulwark::control::cifs
