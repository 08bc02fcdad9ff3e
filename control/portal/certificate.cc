// The box's HTTPS certificate (certificate.h), with OpenSSL: checks that a configured key
// belongs to its certificate, generates and keeps a self-signed one otherwise, and computes the
// SHA-256 fingerprint that `bulwark status` prints for pinning.
#include "control/portal/certificate.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "config/secrets.h"

namespace bulwark::control {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

constexpr long kValidDays = 3650;

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Owned<X509> parse_certificate(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Owned<X509>(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

Owned<EVP_PKEY> parse_key(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Owned<EVP_PKEY>(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string fingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(cert, EVP_sha256(), digest, &length);
  std::string out;
  for (unsigned i = 0; i < length; ++i) out += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
  return out;
}

// Both PEMs parse and belong together: the credentials with their fingerprint.
std::optional<ServerCredentials> check_pair(std::string cert_pem, std::string key_pem, const std::string& what,
                                            std::string& error) {
  Owned<X509> cert = parse_certificate(cert_pem);
  if (!cert) {
    error = what + ": the certificate is not a PEM X.509 certificate";
    return std::nullopt;
  }
  Owned<EVP_PKEY> key = parse_key(key_pem);
  if (!key) {
    error = what + ": the private key is not an unencrypted PEM private key";
    return std::nullopt;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    error = what + ": the private key does not belong to the certificate";
    return std::nullopt;
  }
  ServerCredentials c;
  c.fingerprint_sha256 = fingerprint(cert.get());
  c.certificate_pem = std::move(cert_pem);
  c.private_key_pem = std::move(key_pem);
  return c;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// A P-256 key and a ten-year self-signed server certificate for CN=bulwark, as PEM.
bool generate(std::string& cert_pem, std::string& key_pem, std::string& error) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Owned<X509> cert(X509_new());
  if (!key || !cert) {
    error = "cannot generate a key";
    return false;
  }
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidDays, 0, nullptr);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("bulwark"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  bool ok = add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
            add_extension(cert.get(), NID_ext_key_usage, "serverAuth") &&
            add_extension(cert.get(), NID_subject_alt_name, "DNS:bulwark") &&
            add_extension(cert.get(), NID_subject_key_identifier, "hash") &&
            X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) {
    error = "cannot sign the self-signed certificate";
    return false;
  }
  Owned<BIO> cert_bio(BIO_new(BIO_s_mem())), key_bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(cert_bio.get(), cert.get()) ||
      !PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    error = "cannot encode the self-signed certificate";
    return false;
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(cert_bio.get(), &data);
  cert_pem.assign(data, static_cast<size_t>(n));
  n = BIO_get_mem_data(key_bio.get(), &data);
  key_pem.assign(data, static_cast<size_t>(n));
  return true;
}

// Writes `text` to `path` through a temporary file created with `mode`, then renames it.
bool write_file(const std::string& path, const std::string& text, mode_t mode, std::string& error) {
  std::string tmp = path + ".tmp";
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<ServerCredentials> self_signed(const std::string& state_dir, std::string& error) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(state_dir) / "https";
  const std::string cert_path = dir / "certificate.pem", key_path = dir / "key.pem";
  std::error_code ec;
  if (fs::exists(cert_path, ec) && fs::exists(key_path, ec)) {
    auto cert = read_file(cert_path, error);
    auto key = cert ? read_file(key_path, error) : std::nullopt;
    if (!key) return std::nullopt;
    auto c = check_pair(*cert, *key, "the self-signed certificate in " + dir.string(), error);
    if (c) c->self_signed_generated = true;
    return c;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create {}: {}", dir.string(), ec.message());
    return std::nullopt;
  }
  chmod(dir.c_str(), 0700);
  std::string cert_pem, key_pem;
  if (!generate(cert_pem, key_pem, error)) return std::nullopt;
  // The key first: a certificate without its key would be kept and refused on every start.
  if (!write_file(key_path, key_pem, 0600, error) || !write_file(cert_path, cert_pem, 0644, error)) {
    return std::nullopt;
  }
  auto c = check_pair(std::move(cert_pem), std::move(key_pem), "the generated certificate", error);
  if (c) c->self_signed_generated = true;
  return c;
}

}  // namespace

std::optional<ServerCredentials> load_server_credentials(const config::ManagementTables& https,
                                                         const std::string& state_dir, std::string& error) {
  if (!https.certificate) return self_signed(state_dir, error);
  auto cert = read_file(*https.certificate, error);
  if (!cert) return std::nullopt;
  if (!https.private_key) {
    error = "management.https.certificate needs a private_key";
    return std::nullopt;
  }
  auto key = config::read_secret(*https.private_key, error);
  if (!key) return std::nullopt;
  return check_pair(*cert, *key, "management.https (" + *https.certificate + ")", error);
}

}  // namespace bulwark::control
