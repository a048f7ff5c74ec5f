// OpenSSL server context from a web config's tls_server_config: certificate
// chain and key from the PEM read at load (no file is opened later, so a
// privilege drop after start does not matter), protocol bounds, client
// certificate verification.
#ifndef REDLINE_EXPORTERS_TLS_CONTEXT_H_
#define REDLINE_EXPORTERS_TLS_CONTEXT_H_

#include <openssl/types.h>

#include "absl/status/status.h"
#include "exporters/web_config.h"

namespace redline::prom {

// Sets up `ctx` (from SSL_CTX_new). Errors start with the WebFile::where of
// the file at fault and end with OpenSSL's reason.
absl::Status ConfigureServerTls(const TlsServerConfig& tls, SSL_CTX* ctx);

// ConfigureServerTls on a scratch context: for checking a config at load.
absl::Status CheckServerTls(const TlsServerConfig& tls);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_TLS_CONTEXT_H_
