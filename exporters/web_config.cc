#include "exporters/web_config.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporters/basic_auth.h"
#include "exporters/one_line.h"
#include "exporters/status_macros.h"
#include "exporters/tls_context.h"

namespace redline::prom {
namespace {

using Keys = std::set<std::string>;

constexpr size_t kMaxFileBytes = 1 << 20;  // PEM files are a few KB

// The toolkit's fields that redline does not implement, and why.
const std::map<std::string, std::string>& Unsupported() {
  static const auto* m = new std::map<std::string, std::string>{
      {"rate_limit", "not supported by redline"},
      {"cert", "inline PEM is not supported by redline; use cert_file"},
      {"key", "inline PEM is not supported by redline; use key_file"},
      {"client_ca",
       "inline PEM is not supported by redline; use client_ca_file"},
      {"cipher_suites",
       "not supported by redline (OpenSSL's default ciphers apply)"},
      {"prefer_server_cipher_suites",
       "not supported by redline (OpenSSL's default ciphers apply)"},
      {"curve_preferences",
       "not supported by redline (OpenSSL's default groups apply)"},
      {"client_allowed_sans", "not supported by redline"},
  };
  return *m;
}

// The headers the exporter-toolkit lets a config add, with their allowed
// values when those are an enumeration.
const std::map<std::string, std::vector<std::string>>& Headers() {
  static const auto* m = new std::map<std::string, std::vector<std::string>>{
      {"Content-Security-Policy", {}},
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
  };
  return *m;
}

std::string Dir(const std::string& file) {
  const size_t slash = file.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : file.substr(0, slash);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string out;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 && out.size() <= kMaxFileBytes) {
    out.append(buf, static_cast<size_t>(n));
  }
  const int err = errno;
  close(fd);
  if (n < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(err)));
  }
  if (out.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", kMaxFileBytes, " bytes"));
  }
  return out;
}

// Errors point at the node: "file:line:col: field.path: message".
class Parser {
 public:
  explicit Parser(std::string filename)
      : file_(std::move(filename)), dir_(Dir(file_)) {}

  absl::StatusOr<WebConfig> Config(const YAML::Node& root) const;

 private:
  std::string Where(const YAML::Node& n, const std::string& field) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) return absl::StrCat(file_, ": ", field);
    return absl::StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", field);
  }

  absl::Status Err(const YAML::Node& n, const std::string& field,
                   absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat(Where(n, field), ": ", msg));
  }

  // Rejects keys outside `allowed` (and repeated keys): a typo must not
  // silently leave the endpoint open.
  absl::Status CheckKeys(const YAML::Node& map, const std::string& field,
                         const Keys& allowed) const {
    if (!map.IsMap()) return Err(map, field, "want a mapping");
    Keys seen;
    for (const auto& kv : map) {
      const std::string k = kv.first.Scalar();
      const std::string f = field.empty() ? k : absl::StrCat(field, ".", k);
      if (!allowed.count(k)) {
        const auto u = Unsupported().find(k);
        if (u != Unsupported().end()) return Err(kv.first, f, u->second);
        return Err(kv.first, f,
                   absl::StrCat("unknown key (want one of: ",
                                absl::StrJoin(allowed, ", "), ")"));
      }
      if (!seen.insert(k).second) return Err(kv.first, f, "repeated key");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Str(const YAML::Node& n,
                                  const std::string& field) const {
    if (!n.IsScalar() || n.Scalar().empty()) {
      return Err(n, field, "want a non-empty string");
    }
    return n.Scalar();
  }

  absl::Status Tls(const YAML::Node& n, TlsServerConfig* tls) const;
  absl::Status Http(const YAML::Node& n, WebConfig* cfg) const;
  absl::Status Users(const YAML::Node& n, WebConfig* cfg) const;
  absl::Status File(const YAML::Node& n, const std::string& field,
                    WebFile* out) const;
  absl::StatusOr<int> Version(const YAML::Node& n,
                              const std::string& field) const;

  std::string file_;
  std::string dir_;
};

absl::StatusOr<WebConfig> Parser::Config(const YAML::Node& root) const {
  WebConfig cfg;
  cfg.file = file_;
  // An empty file is valid, as for the toolkit: plain HTTP, no auth.
  if (!root.IsDefined() || root.IsNull()) return cfg;
  RETURN_IF_ERROR(CheckKeys(
      root, "",
      {"tls_server_config", "http_server_config", "basic_auth_users"}));
  if (const YAML::Node t = root["tls_server_config"]; t && !t.IsNull()) {
    RETURN_IF_ERROR(Tls(t, &cfg.tls));
  }
  if (const YAML::Node h = root["http_server_config"]; h && !h.IsNull()) {
    RETURN_IF_ERROR(Http(h, &cfg));
  }
  if (const YAML::Node u = root["basic_auth_users"]; u && !u.IsNull()) {
    RETURN_IF_ERROR(Users(u, &cfg));
  }
  if (cfg.tls.enabled) RETURN_IF_ERROR(CheckServerTls(cfg.tls));
  return cfg;
}

absl::Status Parser::Tls(const YAML::Node& n, TlsServerConfig* tls) const {
  const std::string f = "tls_server_config";
  RETURN_IF_ERROR(CheckKeys(n, f,
                            {"cert_file", "key_file", "client_auth_type",
                             "client_ca_file", "min_version", "max_version"}));
  if (!n["cert_file"] || !n["key_file"]) {
    return Err(n, f, "cert_file and key_file are both required");
  }
  // Every field is checked before any file is read.
  ASSIGN_OR_RETURN(tls->cert.path, Str(n["cert_file"], f + ".cert_file"));
  ASSIGN_OR_RETURN(tls->key.path, Str(n["key_file"], f + ".key_file"));
  if (const YAML::Node a = n["client_auth_type"]) {
    ASSIGN_OR_RETURN(std::string v, Str(a, f + ".client_auth_type"));
    if (v == "NoClientCert") {
      tls->client_auth = ClientAuth::kNone;
    } else if (v == "VerifyClientCertIfGiven") {
      tls->client_auth = ClientAuth::kVerifyIfGiven;
    } else if (v == "RequireAndVerifyClientCert") {
      tls->client_auth = ClientAuth::kRequireAndVerify;
    } else if (v == "RequestClientCert" || v == "RequireAnyClientCert" ||
               v == "RequireClientCert") {
      return Err(a, f + ".client_auth_type",
                 absl::StrCat(v,
                              " is not supported by redline: it accepts "
                              "certificates nobody verified (use "
                              "RequireAndVerifyClientCert)"));
    } else {
      return Err(a, f + ".client_auth_type",
                 absl::StrCat("unknown value \"", v,
                              "\" (want NoClientCert, VerifyClientCertIfGiven "
                              "or RequireAndVerifyClientCert)"));
    }
  }
  const YAML::Node ca = n["client_ca_file"];
  if (ca) {
    ASSIGN_OR_RETURN(tls->client_ca.path, Str(ca, f + ".client_ca_file"));
    if (tls->client_auth == ClientAuth::kNone) {
      return Err(ca, f + ".client_ca_file",
                 "set, but client_auth_type is NoClientCert (want "
                 "RequireAndVerifyClientCert)");
    }
  } else if (tls->client_auth != ClientAuth::kNone) {
    return Err(n["client_auth_type"], f + ".client_auth_type",
               "needs client_ca_file, the CA that signs client certificates");
  }
  if (const YAML::Node v = n["min_version"]) {
    ASSIGN_OR_RETURN(tls->min_version, Version(v, f + ".min_version"));
  }
  if (const YAML::Node v = n["max_version"]) {
    ASSIGN_OR_RETURN(tls->max_version, Version(v, f + ".max_version"));
  }
  if (tls->max_version < tls->min_version) {
    return Err(n["max_version"], f + ".max_version", "is below min_version");
  }
  RETURN_IF_ERROR(File(n["cert_file"], f + ".cert_file", &tls->cert));
  RETURN_IF_ERROR(File(n["key_file"], f + ".key_file", &tls->key));
  if (ca) RETURN_IF_ERROR(File(ca, f + ".client_ca_file", &tls->client_ca));
  tls->enabled = true;
  return absl::OkStatus();
}

absl::StatusOr<int> Parser::Version(const YAML::Node& n,
                                    const std::string& field) const {
  ASSIGN_OR_RETURN(std::string v, Str(n, field));
  if (v == "TLS12") return kTls12;
  if (v == "TLS13") return kTls13;
  if (v == "TLS10" || v == "TLS11") {
    return Err(n, field,
               absl::StrCat(v,
                            " is not supported: OpenSSL's default security "
                            "level refuses TLS before 1.2 (want TLS12 or "
                            "TLS13)"));
  }
  return Err(
      n, field,
      absl::StrCat("unknown TLS version \"", v, "\" (want TLS12 or TLS13)"));
}

absl::Status Parser::File(const YAML::Node& n, const std::string& field,
                          WebFile* out) const {
  if (!dir_.empty() && !out->path.empty() && out->path[0] != '/') {
    out->path = absl::StrCat(dir_, "/", out->path);
  }
  out->where = Where(n, field);
  auto text = ReadFile(out->path);
  if (!text.ok()) return Err(n, field, text.status().message());
  if (text->empty()) {
    return Err(n, field, absl::StrCat(out->path, " is empty"));
  }
  out->contents = std::move(*text);
  return absl::OkStatus();
}

absl::Status Parser::Http(const YAML::Node& n, WebConfig* cfg) const {
  const std::string f = "http_server_config";
  RETURN_IF_ERROR(CheckKeys(n, f, {"headers", "http2"}));
  if (const YAML::Node h2 = n["http2"]) {
    if (!h2.IsScalar() || (h2.Scalar() != "true" && h2.Scalar() != "false")) {
      return Err(h2, f + ".http2", "want true or false");
    }
    if (h2.Scalar() == "true") {
      return Err(h2, f + ".http2",
                 "HTTP/2 is not supported by redline, which serves "
                 "HTTP/1.1 (set false or remove it)");
    }
  }
  const YAML::Node headers = n["headers"];
  if (!headers || headers.IsNull()) return absl::OkStatus();
  std::vector<std::string> names;
  for (const auto& [name, values] : Headers()) names.push_back(name);
  if (!headers.IsMap()) return Err(headers, f + ".headers", "want a mapping");
  for (const auto& kv : headers) {
    const std::string name = kv.first.Scalar();
    const std::string hf = absl::StrCat(f, ".headers.", name);
    const auto it = Headers().find(name);
    if (it == Headers().end()) {
      return Err(kv.first, hf,
                 absl::StrCat("header cannot be configured (want one of: ",
                              absl::StrJoin(names, ", "), ")"));
    }
    if (!kv.second.IsScalar() && !kv.second.IsNull()) {
      return Err(kv.second, hf, "want a string");
    }
    const std::string value = kv.second.IsNull() ? "" : kv.second.Scalar();
    if (value.find_first_of("\r\n", 0) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return Err(kv.second, hf, "line breaks are not allowed in a header");
    }
    if (value.empty()) continue;  // "Unset if blank"
    const auto& want = it->second;
    if (!want.empty() &&
        std::find(want.begin(), want.end(), value) == want.end()) {
      return Err(kv.second, hf,
                 absl::StrCat("invalid value \"", value, "\" (want ",
                              absl::StrJoin(want, " or "), ")"));
    }
    for (const auto& [prev, unused] : cfg->headers) {
      if (prev == name) return Err(kv.first, hf, "repeated key");
    }
    cfg->headers.emplace_back(name, value);
  }
  return absl::OkStatus();
}

absl::Status Parser::Users(const YAML::Node& n, WebConfig* cfg) const {
  const std::string f = "basic_auth_users";
  if (!n.IsMap()) return Err(n, f, "want a mapping of user: bcrypt hash");
  for (const auto& kv : n) {
    const std::string user = kv.first.Scalar();
    const std::string uf = absl::StrCat(f, ".", user);
    if (user.empty() || user.find(':') != std::string::npos) {
      return Err(kv.first, uf, "want a user name without ':'");
    }
    if (!kv.second.IsScalar()) return Err(kv.second, uf, "want a bcrypt hash");
    if (absl::Status s = CheckBcryptHash(kv.second.Scalar()); !s.ok()) {
      return Err(kv.second, uf, s.message());
    }
    if (!cfg->users.emplace(user, kv.second.Scalar()).second) {
      return Err(kv.first, uf, "repeated user");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WebConfig> ParseWebConfig(const std::string& text,
                                         const std::string& filename) {
  Parser p(filename);
  absl::StatusOr<WebConfig> cfg;
  try {
    cfg = p.Config(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    cfg = absl::InvalidArgumentError(
        absl::StrCat(filename, ":", e.mark.line + 1, ":", e.mark.column + 1,
                     ": invalid YAML: ", e.msg));
  }
  if (!cfg.ok()) {
    return absl::Status(cfg.status().code(), OneLine(cfg.status().message()));
  }
  return cfg;
}

absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(
        text.status().code(),
        absl::StrCat("--web-config-file: ", text.status().message()));
  }
  return ParseWebConfig(*text, path);
}

}  // namespace redline::prom
