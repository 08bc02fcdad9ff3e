// The HTTPS server (https_server.h) on libmicrohttpd with its GnuTLS backend.
//
// One MHD daemon per listener, each with its own listening socket that this file binds (so a
// bind error names the address, and the socket is created in the right network namespace), in
// thread-per-connection mode: a login that waits for RADIUS blocks only its own connection, and
// the connection limits bound the threads. The daemons are started from a short-lived thread
// that has entered the namespace; the threads MHD creates inherit it.
//
// A request is collected across MHD's calls into RequestState: the first call checks the
// declared length (413 at once when too long) and sets up MHD's post processor for a form body;
// the middle calls feed it; the last call runs the handler and queues its response. A body that
// grows past the limit without having declared its length ends the connection.
#include "control/portal/https_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <thread>

#include <fmt/format.h>

namespace bulwark::control {
namespace {

constexpr const char* kTlsPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
constexpr size_t kConnectionMemory = 32 * 1024;  // request line + headers; more gets MHD's 431/413

// MHD's messages while a daemon starts (why it refused the certificate, say); ignored afterwards,
// when they are only hostile or broken clients' TLS failures.
thread_local std::string* start_messages = nullptr;

void mhd_log(void*, const char* format, va_list ap) {
  if (!start_messages) return;
  char line[512];
  std::vsnprintf(line, sizeof line, format, ap);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!start_messages->empty()) *start_messages += "; ";
  *start_messages += text;
}

struct Daemon;

struct RequestState {
  HttpRequest request;
  MHD_PostProcessor* post = nullptr;
  size_t body_bytes = 0;
  ~RequestState() {
    if (post) MHD_destroy_post_processor(post);
  }
};

struct Daemon {
  const HttpsServer::Impl* server = nullptr;
  HttpsListener listener;
  MHD_Daemon* mhd = nullptr;
};

std::string lower(const char* s) {
  std::string out(s ? s : "");
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(cls);
  (*headers)[lower(key)] = value ? value : "";
  return MHD_YES;
}

MHD_Result collect_argument(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* query = static_cast<std::map<std::string, std::string>*>(cls);
  (*query)[key ? key : ""] = value ? value : "";
  return MHD_YES;
}

// The post processor hands a field over in pieces (`offset` into its value).
MHD_Result collect_field(void* cls, MHD_ValueKind, const char* key, const char*, const char*, const char*,
                         const char* data, uint64_t offset, size_t size) {
  auto* form = static_cast<std::map<std::string, std::string>*>(cls);
  std::string& value = (*form)[key ? key : ""];
  if (offset == 0) value.clear();
  if (data && size) value.append(data, size);
  return MHD_YES;
}

MHD_Result queue(MHD_Connection* connection, const HttpResponse& answer) {
  MHD_Response* response = MHD_create_response_from_buffer(answer.body.size(), const_cast<char*>(answer.body.data()),
                                                           MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, answer.content_type.c_str());
  for (const auto& [name, value] : answer.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
  MHD_Result result = MHD_queue_response(connection, static_cast<unsigned>(answer.status), response);
  MHD_destroy_response(response);
  return result;
}

HttpResponse plain(int status, const std::string& text) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = text + "\n";
  r.headers.emplace_back("Connection", "close");
  return r;
}

config::Ipv4Address peer_of(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr || info->client_addr->sa_family != AF_INET) return {};
  const auto* in = reinterpret_cast<const sockaddr_in*>(info->client_addr);
  return {ntohl(in->sin_addr.s_addr)};
}

}  // namespace

struct HttpsServer::Impl {
  HttpsServerOptions options;
  HttpHandler handler;
  std::vector<Daemon> daemons;  // sized once, never moved while the daemons run

  HttpResponse answer(const HttpRequest& request) const {
    try {
      return handler(request);
    } catch (const std::exception&) {
      return plain(500, "Internal error.");
    }
  }

  ~Impl() {
    for (Daemon& d : daemons) {
      if (d.mhd) MHD_stop_daemon(d.mhd);  // closes its listening socket, joins its threads
    }
  }
};

namespace {

MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                      const char* upload_data, size_t* upload_data_size, void** con_cls) {
  const Daemon& daemon = *static_cast<const Daemon*>(cls);
  const HttpsServerOptions& options = daemon.server->options;
  auto* state = static_cast<RequestState*>(*con_cls);
  if (!state) {  // the headers are in
    state = new RequestState;
    *con_cls = state;
    HttpRequest& r = state->request;
    r.method = method ? method : "";
    r.path = url ? url : "/";
    r.peer = peer_of(connection);
    r.local = daemon.listener.address;
    MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_header, &r.headers);
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect_argument, &r.query);
    auto length = r.headers.find("content-length");
    if (length != r.headers.end()) {
      char* end = nullptr;
      errno = 0;
      unsigned long long declared = std::strtoull(length->second.c_str(), &end, 10);
      if (errno != 0 || declared > options.max_body_bytes) {
        return queue(connection, plain(413, fmt::format("The request body is limited to {} bytes.",
                                                        options.max_body_bytes)));
      }
    }
    state->post = MHD_create_post_processor(connection, 1024, collect_field, &r.form);  // null: not a form
    return MHD_YES;
  }
  if (*upload_data_size != 0) {  // a piece of the body
    state->body_bytes += *upload_data_size;
    if (state->body_bytes > options.max_body_bytes) return MHD_NO;  // undeclared and too long: close
    if (state->post && MHD_post_process(state->post, upload_data, *upload_data_size) != MHD_YES) {
      MHD_destroy_post_processor(state->post);
      state->post = nullptr;
      state->request.form.clear();  // malformed: the handler sees no fields
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  return queue(connection, daemon.server->answer(state->request));
}

void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  delete static_cast<RequestState*>(*con_cls);
  *con_cls = nullptr;
}

// A listening socket on `l`; port 0 picks a free port and writes it back into `l`.
int bind_listener(HttpsListener& l, std::string& error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = fmt::format("socket: {}", std::strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(l.port);
  sa.sin_addr.s_addr = htonl(l.address.value);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 64) != 0) {
    error = fmt::format("cannot listen on {}:{}: {}", l.address.str(), l.port, std::strerror(errno));
    close(fd);
    return -1;
  }
  socklen_t length = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) == 0) l.port = ntohs(sa.sin_port);
  return fd;
}

bool enter_namespace(const std::string& name, std::string& error) {
  if (name.empty()) return true;
  std::string path = "/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    error = fmt::format("cannot enter network namespace {}: {}", name, std::strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

bool start_daemon(Daemon& d, HttpsListener& listener, const HttpsServerOptions& o, std::string& error) {
  int fd = bind_listener(listener, error);
  d.listener = listener;
  if (fd < 0) return false;
  std::string messages;
  start_messages = &messages;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ERROR_LOG;
  // Plain HTTP (o.tls false) ends the option list before the TLS options.
  d.mhd = MHD_start_daemon(
      flags | (o.tls ? static_cast<unsigned>(MHD_USE_TLS) : 0u), 0, nullptr, nullptr, on_request, &d,
      MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections_per_address),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(o.connection_timeout_s),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, nullptr,
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, nullptr,
      o.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, o.certificate_pem.c_str(),
      MHD_OPTION_HTTPS_MEM_KEY, o.private_key_pem.c_str(),
      MHD_OPTION_HTTPS_PRIORITIES, kTlsPriorities,
      MHD_OPTION_END);
  start_messages = nullptr;
  if (!d.mhd) {
    close(fd);
    error = fmt::format("cannot serve {} on {}:{}{}", o.tls ? "HTTPS" : "HTTP", d.listener.address.str(), d.listener.port,
                        messages.empty() ? "" : ": " + messages);
    return false;
  }
  return true;
}

}  // namespace

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsServer::~HttpsServer() = default;

const std::vector<HttpsListener>& HttpsServer::listeners() const { return impl_->options.listeners; }

std::unique_ptr<HttpsServer> HttpsServer::start(const HttpsServerOptions& options, HttpHandler handler,
                                                std::string& error) {
  if (options.tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
    error = "libmicrohttpd was built without TLS";
    return nullptr;
  }
  if (options.listeners.empty()) {
    error = "no address to listen on";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->daemons.resize(options.listeners.size());
  for (size_t i = 0; i < options.listeners.size(); ++i) {
    impl->daemons[i].server = impl.get();
  }
  // A thread of its own enters the namespace: the caller's thread stays where it is.
  bool ok = true;
  std::thread starter([&] {
    ok = enter_namespace(options.network_namespace, error);
    for (size_t i = 0; ok && i < impl->daemons.size(); ++i) {
      ok = start_daemon(impl->daemons[i], impl->options.listeners[i], impl->options, error);
    }
  });
  starter.join();
  if (!ok) return nullptr;  // ~Impl stops the daemons that did start
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

}  // namespace bulwark::control
