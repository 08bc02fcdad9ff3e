// One imported share opened over SMB with libsmbclient — no mount, no kernel CIFS client.
//
// Each SmbShare owns its own libsmbclient context (contexts must not be shared between threads).
// Paths are relative to the share's root with '/' between names; every name is URL-encoded into
// the smb:// URL, so names with spaces, '%', '#' or non-ASCII letters work. Functions return 0 or
// the errno libsmbclient reports (EACCES for a denied directory or a wrong password, ENOENT,
// ECONNREFUSED for a server that does not listen, ETIMEDOUT).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::control::cifs {

struct ShareAccess {
  std::string server;
  uint16_t port = 445;
  std::string share;
  std::string username;
  std::string password;
  std::string domain;
  std::string display() const;  // //server[:port]/share, for logs and reports
};

struct DirEntry {
  std::string name;
  bool directory = false;
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch
};

class SmbShare {
 public:
  explicit SmbShare(ShareAccess access);
  ~SmbShare();
  SmbShare(const SmbShare&) = delete;
  SmbShare& operator=(const SmbShare&) = delete;

  // Opens the share's root: 0 when it can be listed.
  int probe();
  int list(const std::string& dir, std::vector<DirEntry>& out);
  // Streams a file to `sink` in 256 KiB pieces; ECANCELED when `cancel` becomes true.
  int read(const std::string& path, const std::function<void(std::string_view)>& sink,
           const std::atomic<bool>& cancel);
  int upload(const std::string& local_file, const std::string& path);
  int download(const std::string& path, const std::string& local_file);
  int remove(const std::string& path);  // ENOENT counts as success
  int make_directory(const std::string& path);  // EEXIST counts as success

  const ShareAccess& access() const { return access_; }

 private:
  ShareAccess access_;
  struct Context;
  std::unique_ptr<Context> context_;
  std::string url(const std::string& path) const;
};

}  // namespace bulwark::control::cifs
