#include "agent/slo/slo_rules.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace redline {
namespace {

// Where packaging installs the README, whose runbook sections are named
// after the alerts (README "Runbooks").
constexpr char kDefaultRunbookBase[] =
    "file:///usr/share/doc/redline/README.md";

// A ratio or factor as people write it: 12 significant digits absorb the
// binary error of 1 - 0.999 ("0.001", not "0.0009999999999998899").
std::string Num(double v) { return absl::StrFormat("%.12g", v); }

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string SloSel(const Slo& slo) {
  return absl::StrCat("slo=", Quote(slo.name));
}

void Literal(YAML::Emitter& e, const char* key, const std::string& text) {
  e << YAML::Key << key << YAML::Value << YAML::Literal << text;
}

void RecordingRules(YAML::Emitter& e, const Slo& slo) {
  for (int64_t w : RecordedWindows(slo)) {
    const std::string r = PromDuration(w);
    e << YAML::BeginMap;
    e << YAML::Key << "record" << YAML::Value << ErrorRatioRecord(w);
    Literal(e, "expr",
            absl::StrCat("sum(rate(redline_slo_events_total{", SloSel(slo),
                         ",outcome=\"bad\"}[", r, "]))\n/\n",
                         "sum(rate(redline_slo_events_total{", SloSel(slo),
                         "}[", r, "]))"));
    e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key
      << "slo" << YAML::Value << slo.name << YAML::EndMap;
    e << YAML::EndMap;
  }
}

// (long > f * budget and short > f * budget) or ... for each window pair.
std::string BurnExpr(const Slo& slo, const std::vector<BurnWindow>& ws) {
  const std::string budget = Num(1.0 - slo.objective);
  std::string expr;
  for (size_t i = 0; i < ws.size(); ++i) {
    const std::string limit =
        absl::StrCat("(", Num(ws[i].factor), " * ", budget, ")");
    absl::StrAppend(&expr, i ? "\nor\n" : "", "(\n  ",
                    ErrorRatioRecord(ws[i].long_s), "{", SloSel(slo), "} > ",
                    limit, "\nand\n  ", ErrorRatioRecord(ws[i].short_s), "{",
                    SloSel(slo), "} > ", limit, "\n)");
  }
  return expr;
}

// "14.4x over both 1h and 5m, or 6x over both 6h and 30m"
std::string WindowText(const std::vector<BurnWindow>& ws) {
  std::string out;
  for (const auto& w : ws) {
    absl::StrAppend(&out, out.empty() ? "" : ", or ", Num(w.factor),
                    "x over both ", PromDuration(w.long_s), " and ",
                    PromDuration(w.short_s));
  }
  return out;
}

void Alert(YAML::Emitter& e, const Slo& slo, const char* name,
           const char* severity, const std::vector<BurnWindow>& ws) {
  if (ws.empty()) return;
  const std::string window = PromDuration(slo.window_s);
  e << YAML::BeginMap;
  e << YAML::Key << "alert" << YAML::Value << name;
  Literal(e, "expr", BurnExpr(slo, ws));
  e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "severity" << YAML::Value << severity;
  e << YAML::Key << "slo" << YAML::Value << slo.name;
  for (const auto& [k, v] : slo.labels) e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap;
  e << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "summary" << YAML::Value
    << absl::StrCat("SLO ", slo.name, " (",
                    slo.kind_name.empty() ? SliKindName(slo.kind)
                                          : slo.kind_name.c_str(),
                    ", ", Num(slo.objective * 100), "% over ", window, ") is ",
                    std::string(severity) == "page" ? "burning its error "
                                                      "budget fast"
                                                    : "eroding its error "
                                                      "budget");
  e << YAML::Key << "description" << YAML::Value
    << absl::StrCat(
           slo.description.empty() ? "" : slo.description + ". ",
           "Error ratio {{ $value | humanizePercentage }} over the long "
           "window; the budget is ",
           Num((1 - slo.objective) * 100),
           "%. Fires when errors run at the budget rate times ", WindowText(ws),
           ". At ", Num(ws.front().factor), "x the ", window, " budget lasts ",
           absl::StrFormat("%.1f", static_cast<double>(slo.window_s) /
                                       ws.front().factor / 3600),
           " hours.");
  e << YAML::Key << "runbook_url" << YAML::Value
    << (slo.runbook_url.empty() ? absl::StrCat(kDefaultRunbookBase, "#",
                                               absl::AsciiStrToLower(name))
                                : slo.runbook_url);
  e << YAML::EndMap << YAML::EndMap;
}

void Groups(YAML::Emitter& e, const SloConfig& cfg) {
  e << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
  for (const Slo& slo : cfg.slos) {
    // One group per SLO: its recording rules are evaluated before its
    // alerts in the same pass, so an alert never reads a stale ratio.
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << "redline-slo-" + slo.name;
    e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    RecordingRules(e, slo);
    Alert(e, slo, kFastBurnAlert, "page", slo.page);
    Alert(e, slo, kSlowBurnAlert, "ticket", slo.ticket);
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

}  // namespace

std::vector<int64_t> RecordedWindows(const Slo& slo) {
  std::set<int64_t> w = {300, 1800, 3600, 2 * 3600, 6 * 3600, 86400, 3 * 86400};
  for (const auto* ws : {&slo.page, &slo.ticket}) {
    for (const auto& b : *ws) {
      w.insert(b.long_s);
      w.insert(b.short_s);
    }
  }
  return {w.begin(), w.end()};
}

std::string ErrorRatioRecord(int64_t window_s) {
  return absl::StrCat("redline_slo:error_ratio:rate", PromDuration(window_s));
}

std::string GenerateRules(const SloConfig& cfg, RulesFormat format) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  if (format == RulesFormat::kPrometheusOperator) {
    e << YAML::Key << "apiVersion" << YAML::Value << "monitoring.coreos.com/v1";
    e << YAML::Key << "kind" << YAML::Value << "PrometheusRule";
    e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << "redline-slos";
    e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key
      << "app.kubernetes.io/name" << YAML::Value << "redline" << YAML::EndMap;
    e << YAML::EndMap;
    e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
    Groups(e, cfg);
    e << YAML::EndMap;
  } else {
    Groups(e, cfg);
  }
  e << YAML::EndMap;
  return absl::StrCat(
      "# Generated by `redline rules` from the SLO file: edit that, not "
      "this.\n",
      e.c_str(), "\n");
}

}  // namespace redline
