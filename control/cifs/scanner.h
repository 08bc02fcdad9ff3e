// Walks a share in canonical order (database.h) and hashes the files the patterns include.
//
// Memory is bounded by one directory listing per level of depth, not by the size of the share.
// Directories the patterns exclude entirely are not opened. Whatever cannot be listed or read is
// reported as a traversal error with its errno and the operation that failed, as the manual's
// reports show (`DIR_TRAVERSAL_ERR errno=13 syscall=readdir …`).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "control/cifs/database.h"
#include "control/cifs/patterns.h"
#include "control/cifs/smb_share.h"

namespace bulwark::control::cifs {

struct TraversalError {
  std::string path;
  int error = 0;
  std::string syscall;  // readdir, open or read
  char type = 'd';      // 'd' directory, 'f' file
};

struct ScanProgress {
  std::atomic<uint64_t> files{0};  // files found so far (and hashed, when hashing)
  std::atomic<uint64_t> total{0};  // expected number, when known (from the reference database)
  std::atomic<uint64_t> bytes{0};
};

struct ScanCallbacks {
  std::function<void(const FileRecord&)> file;
  std::function<void(const TraversalError&)> error;
};

class Scanner {
 public:
  // kOpen opens each included file and reads its first block (the access check); kHash hashes it.
  enum class Mode { kOpen, kHash };
  Scanner(SmbShare& share, const FilenamePatterns& patterns, Mode mode, const std::atomic<bool>& cancel,
          ScanProgress& progress)
      : share_(share), patterns_(patterns), mode_(mode), cancel_(cancel), progress_(progress) {}

  // Returns false when cancelled.
  bool run(const ScanCallbacks& callbacks);

 private:
  SmbShare& share_;
  const FilenamePatterns& patterns_;
  Mode mode_;
  const std::atomic<bool>& cancel_;
  ScanProgress& progress_;
  void visit(const std::string& dir, const ScanCallbacks& callbacks);
};

}  // namespace bulwark::control::cifs
