// The DNS message classifier the kernel runs (bpf/l7_dns.bpf.h), compiled
// here unchanged: which messages are queries and responses, their question
// type, RCODE and the question's hash that pairs them, over UDP (a bare
// message) and TCP (with or without its 2-byte length). Messages are built
// from RFC 1035 4.1 as dig and unbound send them.
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/fuzz/l7_classifier_shim.h"

namespace redline {
namespace {

std::string U16(unsigned v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}
std::string Name(const std::string& dotted) {
  std::string out;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out += static_cast<char>(dot - start);
    out += dotted.substr(start, dot - start);
    start = dot + 1;
  }
  return out + std::string(1, '\0');
}
// id, flags, counts (qd an ns ar), then one question.
std::string Message(unsigned id, unsigned flags, const std::string& name,
                    unsigned qtype, unsigned qd = 1, unsigned an = 0,
                    unsigned ar = 1) {
  return U16(id) + U16(flags) + U16(qd) + U16(an) + U16(0) + U16(ar) + name +
         U16(qtype) + U16(1);
}
std::string Query(unsigned id, const std::string& name, unsigned qtype) {
  // RD, and EDNS's OPT record after the question (as dig sends).
  return Message(id, 0x0100, Name(name), qtype) +
         std::string("\0\0\x29\x04\xd0\0\0\0\0\0\0", 11);
}
std::string Response(unsigned id, const std::string& name, unsigned qtype,
                     unsigned rcode) {
  return Message(id, 0x8180 | rcode, Name(name), qtype, 1, 1) +
         std::string("\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\x0a\0\0\1", 16);
}

struct Parsed {
  int ok;
  rl_dns_msg m;
};
Parsed Parse(const std::string& bytes) {
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0, sizeof(win));
  std::memcpy(win.b, bytes.data(), bytes.size());
  Parsed p{};
  p.ok = rl_dns_parse(win.b, bytes.size(), &p.m);
  return p;
}
__u8 TcpStart(const std::string& bytes, bool response) {
  alignas(8) static rl_l7_window win;
  std::memset(&win, 0, sizeof(win));
  std::memcpy(win.b, bytes.data(), bytes.size());
  return rl_dns_tcp_start(&win, bytes.size(), response);
}

TEST(DnsTest, QueryAndItsResponsePair) {
  const Parsed q = Parse(Query(0x1234, "a.test", 1));
  ASSERT_EQ(q.ok, 1);
  EXPECT_EQ(q.m.response, 0);
  EXPECT_EQ(q.m.id, 0x1234);
  EXPECT_EQ(q.m.qtype, RL_DNS_Q_A);
  const Parsed r = Parse(Response(0x1234, "a.test", 1, 3));
  ASSERT_EQ(r.ok, 1);
  EXPECT_EQ(r.m.response, 1);
  EXPECT_EQ(r.m.rcode, RL_DNS_R_NXDOMAIN);
  EXPECT_EQ(r.m.question, q.m.question);
  // Another type or name is another question (A and AAAA sent together
  // with one id by some resolvers are told apart).
  EXPECT_NE(Parse(Query(0x1234, "a.test", 28)).m.question, q.m.question);
  EXPECT_NE(Parse(Query(0x1234, "b.test", 1)).m.question, q.m.question);
  // 0x20 randomisation: the answer repeats the query's case.
  EXPECT_NE(Parse(Query(0x1234, "A.test", 1)).m.question, q.m.question);
}

TEST(DnsTest, TypesAndRcodes) {
  const struct {
    unsigned code;
    __u8 want;
  } types[] = {{1, RL_DNS_Q_A},     {28, RL_DNS_Q_AAAA}, {5, RL_DNS_Q_CNAME},
               {33, RL_DNS_Q_SRV},  {12, RL_DNS_Q_PTR},  {15, RL_DNS_Q_MX},
               {16, RL_DNS_Q_TXT},  {65, RL_DNS_Q_HTTPS}, {64, RL_DNS_Q_SVCB},
               {255, RL_DNS_Q_ANY}, {99, RL_DNS_Q_OTHER}, {0, RL_DNS_Q_OTHER}};
  for (const auto& t : types) {
    EXPECT_EQ(Parse(Query(7, "x.test", t.code)).m.qtype, t.want) << t.code;
  }
  const __u8 rcodes[] = {RL_DNS_R_NOERROR,  RL_DNS_R_FORMERR,
                         RL_DNS_R_SERVFAIL, RL_DNS_R_NXDOMAIN,
                         RL_DNS_R_NOTIMP,   RL_DNS_R_REFUSED};
  for (unsigned r = 0; r < 16; ++r) {
    const Parsed p = Parse(Response(7, "x.test", 1, r));
    ASSERT_EQ(p.ok, 1);
    EXPECT_EQ(p.m.rcode, r < 6 ? rcodes[r] : RL_DNS_R_OTHER) << r;
  }
}

TEST(DnsTest, NotAStandardQueryOrItsAnswer) {
  const std::string name = Name("a.test");
  EXPECT_EQ(Parse(Message(1, 0x2000, name, 1)).ok, 0);     // NOTIFY
  EXPECT_EQ(Parse(Message(1, 0x2800, name, 6)).ok, 0);     // UPDATE
  EXPECT_EQ(Parse(Message(1, 0x0100, name, 1, 2)).ok, 0);  // 2 questions
  EXPECT_EQ(Parse(Message(1, 0x0100, name, 1, 0)).ok, 0);  // none
  EXPECT_EQ(Parse(Message(1, 0x0100, name, 1, 1, 1)).ok, 0);  // query+answer
  EXPECT_EQ(Parse(Message(1, 0x0100, name, 1, 1, 0, 3)).ok, 0);
  // A compression pointer where the question's name starts.
  EXPECT_EQ(Parse(Message(1, 0x0100, std::string("\xc0\x0c", 2), 1)).ok, 0);
  // Cut inside the name, and before the type's end.
  const std::string q = Query(1, "abc.example.test", 1);
  EXPECT_EQ(Parse(q.substr(0, 20)).ok, 0);
  EXPECT_EQ(Parse(q.substr(0, 12 + 18 + 3)).ok, 0);
  EXPECT_EQ(Parse(q.substr(0, 12 + 18 + 4)).ok, 1);
  EXPECT_EQ(Parse(q.substr(0, 11)).ok, 0);
  // 4 labels of 63: a 257-byte name, over RFC 1035's 255.
  const std::string l63(63, 'x');
  EXPECT_EQ(Parse(Query(1, l63 + "." + l63 + "." + l63 + "." + l63, 1)).ok,
            0);
  EXPECT_EQ(Parse(Query(1, l63 + "." + l63 + "." + l63 + ".x", 1)).ok, 1);
}

TEST(DnsTest, OverTcpWithOrWithoutItsLength) {
  const std::string q = Query(9, "a.test", 28);
  const std::string r = Response(9, "a.test", 28, 0);
  EXPECT_EQ(TcpStart(U16(q.size()) + q, false), RL_DNS_Q_AAAA);  // dig
  EXPECT_EQ(TcpStart(q, false), RL_DNS_Q_AAAA);  // unbound reads it alone
  EXPECT_EQ(TcpStart(U16(q.size()), false), 0);  // the length alone
  EXPECT_EQ(TcpStart(U16(r.size()) + r, true), RL_DNS_R_NOERROR);
  EXPECT_EQ(TcpStart(U16(q.size()) + q, true), 0);  // not a response
  EXPECT_EQ(TcpStart(U16(r.size()) + r, false), 0);
  // A length that does not cover the question: read without it, no
  // message either.
  EXPECT_EQ(TcpStart(U16(14) + q, false), 0);
}

}  // namespace
}  // namespace redline
