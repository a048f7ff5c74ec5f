#include "exporters/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace redline::prom {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// An encrypted key must fail, not prompt on the terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The most recent OpenSSL error of this thread, then a clean queue.
std::string OpenSslReason() {
  const unsigned long e = ERR_peek_last_error();
  std::string r;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    r = reason != nullptr ? reason : absl::StrCat("error ", e);
  }
  ERR_clear_error();
  return r.empty() ? "unknown OpenSSL error" : r;
}

absl::Status Err(const WebFile& f, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(
      f.where, ": ", f.path, ": ", msg, " (", OpenSslReason(), ")"));
}

BioPtr Bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr NextCert(BIO* bio) {
  return X509Ptr(PEM_read_bio_X509(bio, nullptr, NoPassphrase, nullptr));
}

absl::Status UseChain(const WebFile& f, SSL_CTX* ctx) {
  BioPtr bio = Bio(f.contents);
  X509Ptr leaf = NextCert(bio.get());
  if (!leaf) return Err(f, "no PEM certificate");
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return Err(f, "certificate not usable");
  }
  // Intermediates follow the leaf, as in SSL_CTX_use_certificate_chain_file.
  while (X509Ptr next = NextCert(bio.get())) {
    if (SSL_CTX_add1_chain_cert(ctx, next.get()) != 1) {
      return Err(f, "chain certificate not usable");
    }
  }
  ERR_clear_error();  // the end of the PEM data
  return absl::OkStatus();
}

absl::Status UseKey(const WebFile& key, const WebFile& cert, SSL_CTX* ctx) {
  BioPtr bio = Bio(key.contents);
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) return Err(key, "no unencrypted PEM private key");
  if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return Err(key,
               absl::StrCat("does not match the certificate of ", cert.path));
  }
  return absl::OkStatus();
}

absl::Status UseClientCa(const WebFile& f, SSL_CTX* ctx) {
  BioPtr bio = Bio(f.contents);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int n = 0;
  while (X509Ptr ca = NextCert(bio.get())) {
    // Trusted for verifying clients, and named in the CertificateRequest.
    if (X509_STORE_add_cert(store, ca.get()) != 1 ||
        SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
      return Err(f, "CA certificate not usable");
    }
    ++n;
  }
  if (n == 0) return Err(f, "no PEM certificate");
  ERR_clear_error();
  return absl::OkStatus();
}

}  // namespace

absl::Status ConfigureServerTls(const TlsServerConfig& tls, SSL_CTX* ctx) {
  ERR_clear_error();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(ctx, tls.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls.max_version) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(tls.cert.where, ": cannot set the TLS versions (",
                     OpenSslReason(), ")"));
  }
  if (absl::Status s = UseChain(tls.cert, ctx); !s.ok()) return s;
  if (absl::Status s = UseKey(tls.key, tls.cert, ctx); !s.ok()) return s;
  int mode = SSL_VERIFY_NONE;
  if (tls.client_auth != ClientAuth::kNone) {
    if (absl::Status s = UseClientCa(tls.client_ca, ctx); !s.ok()) return s;
    mode = SSL_VERIFY_PEER;
    if (tls.client_auth == ClientAuth::kRequireAndVerify) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    // Resuming a session of a verified client needs an id context.
    static constexpr unsigned char kId[] = "redline";
    SSL_CTX_set_session_id_context(ctx, kId, sizeof(kId) - 1);
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return absl::OkStatus();
}

absl::Status CheckServerTls(const TlsServerConfig& tls) {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(
      SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    return absl::InternalError(
        absl::StrCat("cannot create a TLS context (", OpenSslReason(), ")"));
  }
  return ConfigureServerTls(tls, ctx.get());
}

}  // namespace redline::prom
