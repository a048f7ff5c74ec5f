#include "agent/app/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "agent/app/flags.h"

namespace redline {
namespace {

TEST(ConfigFile, ScalarsAndListsBecomeFlags) {
  auto args = ParseConfigFile(
      "# comment\n"
      "listen: \"[::]:10433\"\n"
      "probes: [syscalls, tcp]\n"
      "pid-labels: true\n"
      "max-processes: 4096\n",
      "r.yaml");
  ASSERT_TRUE(args.ok()) << args.status();
  ASSERT_EQ(args->size(), 4u);
  EXPECT_EQ((*args)[0].flag, "--listen=[::]:10433");
  EXPECT_EQ((*args)[0].origin, "r.yaml:2");
  EXPECT_EQ((*args)[1].flag, "--probes=syscalls,tcp");
  EXPECT_EQ((*args)[2].flag, "--pid-labels=true");
  EXPECT_EQ((*args)[3].flag, "--max-processes=4096");
}

TEST(ConfigFile, EmptyFileIsNoFlags) {
  auto args = ParseConfigFile("# nothing set\n", "r.yaml");
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->empty());
}

TEST(ConfigFile, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"listen: a\nprobes:\n  x: 1\n",
       "r.yaml:3:3: probes: want a value or a list"},
      {"listen:\n", "r.yaml:1:1: listen: no value"},
      {"help: true\n", "r.yaml:1:1: help: not allowed in a config file"},
      {"config: /etc/x\n", "r.yaml:1:1: config: not allowed"},
      {"probes: [[a]]\n", "r.yaml:1:10: probes: list items must be plain"},
      {"probes: []\n", "r.yaml:1:9: probes: empty list"},
      {"- a\n- b\n", "r.yaml:1:1: (top level): want a mapping"},
      {"listen: [a\n", "r.yaml:2:1: invalid YAML"},
  };
  for (const Case& c : cases) {
    auto args = ParseConfigFile(c.text, "r.yaml");
    ASSERT_FALSE(args.ok()) << c.text;
    EXPECT_NE(std::string(args.status().message()).find(c.want),
              std::string::npos)
        << c.text << " -> " << args.status().message();
  }
}

class ConfigFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rl-config-XXXXXX";
    const int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  std::string path_;
};

TEST_F(ConfigFlagsTest, CommandLineWins) {
  Write("listen: \":9999\"\nlog-level: debug\n");
  auto o = ParseFlags({"run", "--log-level=warn", "--config=" + path_});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen, ":9999");
  EXPECT_EQ(o->log_level, "warn");
  auto o2 = ParseFlags({"--config", path_, "run"});
  ASSERT_TRUE(o2.ok()) << o2.status();
  EXPECT_EQ(o2->log_level, "debug");
}

TEST_F(ConfigFlagsTest, BadKeyNamesFileAndLine) {
  Write("listen: \":9999\"\nlisten-adress: x\n");
  auto o = ParseFlags({"run", "--config=" + path_});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(), path_ + ":2: unknown flag --listen-adress");
  Write("max-processes: lots\n");
  o = ParseFlags({"run", "--config=" + path_});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            path_ +
                ":1: --max-processes: want an integer in [64, 4194304], "
                "got 'lots'");
}

TEST_F(ConfigFlagsTest, MissingFileIsOneLine) {
  auto o = ParseFlags({"run", "--config=/nonexistent/redline.yaml"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "/nonexistent/redline.yaml: cannot read the config file: No such "
            "file or directory");
  EXPECT_FALSE(ParseFlags({"run", "--config"}).ok());
}

}  // namespace
}  // namespace redline
