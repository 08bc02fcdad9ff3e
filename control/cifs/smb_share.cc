#include "control/cifs/smb_share.h"

#include <fcntl.h>
#include <libsmbclient.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace bulwark::control::cifs {
namespace {

constexpr size_t kChunk = 256 * 1024;
constexpr int kTimeoutMs = 15000;

void copy_field(char* out, int size, const std::string& value) {
  if (size <= 0) return;
  std::snprintf(out, static_cast<size_t>(size), "%s", value.c_str());
}

void authenticate(SMBCCTX* ctx, const char*, const char*, char* workgroup, int workgroup_size,
                  char* username, int username_size, char* password, int password_size) {
  auto* access = static_cast<const ShareAccess*>(smbc_getOptionUserData(ctx));
  if (!access->domain.empty()) copy_field(workgroup, workgroup_size, access->domain);
  copy_field(username, username_size, access->username);
  copy_field(password, password_size, access->password);
}

std::string encode(const std::string& name) {
  std::vector<char> out(name.size() * 3 + 1);
  std::string in = name;
  smbc_urlencode(out.data(), in.data(), static_cast<int>(out.size()));
  return out.data();
}

}  // namespace

std::string ShareAccess::display() const {
  return port == 445 ? fmt::format("//{}/{}", server, share) : fmt::format("//{}:{}/{}", server, port, share);
}

struct SmbShare::Context {
  SMBCCTX* ctx = nullptr;
};

SmbShare::SmbShare(ShareAccess access) : access_(std::move(access)), context_(new Context) {
  SMBCCTX* ctx = smbc_new_context();
  if (!ctx) return;
  smbc_setDebug(ctx, 0);
  smbc_setOptionUserData(ctx, &access_);
  smbc_setFunctionAuthDataWithContext(ctx, authenticate);
  smbc_setOptionUseKerberos(ctx, 0);
  smbc_setOptionFallbackAfterKerberos(ctx, 1);
  smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
  smbc_setTimeout(ctx, kTimeoutMs);
  smbc_setPort(ctx, access_.port);
  // SMB2 and later only: SMB1 is switched off on every Windows since 10 and in Samba's defaults,
  // and pinning it here keeps the host's smb.conf from changing what the box speaks.
  smbc_setOptionProtocols(ctx, "SMB2_02", "SMB3");
  if (!smbc_init_context(ctx)) {
    smbc_free_context(ctx, 1);
    return;
  }
  context_->ctx = ctx;
}

SmbShare::~SmbShare() {
  if (context_->ctx) smbc_free_context(context_->ctx, 1);
}

std::string SmbShare::url(const std::string& path) const {
  std::string url = fmt::format("smb://{}:{}/{}", access_.server, access_.port, encode(access_.share));
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) url += "/" + encode(path.substr(start, end - start));
    start = end + 1;
  }
  return url;
}

int SmbShare::probe() {
  std::vector<DirEntry> entries;
  return list("", entries);
}

int SmbShare::list(const std::string& dir, std::vector<DirEntry>& out) {
  out.clear();
  if (!context_->ctx) return ENOMEM;
  SMBCCTX* ctx = context_->ctx;
  errno = 0;
  SMBCFILE* handle = smbc_getFunctionOpendir(ctx)(ctx, url(dir).c_str());
  if (!handle) return errno ? errno : EIO;
  while (true) {
    struct stat st {};
    errno = 0;
    const struct libsmb_file_info* info = smbc_getFunctionReaddirPlus2(ctx)(ctx, handle, &st);
    if (!info) break;
    std::string name = info->name ? info->name : "";
    if (name.empty() || name == "." || name == "..") continue;
    out.push_back({name, S_ISDIR(st.st_mode), info->size, static_cast<int64_t>(info->mtime_ts.tv_sec)});
  }
  int error = errno;
  smbc_getFunctionClosedir(ctx)(ctx, handle);
  return error == ENOENT ? 0 : error;  // readdir ends with ENOENT on some servers
}

int SmbShare::read(const std::string& path, const std::function<void(std::string_view)>& sink,
                   const std::atomic<bool>& cancel) {
  if (!context_->ctx) return ENOMEM;
  SMBCCTX* ctx = context_->ctx;
  errno = 0;
  SMBCFILE* file = smbc_getFunctionOpen(ctx)(ctx, url(path).c_str(), O_RDONLY, 0);
  if (!file) return errno ? errno : EIO;
  std::vector<char> buffer(kChunk);
  int error = 0;
  while (true) {
    if (cancel) {
      error = ECANCELED;
      break;
    }
    ssize_t n = smbc_getFunctionRead(ctx)(ctx, file, buffer.data(), buffer.size());
    if (n < 0) {
      error = errno ? errno : EIO;
      break;
    }
    if (n == 0) break;
    sink(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  smbc_getFunctionClose(ctx)(ctx, file);
  return error;
}

int SmbShare::upload(const std::string& local_file, const std::string& path) {
  if (!context_->ctx) return ENOMEM;
  std::FILE* in = std::fopen(local_file.c_str(), "rb");
  if (!in) return errno;
  SMBCCTX* ctx = context_->ctx;
  errno = 0;
  SMBCFILE* file = smbc_getFunctionCreat(ctx)(ctx, url(path).c_str(), 0644);
  if (!file) {
    int error = errno ? errno : EIO;
    std::fclose(in);
    return error;
  }
  std::vector<char> buffer(kChunk);
  int error = 0;
  size_t n;
  while (!error && (n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0) {
    size_t done = 0;
    while (done < n) {
      ssize_t w = smbc_getFunctionWrite(ctx)(ctx, file, buffer.data() + done, n - done);
      if (w <= 0) {
        error = errno ? errno : EIO;
        break;
      }
      done += static_cast<size_t>(w);
    }
  }
  if (std::ferror(in) && !error) error = EIO;
  std::fclose(in);
  if (smbc_getFunctionClose(ctx)(ctx, file) != 0 && !error) error = errno ? errno : EIO;
  return error;
}

int SmbShare::download(const std::string& path, const std::string& local_file) {
  std::FILE* out = std::fopen(local_file.c_str(), "wb");
  if (!out) return errno;
  std::atomic<bool> never{false};
  bool write_failed = false;
  int error = read(path, [&](std::string_view chunk) {
    write_failed |= std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size();
  }, never);
  if (std::fclose(out) != 0) write_failed = true;
  if (!error && write_failed) error = EIO;
  return error;
}

int SmbShare::remove(const std::string& path) {
  if (!context_->ctx) return ENOMEM;
  errno = 0;
  if (smbc_getFunctionUnlink(context_->ctx)(context_->ctx, url(path).c_str()) == 0) return 0;
  return errno == ENOENT ? 0 : (errno ? errno : EIO);
}

int SmbShare::make_directory(const std::string& path) {
  if (!context_->ctx) return ENOMEM;
  errno = 0;
  if (smbc_getFunctionMkdir(context_->ctx)(context_->ctx, url(path).c_str(), 0755) == 0) return 0;
  return errno == EEXIST ? 0 : (errno ? errno : EIO);
}

}  // namespace bulwark::control::cifs
