// The integrity database format (streamed, canonical order, truncation detected), its schedule
// arithmetic, and signatures made with a PKCS#12 key.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "control/cifs/database.h"
#include "control/cifs/schedule.h"
#include "control/cifs/signature.h"

using namespace bulwark::control::cifs;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/bulwark-cifs-unit-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
};

void write_database(const std::string& path, const std::vector<FileRecord>& files) {
  DatabaseHeader h;
  h.check = "programs";
  h.share = "//192.168.1.100/Programs";
  h.pattern_set = "executables";
  h.patterns = {{false, "pagefile.sys\\**\\*"}, {true, "**\\*.exe"}};
  h.created = "2026-11-27T04:17:00Z";
  h.generator = "bulwark test";
  DatabaseWriter w;
  std::string error;
  REQUIRE(w.open(path, h, error));
  for (const auto& f : files) w.add(f);
  REQUIRE(w.finish(error));
}

const std::string kHash(64, 'a');

}  // namespace

TEST_CASE("canonical order sorts by path component, as a depth-first walk visits", "[cifs][database]") {
  CHECK(path_before("a/b", "a.x"));  // plain string order would put "a.x" first
  CHECK(path_before("a", "a/b"));
  CHECK(path_before("A/z", "a"));
  CHECK_FALSE(path_before("b", "a/b"));
  CHECK_FALSE(path_before("x", "x"));
}

TEST_CASE("a database round-trips, paths with spaces, '%' and new lines included", "[cifs][database]") {
  TempDir dir;
  std::vector<FileRecord> files{{"Common Files/a b.exe", 10, 1700000000, kHash},
                                {"odd/100%\nname.exe", 0, -5, std::string(64, '0')},
                                {"Windows NT/Zubehör/paint.exe", 3000000, 1, kHash}};
  write_database(dir.file("db"), files);
  DatabaseReader r;
  std::string error;
  REQUIRE(r.open(dir.file("db"), error));
  CHECK(r.header().check == "programs");
  CHECK(r.header().algorithm == "sha256");
  CHECK(r.header().patterns.size() == 2);
  CHECK(r.header().patterns[0] == std::pair<bool, std::string>{false, "pagefile.sys\\**\\*"});
  FileRecord f;
  for (const auto& expected : files) {
    REQUIRE(r.next(f));
    CHECK(f.path == expected.path);
    CHECK(f.size == expected.size);
    CHECK(f.mtime == expected.mtime);
    CHECK(f.hash == expected.hash);
  }
  CHECK_FALSE(r.next(f));
  CHECK(r.error().empty());
  CHECK(r.declared_count() == 3u);
}

TEST_CASE("a truncated or garbled database is detected while reading", "[cifs][database]") {
  TempDir dir;
  write_database(dir.file("db"), {{"a.exe", 1, 1, kHash}, {"b.exe", 1, 1, kHash}});
  std::string text;
  {
    std::ifstream in(dir.file("db"));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  SECTION("without its end line") {
    std::ofstream(dir.file("db")) << text.substr(0, text.find("end "));
    DatabaseReader r;
    std::string error;
    REQUIRE(r.open(dir.file("db"), error));
    FileRecord f;
    while (r.next(f)) {}
    CHECK(r.error().find("truncated") != std::string::npos);
  }
  SECTION("with a line missing") {
    size_t line_end = text.find("a.exe\n") + 6;
    size_t line_start = text.rfind('\n', line_end - 2) + 1;
    std::string cut = text.substr(0, line_start) + text.substr(line_end);
    std::ofstream(dir.file("db")) << cut;
    DatabaseReader r;
    std::string error;
    REQUIRE(r.open(dir.file("db"), error));
    FileRecord f;
    while (r.next(f)) {}
    CHECK(!r.error().empty());
  }
  SECTION("not a database at all") {
    std::ofstream(dir.file("db")) << "hello\n";
    DatabaseReader r;
    std::string error;
    CHECK_FALSE(r.open(dir.file("db"), error));
    CHECK(error.find("not an integrity database") != std::string::npos);
  }
}

TEST_CASE("schedules: daily, weekly and interval", "[cifs][schedule]") {
  setenv("TZ", "UTC", 1);
  tzset();
  bulwark::config::Schedule s;
  std::time_t friday_0300 = 1795748400;  // Fri 2026-11-27 03:00:00 UTC
  s.kind = bulwark::config::Schedule::Kind::kDaily;
  s.hour = 4;
  s.minute = 17;
  CHECK(next_run(s, friday_0300) == friday_0300 + 77 * 60);
  CHECK(next_run(s, friday_0300 + 77 * 60) == friday_0300 + 77 * 60 + 86400);  // strictly after
  s.kind = bulwark::config::Schedule::Kind::kWeekly;
  s.weekday = 0;  // Monday
  CHECK(next_run(s, friday_0300) == friday_0300 + 3 * 86400 + 77 * 60);
  s.weekday = 4;  // Friday: today, still ahead
  CHECK(next_run(s, friday_0300) == friday_0300 + 77 * 60);
  s.kind = bulwark::config::Schedule::Kind::kInterval;
  s.interval = 600;
  CHECK(next_run(s, friday_0300) == friday_0300 + 600);
  s.kind = bulwark::config::Schedule::Kind::kManual;
  CHECK_FALSE(next_run(s, friday_0300));
}

TEST_CASE("files signed with a PKCS#12 key verify; altered ones and other keys do not", "[cifs][signature]") {
  TempDir dir;
  std::string key = dir.file("key.pem"), cert = dir.file("cert.pem"), p12 = dir.file("id.p12");
  std::string other = dir.file("other.pem"), other_key = dir.file("other-key.pem");
  std::string quiet = " 2>/dev/null";
  REQUIRE(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                       "-subj /CN=unit -keyout " + key + " -out " + cert + quiet).c_str()) == 0);
  REQUIRE(std::system(("openssl pkcs12 -export -inkey " + key + " -in " + cert + " -passout pass:s3cret -out " +
                       p12 + quiet).c_str()) == 0);
  REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout " +
                       other_key + " -out " + other + quiet).c_str()) == 0);
  std::string error;
  CHECK_FALSE(IntegrityKey::from_pkcs12(p12, "wrong", error));
  CHECK(error.find("wrong password") != std::string::npos);
  auto signing = IntegrityKey::from_pkcs12(p12, "s3cret", error);
  REQUIRE(signing);
  CHECK(signing->can_sign());
  auto verifying = IntegrityKey::from_certificate(cert, error);
  REQUIRE(verifying);
  CHECK_FALSE(verifying->can_sign());
  CHECK(verifying->fingerprint() == signing->fingerprint());

  std::string file = dir.file("report.txt");
  std::ofstream(file) << "START_OF_LOG x\nEND_OF_LOG\n";
  REQUIRE(sign_file(file, *signing, error));
  std::string signature = read_text_file(file + ".sig", error);
  CHECK(verify_file(file, signature, *verifying, error));

  auto stranger = IntegrityKey::from_certificate(other, error);
  REQUIRE(stranger);
  CHECK_FALSE(verify_file(file, signature, *stranger, error));
  CHECK(error.find("another certificate") != std::string::npos);

  std::ofstream(file, std::ios::app) << "extra\n";
  CHECK_FALSE(verify_file(file, signature, *verifying, error));
  CHECK(error.find("altered") != std::string::npos);
  CHECK_FALSE(verify_file(file, "garbage", *verifying, error));
  CHECK(error.find("malformed") != std::string::npos);
}
