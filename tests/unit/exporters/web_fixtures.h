// Test-only TLS material and bcrypt hashes, generated once and committed:
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
//     -days 36500 -subj /CN=localhost \
//     -addext subjectAltName=DNS:localhost,IP:127.0.0.1
//   openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1
#ifndef REDLINE_TESTS_UNIT_WEB_FIXTURES_H_
#define REDLINE_TESTS_UNIT_WEB_FIXTURES_H_

namespace redline::web_fixtures {

// Self-signed (CA:TRUE) certificate for localhost and 127.0.0.1, its key,
// and a key that matches nothing.
inline constexpr char kCertPem[] = R"(-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIURsMFY/llp2sIDswovtA8AKb/kQ4wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMzE2MTkzOFoYDzIxMjYxMDMw
MTYxOTM4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATX279OOgHAx6Ql/7frjMDzX/2c48eWb0SmUbkFxjHuDsZc5h1eQw9I
RGgFGCFdNWADrR4kZYHP6AosyYJ8IkC7o28wbTAdBgNVHQ4EFgQUSzBhI0p5hmnX
NdCe1VJrcCgvNQAwHwYDVR0jBBgwFoAUSzBhI0p5hmnXNdCe1VJrcCgvNQAwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhAN+x1babmiX9QiOVzr/GbZV8NCJyc2vrIcA2aWgCPzUgAiAm
ic7VXv93jwr6Ir+1ywKCQDge3sBCN6ukWbrFAuzFSg==
-----END CERTIFICATE-----
)";
inline constexpr char kKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgd/ZLZLsF4gnSHDYE
xCxftGjPeSvwsI7tAUoifqB5f2OhRANCAATX279OOgHAx6Ql/7frjMDzX/2c48eW
b0SmUbkFxjHuDsZc5h1eQw9IRGgFGCFdNWADrR4kZYHP6AosyYJ8IkC7
-----END PRIVATE KEY-----
)";
inline constexpr char kOtherKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguis6FeZYxZEdHSl4
t6sPy9VuozHfEzpA+e5RXOTJE5GhRANCAATm0E6L/derzjoy/vdptYU0PfRhQTRS
XQhmdfprtaWVStEqb2JyNssM9tzVUOkfEgbez4ZtFR7RvaGFzFH8TZZ1
-----END PRIVATE KEY-----
)";

// Password "secret", cost 4, from `htpasswd -nbBC 4 alice secret`.
inline constexpr char kAliceHash2y[] =
    "$2y$04$vjebkeC1G0PNYXfkRemO4uRkuvpG37fGQ8Ttv/bnIX9xYXjF413XG";
// Password "hunter2", cost 4, from Python's crypt.crypt (libxcrypt).
inline constexpr char kBobHash2b[] =
    "$2b$04$IdA48ADZ9qh8iYM0dya8/OXMzjPBD.xpXgC.Un1/9vtM1wqYvO/lC";
// Password "allmine", cost 10: golang.org/x/crypto/bcrypt's test vector.
inline constexpr char kGoHash2a[] =
    "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga";
// Password "pa:ss word", cost 5, htpasswd.
inline constexpr char kCarolHash2y[] =
    "$2y$05$PMq5mvbZza5SHgCSJqs7yuQQNDqJfkzv5nynZdBgYpir16AnEPIom";

}  // namespace redline::web_fixtures

#endif  // REDLINE_TESTS_UNIT_WEB_FIXTURES_H_
