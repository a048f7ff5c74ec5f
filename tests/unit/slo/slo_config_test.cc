#include "agent/slo/slo_config.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "agent/slo/slo_rules.h"
#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr char kValid[] = R"(slos:
  - name: web
    description: Shop pages answer without 5xx
    selector: {comm: nginx, namespace: shop}
    sli: {kind: http_availability}
    objective: 99.9
  - name: db-fsync
    selector:
      systemd_unit: {regex: "postgres(ql)?@.*\\.service"}
    sli:
      kind: syscall_latency
      syscalls: [fsync, fdatasync]
      threshold: 10ms
    objective: 99
    window: 7d
    alerting:
      runbook_url: https://wiki.example/db
      labels: {team: storage}
      page: [{long: 30m, short: 5m, factor: 10}]
  - name: dial
    selector: {comm: api}
    sli: {kind: syscall_errors, syscalls: [connect],
          errnos: [ECONNREFUSED, ETIMEDOUT]}
    objective: 99.5
  - name: slow-client
    selector: {container: checkout}
    sli: {kind: http_latency, role: client, threshold: 1.5s}
    objective: 95
  - name: retrans
    selector: {pod: {regex: "cache-.*"}}
    sli: {kind: tcp_retransmits}
    objective: 99.99
)";

TEST(SloConfig, ParsesEveryKindWithDefaults) {
  auto cfg = ParseSloConfig(kValid, "slo.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->slos.size(), 5u);
  const Slo& web = cfg->slos[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.kind, SliKind::kRequestAvailability);
  EXPECT_DOUBLE_EQ(web.objective, 0.999);
  EXPECT_EQ(web.window_s, 28 * 86400);
  EXPECT_EQ(web.role, "server");
  EXPECT_EQ(web.line, 2);
  ASSERT_EQ(web.page.size(), 2u);
  EXPECT_EQ(web.page[0].long_s, 3600);
  EXPECT_EQ(web.page[0].short_s, 300);
  EXPECT_DOUBLE_EQ(web.page[0].factor, 14.4);
  ASSERT_EQ(web.ticket.size(), 2u);
  EXPECT_EQ(web.ticket[1].long_s, 3 * 86400);
  EXPECT_EQ(web.selector.at("namespace").text, "shop");

  const Slo& db = cfg->slos[1];
  EXPECT_EQ(db.threshold_ns, 10'000'000u);
  EXPECT_EQ(db.syscalls, (std::vector<std::string>{"fsync", "fdatasync"}));
  EXPECT_EQ(db.window_s, 7 * 86400);
  EXPECT_EQ(db.runbook_url, "https://wiki.example/db");
  EXPECT_EQ(db.labels.at("team"), "storage");
  ASSERT_EQ(db.page.size(), 1u);
  EXPECT_EQ(db.ticket.size(), 2u) << "ticket keeps its default";

  EXPECT_EQ(cfg->slos[2].errnos,
            (std::vector<std::string>{"ECONNREFUSED", "ETIMEDOUT"}));
  EXPECT_EQ(cfg->slos[3].role, "client");
  EXPECT_EQ(cfg->slos[3].threshold_ns, 1'500'000'000u);
  EXPECT_EQ(cfg->slos[4].kind, SliKind::kTcpRetransmits);
}

TEST(SloConfig, RequestKindsTakeAProtocolOperationsAndBadOutcomes) {
  auto cfg = ParseSloConfig(R"(slos:
  - name: cache
    selector: {comm: api}
    sli: {kind: request_availability, protocol: redis, role: client,
          operations: [get, set], outcomes: [ERR, OOM]}
    objective: 99.9
  - name: cache-latency
    selector: {comm: api}
    sli: {kind: request_latency, protocol: redis, threshold: 2ms}
    objective: 99
  - name: web
    selector: {comm: nginx}
    sli: {kind: http_availability}
    objective: 99
)",
                            "slo.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Slo& a = cfg->slos[0];
  EXPECT_EQ(a.kind, SliKind::kRequestAvailability);
  EXPECT_EQ(a.kind_name, "request_availability");
  EXPECT_EQ(a.protocol, "redis");
  EXPECT_EQ(a.role, "client");
  EXPECT_EQ(a.operations, (std::vector<std::string>{"get", "set"}));
  EXPECT_EQ(a.bad_outcomes, (std::vector<std::string>{"ERR", "OOM"}));
  EXPECT_EQ(cfg->slos[1].kind, SliKind::kRequestLatency);
  EXPECT_EQ(cfg->slos[1].role, "server");
  EXPECT_EQ(cfg->slos[2].protocol, "http");
  EXPECT_EQ(cfg->slos[2].kind_name, "http_availability");

  auto bad = ParseSloConfig(R"(slos:
  - name: cache
    selector: {comm: api}
    sli: {kind: request_availability, protocol: redis, operations: [gett]}
    objective: 99.9
)",
                            "slo.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(),
                                "slos[0].sli.operations[0]: unknown command "
                                "\"gett\" (want one of: "))
      << bad.status();
}

TEST(SloConfig, GrpcOperationsAreLearnedLabelsAnySliMayName) {
  auto cfg = ParseSloConfig(R"(slos:
  - name: say
    selector: {comm: api}
    sli: {kind: request_availability, protocol: grpc,
          operations: [redline.test.Echo/Say, pkg.Other, other]}
    objective: 99.9
)",
                            "slo.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->slos[0].operations,
            (std::vector<std::string>{"redline.test.Echo/Say", "pkg.Other",
                                      "other"}));
  auto bad = ParseSloConfig(R"(slos:
  - name: say
    selector: {comm: api}
    sli: {kind: request_availability, protocol: grpc,
          operations: ["Echo Say"]}
    objective: 99.9
)",
                            "slo.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(),
                                "slos[0].sli.operations[0]: bad method "
                                "\"Echo Say\" (want a label as exported"))
      << bad.status();
}

TEST(SloConfig, SelectorsMatchExactlyOrByAnchoredRegex) {
  auto cfg = ParseSloConfig(kValid, "slo.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Matcher& exact = cfg->slos[0].selector.at("comm");
  EXPECT_TRUE(exact.Matches("nginx"));
  EXPECT_FALSE(exact.Matches("nginx2"));
  EXPECT_FALSE(exact.Matches("ngin"));
  const Matcher& re = cfg->slos[1].selector.at("systemd_unit");
  EXPECT_TRUE(re.Matches("postgresql@15-main.service"));
  EXPECT_TRUE(re.Matches("postgres@x.service"));
  EXPECT_FALSE(re.Matches("my-postgres@x.service")) << "anchored at start";
  EXPECT_FALSE(re.Matches("postgres@x.service.bak")) << "anchored at end";
}

struct BadCase {
  const char* yaml;
  const char* error;  // the whole message
};

class SloConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(SloConfigErrors, NameFileLineAndField) {
  auto cfg = ParseSloConfig(GetParam().yaml, "slo.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(std::string(cfg.status().message()), GetParam().error);
}

// A valid SLO with one line replaced.
#define SLO(sel, sli, extra)                                   \
  "slos:\n  - name: web\n    selector: " sel "\n    sli: " sli \
  "\n    objective: 99.9\n" extra

INSTANTIATE_TEST_SUITE_P(
    Fields, SloConfigErrors,
    ::testing::Values(
        BadCase{"", "slo.yaml: empty file"},
        BadCase{"slos: [",
                "slo.yaml:1:1: invalid YAML: end of sequence "
                "flow not found"},
        BadCase{"slo:\n  - name: x\n",
                "slo.yaml:1:1: slo: unknown key (want one of: slos)"},
        BadCase{"slos: []\n",
                "slo.yaml:1:7: slos: want a non-empty list of SLOs"},
        BadCase{SLO("{comm: nginx}", "{kind: http_availability}",
                    "    objectiv: 99\n"),
                "slo.yaml:6:5: slos[0].objectiv: unknown key (want one of: "
                "alerting, description, name, objective, selector, sli, "
                "window)"},
        BadCase{"slos:\n  - name: web\n    sli: {kind: http_availability}\n"
                "    objective: 99\n",
                "slo.yaml:2:5: slos[0].selector: required"},
        BadCase{SLO("{comm: nginx}", "{kind: http_availability}",
                    "") "  - name: web\n    selector: {comm: a}\n"
                        "    sli: {kind: http_availability}\n"
                        "    objective: 99\n",
                "slo.yaml:6:11: slos[1].name: duplicate SLO name \"web\""},
        BadCase{"slos:\n  - name: we b\n    selector: {comm: a}\n"
                "    sli: {kind: http_availability}\n    objective: 99\n",
                "slo.yaml:2:11: slos[0].name: use letters, digits, '-', '_' "
                "and '.' only"},
        BadCase{SLO("{com: nginx}", "{kind: http_availability}", ""),
                "slo.yaml:3:16: slos[0].selector.com: unknown key (want one "
                "of: comm, container, container_id, namespace, pod, pod_uid, "
                "systemd_unit, workload)"},
        BadCase{SLO("{}", "{kind: http_availability}", ""),
                "slo.yaml:3:15: slos[0].selector: want at least one label to "
                "match"},
        BadCase{SLO("{comm: {regex: \"a(\"}}", "{kind: http_availability}", ""),
                "slo.yaml:3:30: slos[0].selector.comm.regex: invalid regex: "
                "Mismatched '(' and ')' in regular expression"},
        BadCase{SLO("{comm: a}", "{kind: http_errors}", ""),
                "slo.yaml:4:17: slos[0].sli.kind: unknown SLI kind "
                "\"http_errors\" (want http_availability, http_latency, "
                "request_availability, request_latency, syscall_latency, "
                "syscall_errors, tcp_retransmits)"},
        BadCase{SLO("{comm: a}", "{kind: request_availability}", ""),
                "slo.yaml:4:10: slos[0].sli.protocol: required for kind "
                "request_availability"},
        BadCase{SLO("{comm: a}", "{kind: request_availability, protocol: smtp}",
                    ""),
                "slo.yaml:4:49: slos[0].sli.protocol: unknown protocol "
                "\"smtp\" (want http, redis, postgresql, memcached, mysql, dns, http2, grpc)"},
        BadCase{
            SLO("{comm: a}", "{kind: http_availability, protocol: redis}", ""),
            "slo.yaml:4:46: slos[0].sli.protocol: not used by kind "
            "http_availability"},
        BadCase{SLO("{comm: a}",
                    "{kind: request_latency, protocol: redis, threshold: 1ms, "
                    "outcomes: [ERR]}",
                    ""),
                "slo.yaml:4:77: slos[0].sli.outcomes: not used by kind "
                "request_latency"},
        BadCase{SLO("{comm: a}", "{kind: http_latency}", ""),
                "slo.yaml:4:10: slos[0].sli.threshold: required for kind "
                "http_latency"},
        BadCase{SLO("{comm: a}", "{kind: http_latency, threshold: fast}", ""),
                "slo.yaml:4:42: slos[0].sli.threshold: want a duration like "
                "300ms, 10s, 5m, 1h or 28d; got \"fast\""},
        BadCase{
            SLO("{comm: a}", "{kind: http_availability, threshold: 1s}", ""),
            "slo.yaml:4:47: slos[0].sli.threshold: not used by kind "
            "http_availability"},
        BadCase{SLO("{comm: a}",
                    "{kind: syscall_latency, syscalls: [fsink], "
                    "threshold: 1s}",
                    ""),
                "slo.yaml:4:45: slos[0].sli.syscalls[0]: unknown syscall "
                "\"fsink\" on this architecture"},
        BadCase{SLO("{comm: a}",
                    "{kind: syscall_errors, syscalls: [connect], "
                    "errnos: [ECONREFUSED]}",
                    ""),
                "slo.yaml:4:63: slos[0].sli.errnos[0]: unknown errno "
                "\"ECONREFUSED\" (want a name like ECONNREFUSED)"},
        BadCase{SLO("{comm: a}", "{kind: http_availability, role: proxy}", ""),
                "slo.yaml:4:42: slos[0].sli.role: want server or client"},
        BadCase{"slos:\n  - name: web\n    selector: {comm: a}\n"
                "    sli: {kind: http_availability}\n    objective: 100\n",
                "slo.yaml:5:16: slos[0].objective: want a percentage in (0, "
                "100), like 99.9; got 100"},
        BadCase{"slos:\n  - name: web\n    selector: {comm: a}\n"
                "    sli: {kind: http_availability}\n    objective: high\n",
                "slo.yaml:5:16: slos[0].objective: want a number, got "
                "\"high\""},
        BadCase{
            SLO("{comm: a}", "{kind: http_availability}", "    window: 30m\n"),
            "slo.yaml:6:13: slos[0].window: want whole seconds between 1h "
            "and 366d, like 28d"},
        BadCase{SLO("{comm: a}", "{kind: http_availability}",
                    "    alerting: {page: [{long: 5m, short: 1h, factor: "
                    "2}]}\n"),
                "slo.yaml:6:41: slos[0].alerting.page[0].short: must be "
                "shorter than long"},
        BadCase{SLO("{comm: a}", "{kind: http_availability}",
                    "    alerting: {ticket: [{long: 1h, short: 5m}]}\n"),
                "slo.yaml:6:25: slos[0].alerting.ticket[0].factor: required"},
        BadCase{SLO("{comm: a}", "{kind: http_availability}",
                    "    alerting: {labels: {severity: low}}\n"),
                "slo.yaml:6:25: slos[0].alerting.labels.severity: want a "
                "Prometheus label name other than slo and severity"}));

TEST(SloConfig, MissingFileSaysWhich) {
  auto cfg = LoadSloConfig("/nonexistent/slo.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(),
            "/nonexistent/slo.yaml: cannot read the SLO file: No such file or "
            "directory");
}

TEST(Durations, UnitsAndPromForm) {
  EXPECT_EQ(*ParseDurationNs("300ms"), 300'000'000);
  EXPECT_EQ(*ParseDurationNs("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseDurationNs("250us"), 250'000);
  EXPECT_EQ(*ParseDurationNs("5m"), 300'000'000'000);
  EXPECT_EQ(*ParseDurationNs("28d"), 28LL * 86400 * 1'000'000'000);
  EXPECT_EQ(*ParseDurationNs("1w"), 7LL * 86400 * 1'000'000'000);
  EXPECT_FALSE(ParseDurationNs("5").ok());
  EXPECT_FALSE(ParseDurationNs("m").ok());
  EXPECT_FALSE(ParseDurationNs("-1s").ok());
  EXPECT_EQ(PromDuration(300), "5m");
  EXPECT_EQ(PromDuration(7200), "2h");
  EXPECT_EQ(PromDuration(3 * 86400), "3d");
  EXPECT_EQ(PromDuration(90), "90s");
}

TEST(Rules, BurnThresholdsAreFactorTimesBudget) {
  auto cfg = ParseSloConfig(kValid, "slo.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::string rules = GenerateRules(*cfg, RulesFormat::kPrometheus);
  // 99.9%: budget 0.001; page at 14.4x over 1h and 5m.
  EXPECT_NE(rules.find("redline_slo:error_ratio:rate1h{slo=\"web\"} > "
                       "(14.4 * 0.001)"),
            std::string::npos)
      << rules;
  EXPECT_NE(rules.find("redline_slo:error_ratio:rate3d{slo=\"web\"} > "
                       "(1 * 0.001)"),
            std::string::npos);
  // 99.99%: budget 0.0001, not 9.99999999999e-05.
  EXPECT_NE(rules.find("rate5m{slo=\"retrans\"} > (14.4 * 0.0001)"),
            std::string::npos);
  // The custom page window and the SLO's labels and runbook.
  EXPECT_NE(rules.find("rate30m{slo=\"db-fsync\"} > (10 * 0.01)"),
            std::string::npos);
  EXPECT_NE(rules.find("runbook_url: https://wiki.example/db"),
            std::string::npos);
  EXPECT_NE(rules.find("runbook_url: file:///usr/share/doc/redline/"
                       "README.md#redlineslofastburn"),
            std::string::npos);
  // Each alert says what burns, and the SLO's own description leads.
  EXPECT_NE(rules.find("summary: SLO web (http_availability, 99.9% over 28d) "
                       "is burning its error budget fast"),
            std::string::npos)
      << rules;
  EXPECT_NE(rules.find("summary: SLO web (http_availability, 99.9% over 28d) "
                       "is eroding its error budget"),
            std::string::npos);
  EXPECT_NE(rules.find("description: Shop pages answer without 5xx. Error "
                       "ratio {{ $value | humanizePercentage }} over the long "
                       "window; the budget is 0.1%."),
            std::string::npos);
  // Both operator and plain forms hold the same groups.
  YAML::Node plain = YAML::Load(rules);
  YAML::Node op =
      YAML::Load(GenerateRules(*cfg, RulesFormat::kPrometheusOperator));
  EXPECT_EQ(op["kind"].as<std::string>(), "PrometheusRule");
  EXPECT_EQ(YAML::Dump(op["spec"]["groups"]), YAML::Dump(plain["groups"]));
  EXPECT_EQ(plain["groups"].size(), 5u);
  // Per SLO: 7 recorded windows, then page and ticket alerts.
  EXPECT_EQ(plain["groups"][0]["rules"].size(), 9u);
  EXPECT_EQ(
      plain["groups"][0]["rules"][7]["labels"]["severity"].as<std::string>(),
      "page");
}

}  // namespace
}  // namespace redline
