#include "control/cifs/scanner.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

namespace bulwark::control::cifs {
namespace {

struct DigestFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string hex(const unsigned char* data, unsigned size) {
  std::string out;
  out.reserve(size * 2);
  for (unsigned i = 0; i < size; ++i) out += fmt::format("{:02x}", data[i]);
  return out;
}

}  // namespace

bool Scanner::run(const ScanCallbacks& callbacks) {
  visit("", callbacks);
  return !cancel_;
}

void Scanner::visit(const std::string& dir, const ScanCallbacks& callbacks) {
  std::vector<DirEntry> entries;
  if (int error = share_.list(dir, entries)) {
    callbacks.error({dir.empty() ? "." : dir, error, "readdir", 'd'});
    return;
  }
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  std::unique_ptr<EVP_MD_CTX, DigestFree> digest(EVP_MD_CTX_new());
  for (const auto& entry : entries) {
    if (cancel_) return;
    std::string path = dir.empty() ? entry.name : dir + "/" + entry.name;
    if (entry.directory) {
      if (!patterns_.excludes_directory(path)) visit(path, callbacks);
      continue;
    }
    if (!patterns_.includes_file(path)) continue;
    FileRecord record{path, entry.size, entry.mtime, {}};
    if (mode_ == Mode::kOpen) {
      std::atomic<bool> first_block_read{false};
      int error = share_.read(path, [&](std::string_view) { first_block_read = true; }, first_block_read);
      if (cancel_) return;
      if (error && error != ECANCELED) {
        callbacks.error({path, error, "open", 'f'});
        continue;
      }
    } else {
      EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr);
      uint64_t bytes = 0;
      int error = share_.read(path, [&](std::string_view chunk) {
        EVP_DigestUpdate(digest.get(), chunk.data(), chunk.size());
        bytes += chunk.size();
      }, cancel_);
      if (cancel_) return;
      if (error) {
        callbacks.error({path, error, bytes ? "read" : "open", 'f'});
        continue;
      }
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned size = 0;
      EVP_DigestFinal_ex(digest.get(), md, &size);
      record.hash = hex(md, size);
      record.size = bytes;  // what was hashed, even if the file changed since the listing
      progress_.bytes += bytes;
    }
    ++progress_.files;
    callbacks.file(record);
  }
}

}  // namespace bulwark::control::cifs
