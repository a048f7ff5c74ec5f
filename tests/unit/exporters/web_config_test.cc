#include "exporters/web_config.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporters/basic_auth.h"
#include "gtest/gtest.h"
#include "tests/unit/exporters/web_fixtures.h"

namespace redline::prom {
namespace {

using web_fixtures::kAliceHash2y;
using web_fixtures::kBobHash2b;
using web_fixtures::kCarolHash2y;
using web_fixtures::kCertPem;
using web_fixtures::kGoHash2a;
using web_fixtures::kKeyPem;
using web_fixtures::kOtherKeyPem;
using Users = std::map<std::string, std::string>;

// A scratch directory holding web.yml and the files it names.
class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/webcfg.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Write("server.crt", kCertPem);
    Write("server.key", kKeyPem);
    Write("other.key", kOtherKeyPem);
  }
  void TearDown() override {
    ASSERT_EQ(system(absl::StrCat("rm -rf '", dir_, "'").c_str()), 0);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  absl::StatusOr<WebConfig> Load(const std::string& yaml) {
    Write("web.yml", yaml);
    return LoadWebConfig(dir_ + "/web.yml");
  }
  // The error for `yaml`, without the directory.
  std::string Error(const std::string& yaml) {
    auto c = Load(yaml);
    if (c.ok()) return "OK";
    std::string msg(c.status().message());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (size_t p; (p = msg.find(dir_ + "/")) != std::string::npos;) {
      msg.erase(p, dir_.size() + 1);
    }
    return msg;
  }

  std::string dir_;
};

constexpr char kTls[] =
    "tls_server_config:\n"
    "  cert_file: server.crt\n"
    "  key_file: server.key\n";

TEST_F(WebConfigTest, EmptyFileIsPlainHttpWithoutAuth) {
  auto c = Load("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->tls.enabled);
  EXPECT_TRUE(c->users.empty());
  EXPECT_TRUE(c->headers.empty());
  c = Load("tls_server_config:\nbasic_auth_users: {}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->tls.enabled);
}

TEST_F(WebConfigTest, FullConfig) {
  Write("ca.crt", kCertPem);
  auto c = Load(absl::StrCat(kTls,
                             "  client_auth_type: RequireAndVerifyClientCert\n"
                             "  client_ca_file: ",
                             dir_,
                             "/ca.crt\n"
                             "  min_version: TLS13\n"
                             "http_server_config:\n"
                             "  http2: false\n"
                             "  headers:\n"
                             "    X-Frame-Options: deny\n"
                             "    Strict-Transport-Security: max-age=31536000\n"
                             "    X-XSS-Protection: ''\n"
                             "basic_auth_users:\n"
                             "  alice: ",
                             kAliceHash2y,
                             "\n"
                             "  bob: '",
                             kBobHash2b, "'\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls.enabled);
  // Relative to the config file's directory; absolute left alone.
  EXPECT_EQ(c->tls.cert.path, dir_ + "/server.crt");
  EXPECT_EQ(c->tls.key.path, dir_ + "/server.key");
  EXPECT_EQ(c->tls.client_ca.path, dir_ + "/ca.crt");
  EXPECT_EQ(c->tls.cert.contents, kCertPem);
  EXPECT_EQ(c->tls.client_auth, ClientAuth::kRequireAndVerify);
  EXPECT_EQ(c->tls.min_version, kTls13);
  EXPECT_EQ(c->tls.max_version, kTls13);
  ASSERT_EQ(c->headers.size(), 2u);  // the blank one is unset
  EXPECT_EQ(c->headers[0].first, "X-Frame-Options");
  EXPECT_EQ(c->headers[1].second, "max-age=31536000");
  ASSERT_EQ(c->users.size(), 2u);
  EXPECT_EQ(c->users.at("alice"), kAliceHash2y);
}

TEST_F(WebConfigTest, DefaultsFollowTheToolkit) {
  auto c = Load(kTls);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.client_auth, ClientAuth::kNone);
  EXPECT_EQ(c->tls.min_version, kTls12);
  EXPECT_EQ(c->tls.max_version, kTls13);
}

TEST_F(WebConfigTest, UnknownKeysNameFileLineAndField) {
  EXPECT_EQ(Error("basic_auth_users: {}\ntls_config: {}\n"),
            "web.yml:2:1: tls_config: unknown key (want one of: "
            "basic_auth_users, http_server_config, tls_server_config)");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  certfile: x\n")),
            "web.yml:4:3: tls_server_config.certfile: unknown key (want one "
            "of: cert_file, client_auth_type, client_ca_file, key_file, "
            "max_version, min_version)");
  EXPECT_EQ(Error("http_server_config:\n  http3: true\n"),
            "web.yml:2:3: http_server_config.http3: unknown key (want one "
            "of: headers, http2)");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  key_file: server.key\n")),
            "web.yml:4:3: tls_server_config.key_file: repeated key");
}

TEST_F(WebConfigTest, ToolkitFieldsRedlineLacksAreErrors) {
  EXPECT_EQ(
      Error(absl::StrCat(kTls, "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")),
      "web.yml:4:3: tls_server_config.cipher_suites: not supported by "
      "redline (OpenSSL's default ciphers apply)");
  EXPECT_EQ(Error("tls_server_config:\n  cert: |\n    x\n"),
            "web.yml:2:3: tls_server_config.cert: inline PEM is not "
            "supported by redline; use cert_file");
  EXPECT_EQ(Error("rate_limit: {burst: 1}\n"),
            "web.yml:1:1: rate_limit: not supported by redline");
  EXPECT_EQ(Error("http_server_config: {http2: true}\n"),
            "web.yml:1:29: http_server_config.http2: HTTP/2 is not supported "
            "by redline, which serves HTTP/1.1 (set false or remove it)");
}

TEST_F(WebConfigTest, TlsFieldErrors) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"),
            "web.yml:2:3: tls_server_config: cert_file and key_file are both "
            "required");
  EXPECT_EQ(Error("tls_server_config:\n  min_version: TLS13\n"),
            "web.yml:2:3: tls_server_config: cert_file and key_file are both "
            "required");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  min_version: TLS14\n")),
            "web.yml:4:16: tls_server_config.min_version: unknown TLS "
            "version \"TLS14\" (want TLS12 or TLS13)");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  min_version: TLS11\n")),
            "web.yml:4:16: tls_server_config.min_version: TLS11 is not "
            "supported: OpenSSL's default security level refuses TLS before "
            "1.2 (want TLS12 or TLS13)");
  EXPECT_EQ(
      Error(absl::StrCat(kTls, "  min_version: TLS13\n  max_version: TLS12\n")),
      "web.yml:5:16: tls_server_config.max_version: is below "
      "min_version");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  client_auth_type: Sometimes\n")),
            "web.yml:4:21: tls_server_config.client_auth_type: unknown value "
            "\"Sometimes\" (want NoClientCert, VerifyClientCertIfGiven or "
            "RequireAndVerifyClientCert)");
  EXPECT_EQ(
      Error(absl::StrCat(kTls, "  client_auth_type: RequireAnyClientCert\n")),
      "web.yml:4:21: tls_server_config.client_auth_type: "
      "RequireAnyClientCert is not supported by redline: it accepts "
      "certificates nobody verified (use RequireAndVerifyClientCert)");
  EXPECT_EQ(Error(absl::StrCat(
                kTls, "  client_auth_type: RequireAndVerifyClientCert\n")),
            "web.yml:4:21: tls_server_config.client_auth_type: needs "
            "client_ca_file, the CA that signs client certificates");
  EXPECT_EQ(Error(absl::StrCat(kTls, "  client_ca_file: server.crt\n")),
            "web.yml:4:19: tls_server_config.client_ca_file: set, but "
            "client_auth_type is NoClientCert (want "
            "RequireAndVerifyClientCert)");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: ''\n  key_file: k\n"),
            "web.yml:2:14: tls_server_config.cert_file: want a non-empty "
            "string");
}

TEST_F(WebConfigTest, FilesAreReadAndChecked) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: missing.key\n"),
            "web.yml:3:13: tls_server_config.key_file: cannot read "
            "missing.key: No such file or directory");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.key\n"
                  "  key_file: server.key\n"),
            "web.yml:2:14: tls_server_config.cert_file: server.key: no PEM "
            "certificate (no start line)");
  // OpenSSL's reason in parentheses varies with its version.
  const std::string cert_as_key = Error(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.crt\n");
  EXPECT_TRUE(absl::StartsWith(cert_as_key,
                               "web.yml:3:13: tls_server_config.key_file: "
                               "server.crt: no unencrypted PEM private key ("))
      << cert_as_key;
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: other.key\n"),
            "web.yml:3:13: tls_server_config.key_file: other.key: does not "
            "match the certificate of server.crt (key values mismatch)");
  Write("empty.crt", "");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: empty.crt\n"
                  "  key_file: server.key\n"),
            "web.yml:2:14: tls_server_config.cert_file: empty.crt is empty");
  EXPECT_EQ(Error(absl::StrCat(kTls,
                               "  client_auth_type: VerifyClientCertIfGiven\n"
                               "  client_ca_file: server.key\n")),
            "web.yml:5:19: tls_server_config.client_ca_file: server.key: no "
            "PEM certificate (no start line)");
  auto missing = LoadWebConfig(dir_ + "/nope.yml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            absl::StrCat("--web-config-file: cannot read ", dir_,
                         "/nope.yml: No such file or directory"));
}

TEST_F(WebConfigTest, HeaderErrors) {
  EXPECT_EQ(Error("http_server_config:\n  headers:\n    Server: x\n"),
            "web.yml:3:5: http_server_config.headers.Server: header cannot "
            "be configured (want one of: Content-Security-Policy, "
            "Strict-Transport-Security, X-Content-Type-Options, "
            "X-Frame-Options, X-XSS-Protection)");
  EXPECT_EQ(Error("http_server_config:\n  headers:\n"
                  "    X-Frame-Options: allow\n"),
            "web.yml:3:22: http_server_config.headers.X-Frame-Options: "
            "invalid value \"allow\" (want deny or sameorigin)");
  EXPECT_EQ(Error("http_server_config:\n  headers:\n"
                  "    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n"),
            "web.yml:3:23: http_server_config.headers.X-XSS-Protection: line "
            "breaks are not allowed in a header");
}

TEST_F(WebConfigTest, UsersNeedBcryptHashes) {
  EXPECT_EQ(Error("basic_auth_users:\n  alice: secret\n"),
            "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash (want "
            "$2a$, $2b$ or $2y$, e.g. from htpasswd -nBC 10 \"\" | tr -d "
            "':\\n')");
  // sha512-crypt, as mkpasswd writes by default.
  EXPECT_EQ(Error("basic_auth_users:\n  alice: $6$salt$abc\n"),
            "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash (want "
            "$2a$, $2b$ or $2y$, e.g. from htpasswd -nBC 10 \"\" | tr -d "
            "':\\n')");
  EXPECT_EQ(Error(absl::StrCat("basic_auth_users:\n  alice: ",
                               std::string(kAliceHash2y).substr(0, 59), "\n")),
            "web.yml:2:10: basic_auth_users.alice: malformed bcrypt hash "
            "(want 60 characters: $2y$, a two-digit cost, $, then 53 "
            "characters)");
  EXPECT_EQ(
      Error("basic_auth_users:\n  alice: "
            "$2y$03$vjebkeC1G0PNYXfkRemO4uRkuvpG37fGQ8Ttv/bnIX9xYXjF413XG\n"),
      "web.yml:2:10: basic_auth_users.alice: bcrypt cost 3 is out of "
      "range 04-31");
  EXPECT_EQ(
      Error(absl::StrCat("basic_auth_users:\n  'a:b': ", kAliceHash2y, "\n")),
      "web.yml:2:3: basic_auth_users.a:b: want a user name without ':'");
  EXPECT_EQ(Error("basic_auth_users: [alice]\n"),
            "web.yml:1:19: basic_auth_users: want a mapping of user: bcrypt "
            "hash");
}

TEST_F(WebConfigTest, InvalidYaml) {
  EXPECT_EQ(Error("tls_server_config: [\n"),
            "web.yml:2:1: invalid YAML: end of sequence flow not found");
}

TEST(BcryptHash, Forms) {
  EXPECT_TRUE(CheckBcryptHash(kAliceHash2y).ok());
  EXPECT_TRUE(CheckBcryptHash(kBobHash2b).ok());
  EXPECT_TRUE(CheckBcryptHash(kGoHash2a).ok());
  std::string x = kGoHash2a;
  x[2] = 'x';  // $2x$: the legacy buggy variant
  EXPECT_FALSE(CheckBcryptHash(x).ok());
  x = kGoHash2a;
  x[20] = '!';
  EXPECT_FALSE(CheckBcryptHash(x).ok());
  EXPECT_FALSE(CheckBcryptHash("").ok());
}

TEST(BasicAuth, VerifiesEveryBcryptVariant) {
  BasicAuth auth(Users{{"alice", kAliceHash2y},
                       {"bob", kBobHash2b},
                       {"gopher", kGoHash2a},
                       {"carol", kCarolHash2y}});
  EXPECT_TRUE(auth.Verify("alice", "secret"));
  EXPECT_TRUE(auth.Verify("bob", "hunter2"));
  EXPECT_TRUE(auth.Verify("gopher", "allmine"));
  EXPECT_TRUE(auth.Verify("carol", "pa:ss word"));
  EXPECT_FALSE(auth.Verify("alice", "Secret"));
  EXPECT_FALSE(auth.Verify("alice", "secret "));
  EXPECT_FALSE(auth.Verify("alice", ""));
  EXPECT_FALSE(auth.Verify("bob", "secret"));  // alice's password
  EXPECT_FALSE(auth.Verify("mallory", "secret"));
  EXPECT_FALSE(auth.Verify("", ""));
  EXPECT_FALSE(auth.Verify("alice", std::string("secret\0x", 8)));
}

TEST(BasicAuth, SameHashUnderEachPrefix) {
  // For ASCII passwords $2a$, $2b$ and $2y$ are the same function.
  std::string h = kAliceHash2y;
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    h.replace(0, 4, prefix);
    BasicAuth auth(Users{{"alice", h}});
    EXPECT_TRUE(auth.Verify("alice", "secret")) << prefix;
    EXPECT_FALSE(auth.Verify("alice", "secreT")) << prefix;
  }
}

TEST(BasicAuth, CachesSuccessesOnly) {
  BasicAuth auth(Users{{"alice", kAliceHash2y}, {"bob", kBobHash2b}});
  EXPECT_TRUE(auth.Verify("alice", "secret"));
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(auth.Verify("alice", "secret"));
  EXPECT_EQ(auth.bcrypt_checks(), 1u);  // every later scrape: no bcrypt
  EXPECT_EQ(auth.cached(), 1u);
  // A wrong password pays bcrypt every time, before and after a success.
  EXPECT_FALSE(auth.Verify("alice", "wrong"));
  EXPECT_FALSE(auth.Verify("alice", "wrong"));
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
  // So does an unknown user (against a configured hash, for the timing).
  EXPECT_FALSE(auth.Verify("eve", "secret"));
  EXPECT_EQ(auth.bcrypt_checks(), 4u);
  // The cached pair is (user, password): another user's entry is no help.
  EXPECT_FALSE(auth.Verify("bob", "secret"));
  EXPECT_EQ(auth.cached(), 1u);
}

TEST(BasicAuth, CacheIsBounded) {
  BasicAuth auth(Users{{"alice", kAliceHash2y},
                       {"bob", kBobHash2b},
                       {"carol", kCarolHash2y}},
                 /*cache_entries=*/2);
  EXPECT_TRUE(auth.Verify("alice", "secret"));
  EXPECT_TRUE(auth.Verify("bob", "hunter2"));
  EXPECT_TRUE(auth.Verify("carol", "pa:ss word"));
  EXPECT_EQ(auth.cached(), 2u);
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
  EXPECT_TRUE(auth.Verify("carol", "pa:ss word"));  // newest: cached
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
  EXPECT_TRUE(auth.Verify("alice", "secret"));  // oldest: evicted
  EXPECT_EQ(auth.bcrypt_checks(), 4u);
  EXPECT_EQ(auth.cached(), 2u);
}

TEST(BasicAuth, AuthorizationHeader) {
  std::string user, pass;
  const std::string b64 = absl::Base64Escape("alice:pa:ss");
  ASSERT_TRUE(ParseBasicAuthorization("Basic " + b64, &user, &pass));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(pass, "pa:ss");  // split at the first colon
  EXPECT_TRUE(ParseBasicAuthorization("basic  " + b64 + " ", &user, &pass));
  EXPECT_FALSE(ParseBasicAuthorization("Bearer " + b64, &user, &pass));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!", &user, &pass));
  EXPECT_FALSE(ParseBasicAuthorization("Basic " + absl::Base64Escape("nocolon"),
                                       &user, &pass));
  EXPECT_FALSE(ParseBasicAuthorization("", &user, &pass));

  BasicAuth auth(Users{{"alice", kAliceHash2y}});
  EXPECT_TRUE(auth.Authorize("Basic " + absl::Base64Escape("alice:secret")));
  EXPECT_FALSE(auth.Authorize("Basic " + absl::Base64Escape("alice:nope")));
  EXPECT_FALSE(auth.Authorize(""));
}

}  // namespace
}  // namespace redline::prom
