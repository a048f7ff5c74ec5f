// HTTP basic auth against bcrypt hashes, as the exporter-toolkit's
// basic_auth_users: libxcrypt's crypt_rn checks $2a$, $2b$ and $2y$ hashes
// (Go's bcrypt writes $2a$, htpasswd -B $2y$).
//
// A bcrypt check costs tens of milliseconds on purpose, and Prometheus sends
// the same credentials every scrape: verified (user, password) pairs are
// remembered, keyed by an HMAC-SHA256 under a per-process random key (the
// password itself is not kept). Failures are never cached, and bcrypt runs
// one check at a time, so a password-guessing client costs one core at most.
#ifndef REDLINE_EXPORTERS_BASIC_AUTH_H_
#define REDLINE_EXPORTERS_BASIC_AUTH_H_

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct crypt_data;

namespace redline::prom {

// OK for "$2a$", "$2b$" or "$2y$", a cost of 04-31 and a 53 character
// bcrypt salt and digest; otherwise says what is wrong.
absl::Status CheckBcryptHash(absl::string_view hash);

// Splits the value of an Authorization header, "Basic base64(user:pass)".
bool ParseBasicAuthorization(absl::string_view header, std::string* user,
                             std::string* password);

inline constexpr char kBasicRealm[] = "Basic realm=\"redline\"";

class BasicAuth {
 public:
  // users: name -> hash, each accepted by CheckBcryptHash.
  explicit BasicAuth(std::map<std::string, std::string> users,
                     size_t cache_entries = 64);
  ~BasicAuth();
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // The Authorization header of a request (empty when absent).
  bool Authorize(absl::string_view authorization);
  bool Verify(absl::string_view user, absl::string_view password);

  size_t bcrypt_checks() const;  // for tests: cache misses so far
  size_t cached() const;

 private:
  std::string CacheKey(absl::string_view user,
                       absl::string_view password) const;
  bool Bcrypt(const std::string& hash, absl::string_view password);

  const std::map<std::string, std::string> users_;
  // Unknown users are checked against the costliest configured hash, so the
  // answer takes as long as for a known user with a wrong password.
  std::string decoy_;
  unsigned char key_[32];
  const size_t cache_entries_;

  mutable std::mutex cache_mu_;
  absl::flat_hash_set<std::string> cache_;  // guarded by cache_mu_
  std::deque<std::string> order_;           // oldest first; cache_mu_

  mutable std::mutex bcrypt_mu_;
  std::unique_ptr<crypt_data> data_;  // bcrypt_mu_
  size_t bcrypt_checks_ = 0;          // bcrypt_mu_
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_BASIC_AUTH_H_
