#include "agent/app/flags.h"

#include "exporters/exposer.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

TEST(Flags, Defaults) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "run");
  EXPECT_EQ(o->listen, "127.0.0.1:10433") << "the default is loopback only";
  EXPECT_FALSE(o->pid_labels);
  EXPECT_FALSE(o->native_histograms_only) << "classic buckets by default";
}

TEST(Flags, BothValueForms) {
  auto o = ParseFlags({"run", "--listen", "[::1]:9", "--max-processes=100",
                       "--pid-labels", "--log-level=debug",
                       "--native-histograms-only"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen, "[::1]:9");
  EXPECT_EQ(o->max_processes, 100u);
  EXPECT_TRUE(o->pid_labels);
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_TRUE(o->native_histograms_only);
}

TEST(Flags, MaxConnectionsBoundedAndPassedToL7) {
  auto o = ParseFlags({"run", "--max-connections=32"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_connections, 32u);
  EXPECT_EQ(ProbeOptionsFrom(*o, nullptr).max_connections, 32u);
  EXPECT_EQ(ParseFlags({"run"})->max_connections, 65536u);
  for (const char* bad : {"--max-connections=15", "--max-connections=-1",
                          "--max-connections=many"}) {
    auto e = ParseFlags({"run", bad});
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find("--max-connections"),
              std::string::npos)
        << e.status();
  }
}

TEST(Flags, ErrorsAreOneLineAndNameTheFlag) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", "--bogus"},
           {"run", "--max-processes=abc"},
           {"run", "--max-processes=1"},
           {"run", "--log-level=loud"},
           {"run", "--listen"},
           {"fly"},
           {}}) {
    auto o = ParseFlags(args);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(std::string(o.status().message()).find('\n'), std::string::npos);
  }
  EXPECT_NE(std::string(ParseFlags({"run", "--bogus"}).status().message())
                .find("--bogus"),
            std::string::npos);
}

TEST(Flags, WebConfigFile) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->web_config_file, "");  // plain HTTP, no auth
  o = ParseFlags({"run", "--web-config-file=/etc/redline/web.yml"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->web_config_file, "/etc/redline/web.yml");
  o = ParseFlags({"run", "--web-config-file", "web.yml"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->web_config_file, "web.yml");
  EXPECT_FALSE(ParseFlags({"run", "--web-config-file="}).ok());
  EXPECT_NE(UsageText().find("--web-config-file=PATH"), std::string::npos);
}

TEST(Flags, DnsPorts) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dns_ports, std::vector<uint16_t>{53});
  o = ParseFlags({"run", "--dns-ports=53,5353,1053"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dns_ports, (std::vector<uint16_t>{53, 5353, 1053}));
  EXPECT_EQ(ProbeOptionsFrom(*o, nullptr).dns_ports, o->dns_ports);
  for (const char* bad : {"--dns-ports=", "--dns-ports=0", "--dns-ports=65536",
                          "--dns-ports=53,", "--dns-ports=domain",
                          "--dns-ports=1,2,3,4,5"}) {
    auto e = ParseFlags({"run", bad});
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find("--dns-ports"),
              std::string::npos)
        << e.status();
  }
  EXPECT_NE(UsageText().find("--dns-ports=LIST"), std::string::npos);
}

TEST(Flags, H2BufferBytes) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->h2_buffer_bytes, 4u << 20);
  o = ParseFlags({"run", "--h2-buffer-bytes=1048576"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(ProbeOptionsFrom(*o, nullptr).h2_buffer_bytes, 1u << 20);
  for (const char* bad : {"--h2-buffer-bytes=1000000",
                          "--h2-buffer-bytes=4096", "--h2-buffer-bytes=x"}) {
    auto e = ParseFlags({"run", bad});
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find("--h2-buffer-bytes"),
              std::string::npos)
        << e.status();
  }
}

TEST(Flags, MaxSeries) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_series, 0u) << "no host budget by default";
  o = ParseFlags({"run", "--max-series=50000"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_series, 50000u);
  EXPECT_TRUE(ParseFlags({"run", "--max-series=0"}).ok());
  for (const char* bad : {"--max-series=499", "--max-series=-1",
                          "--max-series=lots", "--max-series=99999999"}) {
    auto e = ParseFlags({"run", bad});
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find("--max-series"),
              std::string::npos)
        << e.status();
  }
}

TEST(ListenAddress, Forms) {
  auto a = prom::ParseListenAddress("127.0.0.1:10433");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 10433);
  a = prom::ParseListenAddress("[::1]:80");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  a = prom::ParseListenAddress(":9");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::");
  EXPECT_FALSE(prom::ParseListenAddress("nope").ok());
  EXPECT_FALSE(prom::ParseListenAddress("1.2.3.4:99999").ok());
  EXPECT_FALSE(prom::ParseListenAddress("::1:80").ok());
}

TEST(Flags, SyscallHistogramsAndSeriesPriority) {
  auto o = ParseFlags({"run"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->syscall_histograms.all());
  EXPECT_TRUE(o->series_priorities.empty());
  o = ParseFlags({"run", "--syscall-histograms=top:8",
                  "--series-priority=redline_tcp_retransmits_total=0"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->syscall_histograms.top, 8u);
  EXPECT_EQ(o->series_priorities.at("redline_tcp_retransmits_total"), 0);
  o = ParseFlags({"run", "--syscall-histograms=read,write,futex"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->syscall_histograms.named.size(), 3u);
  for (const char* bad : {"--syscall-histograms=reed", "--syscall-histograms=",
                          "--series-priority=x=11"}) {
    auto e = ParseFlags({"run", bad});
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find(
                  std::string(bad).substr(2, std::string(bad).find('=') - 2)),
              std::string::npos)
        << e.status();
  }
}

}  // namespace
}  // namespace redline
