#include "exporters/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace redline::prom {
namespace {

constexpr size_t kBcryptLength = 60;  // "$2b$10$" + 22 salt + 31 digest

bool IsBcryptBase64(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '/';
}

int Cost(absl::string_view hash) {
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

}  // namespace

absl::Status CheckBcryptHash(absl::string_view hash) {
  if (!absl::StartsWith(hash, "$2a$") && !absl::StartsWith(hash, "$2b$") &&
      !absl::StartsWith(hash, "$2y$")) {
    return absl::InvalidArgumentError(
        "not a bcrypt hash (want $2a$, $2b$ or $2y$, e.g. from "
        "htpasswd -nBC 10 \"\" | tr -d ':\\n')");
  }
  if (hash.size() != kBcryptLength ||
      !absl::ascii_isdigit(static_cast<unsigned char>(hash[4])) ||
      !absl::ascii_isdigit(static_cast<unsigned char>(hash[5])) ||
      hash[6] != '$') {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed bcrypt hash (want ", kBcryptLength,
        " characters: $2y$, a two-digit cost, $, then 53 characters)"));
  }
  if (Cost(hash) < 4 || Cost(hash) > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("bcrypt cost ", Cost(hash), " is out of range 04-31"));
  }
  for (char c : hash.substr(7)) {
    if (!IsBcryptBase64(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed bcrypt hash: unexpected character '",
                       absl::CEscape(absl::string_view(&c, 1)), "'"));
    }
  }
  return absl::OkStatus();
}

bool ParseBasicAuthorization(absl::string_view header, std::string* user,
                             std::string* password) {
  header = absl::StripAsciiWhitespace(header);
  // The scheme is case-insensitive (RFC 9110 11.1).
  if (header.size() < 6 ||
      !absl::EqualsIgnoreCase(header.substr(0, 6), "basic ")) {
    return false;
  }
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(header.substr(6)),
                            &decoded)) {
    return false;
  }
  const size_t colon = decoded.find(':');  // user names cannot hold one
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users,
                     size_t cache_entries)
    : users_(std::move(users)),
      cache_entries_(cache_entries),
      data_(std::make_unique<crypt_data>()) {
  for (const auto& [user, hash] : users_) {
    if (decoy_.empty() || Cost(hash) > Cost(decoy_)) decoy_ = hash;
  }
  if (RAND_bytes(key_, sizeof(key_)) != 1) {
    // Only the secrecy of cache keys depends on it, not their correctness.
    std::memset(key_, 0x5c, sizeof(key_));
  }
}

BasicAuth::~BasicAuth() { OPENSSL_cleanse(key_, sizeof(key_)); }

bool BasicAuth::Authorize(absl::string_view authorization) {
  std::string user, password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  const bool ok = Verify(user, password);
  OPENSSL_cleanse(password.data(), password.size());
  return ok;
}

bool BasicAuth::Verify(absl::string_view user, absl::string_view password) {
  const auto it = users_.find(std::string(user));
  const bool known = it != users_.end();
  const std::string key = CacheKey(user, password);
  if (known) {
    std::lock_guard<std::mutex> l(cache_mu_);
    if (cache_.contains(key)) return true;
  }
  // The work is done for unknown users too (against the decoy hash).
  const bool match = Bcrypt(known ? it->second : decoy_, password);
  if (!known || !match) return false;
  std::lock_guard<std::mutex> l(cache_mu_);
  if (cache_entries_ > 0 && cache_.insert(key).second) {
    order_.push_back(key);
    while (order_.size() > cache_entries_) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
  }
  return true;
}

std::string BasicAuth::CacheKey(absl::string_view user,
                                absl::string_view password) const {
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  std::string msg = absl::StrCat(user.size(), ":", user, password);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_, sizeof(key_),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac,
       &len);
  OPENSSL_cleanse(msg.data(), msg.size());
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool BasicAuth::Bcrypt(const std::string& hash, absl::string_view password) {
  // crypt reads a C string: "abc\0def" must not pass as "abc".
  if (hash.empty() || password.find('\0') != absl::string_view::npos) {
    return false;
  }
  std::string phrase(password);
  std::lock_guard<std::mutex> l(bcrypt_mu_);
  ++bcrypt_checks_;
  std::memset(data_.get(), 0, sizeof(crypt_data));
  const char* out =
      crypt_rn(phrase.c_str(), hash.c_str(), data_.get(), sizeof(crypt_data));
  const bool ok = out != nullptr && std::strlen(out) == hash.size() &&
                  CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data_.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return ok;
}

size_t BasicAuth::bcrypt_checks() const {
  std::lock_guard<std::mutex> l(bcrypt_mu_);
  return bcrypt_checks_;
}

size_t BasicAuth::cached() const {
  std::lock_guard<std::mutex> l(cache_mu_);
  return cache_.size();
}

}  // namespace redline::prom
