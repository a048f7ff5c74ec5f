// --web-config-file: TLS and basic auth for the metrics endpoint, in the
// Prometheus exporter-toolkit format (node_exporter's --web.config.file):
//
//   tls_server_config:
//     cert_file: server.crt     # PEM chain; relative to this file's directory
//     key_file: server.key      # PEM, unencrypted
//     client_auth_type: RequireAndVerifyClientCert  # default NoClientCert
//     client_ca_file: ca.crt    # required by the Verify* client_auth_types
//     min_version: TLS12        # TLS12 (default) or TLS13
//     max_version: TLS13        # TLS12 or TLS13 (default)
//   http_server_config:
//     headers:                  # the exporter-toolkit's five headers
//       Strict-Transport-Security: max-age=31536000
//   basic_auth_users:           # user: bcrypt hash
//     prometheus: $2y$10$...
//
// Errors name the file, line, column and field; unknown keys are errors, and
// so are the toolkit's fields redline does not implement (cipher_suites,
// inline cert/key, rate_limit, ...), rather than being silently ignored.
// Referenced files are read at load; restart the agent to rotate them.
#ifndef REDLINE_EXPORTERS_WEB_CONFIG_H_
#define REDLINE_EXPORTERS_WEB_CONFIG_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace redline::prom {

// Protocol versions as OpenSSL numbers them (TLS1_2_VERSION, TLS1_3_VERSION).
inline constexpr int kTls12 = 0x0303;
inline constexpr int kTls13 = 0x0304;

enum class ClientAuth {
  kNone,              // NoClientCert
  kVerifyIfGiven,     // VerifyClientCertIfGiven
  kRequireAndVerify,  // RequireAndVerifyClientCert
};

// A file the config names, read when it is loaded.
struct WebFile {
  std::string path;      // resolved against the config file's directory
  std::string where;     // "web.yml:3:14: tls_server_config.cert_file"
  std::string contents;  // empty when the field is absent
};

struct TlsServerConfig {
  bool enabled = false;  // cert_file and key_file given
  WebFile cert, key, client_ca;
  ClientAuth client_auth = ClientAuth::kNone;
  int min_version = kTls12;
  int max_version = kTls13;
};

struct WebConfig {
  std::string file;
  TlsServerConfig tls;
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> users;  // basic auth: user -> bcrypt
};

// Parses YAML text from `filename` (which prefixes every error and anchors
// relative paths), reads the files it names and checks the TLS material
// (certificate chain, key matching it, client CA) with OpenSSL.
absl::StatusOr<WebConfig> ParseWebConfig(const std::string& text,
                                         const std::string& filename);
absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path);

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_WEB_CONFIG_H_
