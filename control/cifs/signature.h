// Signatures of integrity databases and reports (manual 16.4): made with the private key of the
// integrity certificate (a machine certificate imported from PKCS#12) and checked against that
// certificate's public key — never against a certificate shipped with the signed file, which an
// intruder could replace along with the file.
//
// A signed file FILE gets a detached signature FILE.sig, a few text lines:
//   bulwark-signature 1
//   digest sha256
//   certificate-sha256 <fingerprint of the signing certificate>
//   subject <the certificate's subject>
//   signature <base64>
// Files are signed and verified as streams, so size does not matter.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace bulwark::control::cifs {

struct OpensslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

// A certificate and, for signing, its private key.
class IntegrityKey {
 public:
  static std::optional<IntegrityKey> from_pkcs12(const std::string& path, const std::string& password,
                                                 std::string& error);
  // Public part only (PEM certificate): can verify, cannot sign.
  static std::optional<IntegrityKey> from_certificate(const std::string& pem_path, std::string& error);

  bool can_sign() const { return private_key_ != nullptr; }
  const std::string& fingerprint() const { return fingerprint_; }
  const std::string& subject() const { return subject_; }
  EVP_PKEY* private_key() const { return private_key_.get(); }
  EVP_PKEY* public_key() const;

 private:
  std::shared_ptr<EVP_PKEY> private_key_;
  std::shared_ptr<X509> certificate_;
  std::string fingerprint_;
  std::string subject_;
  void describe();
};

// Signs a stream fed piece by piece.
class StreamSigner {
 public:
  explicit StreamSigner(const IntegrityKey& key);
  void update(std::string_view data);
  // The contents of the .sig file; empty with `error` when signing failed.
  std::string finish(std::string& error);

 private:
  const IntegrityKey& key_;
  std::unique_ptr<EVP_MD_CTX, OpensslFree> ctx_;
  bool ok_ = true;
};

// Verifies FILE against the signature text (the .sig file's contents). On failure `error` says
// why: unreadable, no or malformed signature, signed by another certificate, or altered.
bool verify_file(const std::string& path, const std::string& signature_text, const IntegrityKey& key,
                 std::string& error);

// Signs FILE and writes FILE.sig next to it.
bool sign_file(const std::string& path, const IntegrityKey& key, std::string& error);

std::string read_text_file(const std::string& path, std::string& error);

}  // namespace bulwark::control::cifs
