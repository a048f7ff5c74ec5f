// The DNS classifier the kernel runs (bpf/l7_dns.bpf.h), compiled here
// unchanged and checked on any bytes against a plain reference written
// from RFC 1035 4.1: whether a message is a standard query or its answer
// with one uncompressed question, its id, type and RCODE, and the hash
// that pairs the two; over TCP, with or without the 2-byte length. Bytes
// past the n valid ones are input too: in the kernel they are stale.
#include <linux/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "tests/fuzz/l7_classifier_shim.h"

namespace {

struct Ref {
  unsigned id, response, type, rcode;
  uint32_t hash;
};

unsigned U16(const uint8_t* d, size_t i) { return d[i] << 8 | d[i + 1]; }

std::optional<Ref> RefParse(const uint8_t* d, size_t n) {
  n = std::min<size_t>(n, 12 + 255 + 4);
  if (n < 17) return std::nullopt;
  const unsigned flags = U16(d, 2);
  if (((flags >> 11) & 0xf) != 0 || U16(d, 4) != 1) return std::nullopt;
  const unsigned response = flags >> 15;
  if (!response && (U16(d, 6) || U16(d, 8) || U16(d, 10) > 2))
    return std::nullopt;
  size_t pos = 12;
  int labels = 0;
  for (;;) {
    if (pos >= n || labels == 128) return std::nullopt;
    const unsigned len = d[pos];
    if (len == 0) break;
    if (len > 63) return std::nullopt;
    pos += len + 1;
    ++labels;
  }
  const size_t end = pos + 1;  // past the name's zero byte
  if (end - 12 > 255 || end + 4 > n) return std::nullopt;
  uint32_t h = 2166136261u;
  for (size_t i = 12; i < end + 2; ++i) h = (h ^ d[i]) * 16777619u;
  return Ref{U16(d, 0), response, U16(d, end), flags & 0xf, h};
}

__u8 RefType(unsigned t) {
  switch (t) {
#define CASE(name, code) \
  case code:             \
    return RL_DNS_Q_##name;
    RL_DNS_QTYPES(CASE)
#undef CASE
  }
  return RL_DNS_Q_OTHER;
}

__u8 RefRcode(unsigned r) {
  return r <= 5 ? RL_DNS_R_NOERROR + r : RL_DNS_R_OTHER;
}

void Check(bool ok) {
  if (!ok) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1024) return 0;
  alignas(8) static rl_l7_window win;
  std::memcpy(win.b, data, size);  // the rest: stale bytes of before
  const __u32 n = size;

  rl_dns_msg m{};
  const int ok = rl_dns_parse(win.b, n, &m);
  const std::optional<Ref> ref = RefParse(data, size);
  Check(ok == ref.has_value());
  if (ref) {
    Check(m.id == ref->id && m.response == ref->response);
    Check(m.qtype == RefType(ref->type));
    Check(m.rcode == (ref->response ? RefRcode(ref->rcode) : 0));
    Check(m.question == ref->hash);
  }

  // TCP: the message after its length (if the length covers a header and
  // a question), else the data alone.
  for (int want_response = 0; want_response < 2; ++want_response) {
    std::optional<Ref> t;
    if (size >= 2) {
      const unsigned len = U16(data, 0);
      if (len >= 17) t = RefParse(data + 2, std::min<size_t>(len, size - 2));
      if (!t) t = ref;
    }
    __u8 want = 0;
    if (t && t->response == static_cast<unsigned>(want_response)) {
      want = t->response ? RefRcode(t->rcode) : RefType(t->type);
    }
    Check(rl_dns_tcp_start(&win, n, want_response) == want);
  }
  return 0;
}
