#include "control/cifs/signature.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace bulwark::control::cifs {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::vector<unsigned char>> unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = (text.end()[-1] == '=') + (text.end()[-2] == '=');
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// The value of "key value" in the signature text, or empty.
std::string field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

template <typename Fn>
bool for_each_chunk(const std::string& path, std::string& error, Fn&& fn) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return false;
  }
  std::vector<char> buffer(256 * 1024);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file)) > 0) fn(std::string_view(buffer.data(), n));
  bool ok = !std::ferror(file);
  std::fclose(file);
  if (!ok) error = fmt::format("cannot read {}", path);
  return ok;
}

}  // namespace

void IntegrityKey::describe() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(certificate_.get(), EVP_sha256(), digest, &size);
  fingerprint_.clear();
  for (unsigned i = 0; i < size; ++i) fingerprint_ += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(certificate_.get()), subject, sizeof subject);
  subject_ = subject;
}

EVP_PKEY* IntegrityKey::public_key() const { return X509_get0_pubkey(certificate_.get()); }

std::optional<IntegrityKey> IntegrityKey::from_pkcs12(const std::string& path, const std::string& password,
                                                      std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  PKCS12* p12 = d2i_PKCS12_fp(file, nullptr);
  std::fclose(file);
  if (!p12) {
    error = fmt::format("{} is not a PKCS#12 file: {}", path, openssl_error());
    return std::nullopt;
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  int ok = PKCS12_parse(p12, password.c_str(), &key, &cert, nullptr);
  PKCS12_free(p12);
  if (!ok || !key || !cert) {
    EVP_PKEY_free(key);
    X509_free(cert);
    ERR_clear_error();
    error = fmt::format("cannot open {}: wrong password, or no key and certificate in it", path);
    return std::nullopt;
  }
  IntegrityKey k;
  k.private_key_.reset(key, OpensslFree{});
  k.certificate_.reset(cert, OpensslFree{});
  int type = EVP_PKEY_get_base_id(key);
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
    error = fmt::format("{}: only RSA and ECDSA keys can sign integrity databases", path);
    return std::nullopt;
  }
  k.describe();
  return k;
}

std::optional<IntegrityKey> IntegrityKey::from_certificate(const std::string& pem_path, std::string& error) {
  std::FILE* file = std::fopen(pem_path.c_str(), "r");
  if (!file) {
    error = fmt::format("cannot read {}: {}", pem_path, std::strerror(errno));
    return std::nullopt;
  }
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (!cert) {
    error = fmt::format("{} holds no PEM certificate: {}", pem_path, openssl_error());
    return std::nullopt;
  }
  IntegrityKey k;
  k.certificate_.reset(cert, OpensslFree{});
  k.describe();
  return k;
}

StreamSigner::StreamSigner(const IntegrityKey& key) : key_(key), ctx_(EVP_MD_CTX_new()) {
  ok_ = ctx_ && key.can_sign() &&
        EVP_DigestSignInit(ctx_.get(), nullptr, EVP_sha256(), nullptr, key.private_key()) == 1;
}

void StreamSigner::update(std::string_view data) {
  if (ok_) ok_ = EVP_DigestSignUpdate(ctx_.get(), data.data(), data.size()) == 1;
}

std::string StreamSigner::finish(std::string& error) {
  size_t size = 0;
  if (!ok_ || EVP_DigestSignFinal(ctx_.get(), nullptr, &size) != 1) {
    error = key_.can_sign() ? "signing failed: " + openssl_error() : "the certificate has no private key";
    return {};
  }
  std::vector<unsigned char> signature(size);
  if (EVP_DigestSignFinal(ctx_.get(), signature.data(), &size) != 1) {
    error = "signing failed: " + openssl_error();
    return {};
  }
  return fmt::format("bulwark-signature 1\ndigest sha256\ncertificate-sha256 {}\nsubject {}\nsignature {}\n",
                     key_.fingerprint(), key_.subject(), base64(signature.data(), size));
}

bool verify_file(const std::string& path, const std::string& signature_text, const IntegrityKey& key,
                 std::string& error) {
  if (signature_text.rfind("bulwark-signature 1\n", 0) != 0 || field(signature_text, "digest") != "sha256") {
    error = "the signature file is missing or malformed";
    return false;
  }
  std::string signer = field(signature_text, "certificate-sha256");
  if (signer != key.fingerprint()) {
    error = fmt::format("signed by another certificate ({}), not by the integrity certificate ({})",
                        signer.empty() ? "unknown" : signer, key.fingerprint());
    return false;
  }
  auto signature = unbase64(field(signature_text, "signature"));
  if (!signature) {
    error = "the signature file is malformed";
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, OpensslFree> ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.public_key()) != 1) {
    error = "cannot verify: " + openssl_error();
    return false;
  }
  if (!for_each_chunk(path, error, [&](std::string_view chunk) {
        EVP_DigestVerifyUpdate(ctx.get(), chunk.data(), chunk.size());
      })) {
    return false;
  }
  if (EVP_DigestVerifyFinal(ctx.get(), signature->data(), signature->size()) != 1) {
    ERR_clear_error();
    error = "the signature does not match the contents: the file was altered";
    return false;
  }
  return true;
}

bool sign_file(const std::string& path, const IntegrityKey& key, std::string& error) {
  StreamSigner signer(key);
  if (!for_each_chunk(path, error, [&](std::string_view chunk) { signer.update(chunk); })) return false;
  std::string text = signer.finish(error);
  if (text.empty()) return false;
  std::ofstream out(path + ".sig", std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    error = fmt::format("cannot write {}.sig: {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

std::string read_text_file(const std::string& path, std::string& error) {
  std::string text;
  if (!for_each_chunk(path, error, [&](std::string_view chunk) { text.append(chunk); })) return {};
  return text;
}

}  // namespace bulwark::control::cifs
