#include "agent/slo/slo_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/model/names.h"
#include "agent/model/request_protocols.h"
#include "exporters/status_macros.h"

namespace redline {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

const std::set<std::string>& SelectorKeys() {
  static const auto* keys = new std::set<std::string>{
      "comm",      "container_id", "pod_uid",   "systemd_unit",
      "namespace", "pod",          "container", "workload"};
  return *keys;
}

// The label values a protocol's codes can take (operation or outcome).
std::set<std::string> LabelValues(const char* (*name)(uint32_t)) {
  std::set<std::string> out;
  for (uint32_t code = 0; code < 256; ++code) out.insert(name(code));
  return out;
}

// Errors point at the node: "file:line:col: field.path: message".
class Parser {
 public:
  explicit Parser(std::string filename) : file_(std::move(filename)) {}

  absl::Status Err(const YAML::Node& n, const std::string& field,
                   absl::string_view msg) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_, ": ", field, ": ", msg));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        file_, ":", m.line + 1, ":", m.column + 1, ": ", field, ": ", msg));
  }

  // Rejects keys outside `allowed`: a typo must not silently change an SLO.
  absl::Status Keys(const YAML::Node& map, const std::string& field,
                    const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return Err(map, field, "want a mapping");
    for (const auto& kv : map) {
      const std::string k = kv.first.Scalar();
      if (!allowed.count(k)) {
        std::string want;
        for (const auto& a : allowed)
          absl::StrAppend(&want, want.empty() ? "" : ", ", a);
        return Err(kv.first, Join(field, k),
                   absl::StrCat("unknown key (want one of: ", want, ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Str(const YAML::Node& n,
                                  const std::string& field) const {
    if (!n.IsScalar() || n.Scalar().empty()) {
      return Err(n, field, "want a non-empty string");
    }
    return n.Scalar();
  }

  absl::StatusOr<double> Num(const YAML::Node& n,
                             const std::string& field) const {
    double v;
    if (!n.IsScalar() || !absl::SimpleAtod(n.Scalar(), &v) ||
        !std::isfinite(v)) {
      return Err(n, field,
                 absl::StrCat("want a number, got \"",
                              n.IsScalar() ? n.Scalar() : "", "\""));
    }
    return v;
  }

  absl::StatusOr<int64_t> Duration(const YAML::Node& n,
                                   const std::string& field) const {
    if (!n.IsScalar()) return Err(n, field, "want a duration like 5m");
    auto d = ParseDurationNs(n.Scalar());
    if (!d.ok()) return Err(n, field, d.status().message());
    return *d;
  }

  absl::StatusOr<std::vector<std::string>> StrList(
      const YAML::Node& n, const std::string& field) const {
    if (!n.IsSequence() || n.size() == 0) {
      return Err(n, field, "want a non-empty list");
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      ASSIGN_OR_RETURN(std::string s,
                       Str(n[i], absl::StrCat(field, "[", i, "]")));
      out.push_back(std::move(s));
    }
    return out;
  }

  static std::string Join(const std::string& a, const std::string& b) {
    return a.empty() ? b : absl::StrCat(a, ".", b);
  }

  absl::StatusOr<SloConfig> Config(const YAML::Node& root) const;

 private:
  absl::StatusOr<Slo> OneSlo(const YAML::Node& n, const std::string& f) const;
  absl::Status Selector(const YAML::Node& n, const std::string& f,
                        Slo* slo) const;
  absl::Status Sli(const YAML::Node& n, const std::string& f, Slo* slo) const;
  absl::Status RequestFields(const YAML::Node& n, const std::string& f,
                             bool any_protocol, Slo* slo) const;
  absl::Status CheckValues(const YAML::Node& n, const std::string& where,
                           const std::vector<std::string>& values,
                           const std::set<std::string>& known,
                           const char* what) const;
  // Labels learned at run time (gRPC methods): any printable value
  // without spaces, as the agent would export it.
  absl::Status CheckLearned(const YAML::Node& n, const std::string& where,
                            const std::vector<std::string>& values,
                            const char* what) const;
  absl::Status Alerting(const YAML::Node& n, const std::string& f,
                        Slo* slo) const;
  absl::StatusOr<std::vector<BurnWindow>> Windows(const YAML::Node& n,
                                                  const std::string& f) const;

  std::string file_;
};

absl::StatusOr<SloConfig> Parser::Config(const YAML::Node& root) const {
  if (!root.IsDefined() || root.IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": empty file"));
  }
  RETURN_IF_ERROR(Keys(root, "", {"slos"}));
  const YAML::Node slos = root["slos"];
  if (!slos || !slos.IsSequence() || slos.size() == 0) {
    return Err(slos ? slos : root, "slos", "want a non-empty list of SLOs");
  }
  SloConfig cfg;
  std::set<std::string> names;
  for (size_t i = 0; i < slos.size(); ++i) {
    const std::string f = absl::StrCat("slos[", i, "]");
    ASSIGN_OR_RETURN(Slo slo, OneSlo(slos[i], f));
    if (!names.insert(slo.name).second) {
      return Err(slos[i]["name"], f + ".name",
                 absl::StrCat("duplicate SLO name \"", slo.name, "\""));
    }
    cfg.slos.push_back(std::move(slo));
  }
  return cfg;
}

absl::StatusOr<Slo> Parser::OneSlo(const YAML::Node& n,
                                   const std::string& f) const {
  RETURN_IF_ERROR(Keys(n, f,
                       {"name", "selector", "sli", "objective", "window",
                        "alerting", "description"}));
  Slo slo;
  slo.line = n.Mark().line + 1;
  for (const char* req : {"name", "selector", "sli", "objective"}) {
    if (!n[req]) return Err(n, Join(f, req), "required");
  }
  ASSIGN_OR_RETURN(slo.name, Str(n["name"], f + ".name"));
  for (char c : slo.name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
      return Err(n["name"], f + ".name",
                 "use letters, digits, '-', '_' and '.' only");
    }
  }
  if (n["description"]) {
    ASSIGN_OR_RETURN(slo.description,
                     Str(n["description"], f + ".description"));
  }
  RETURN_IF_ERROR(Selector(n["selector"], f + ".selector", &slo));
  RETURN_IF_ERROR(Sli(n["sli"], f + ".sli", &slo));
  ASSIGN_OR_RETURN(double pct, Num(n["objective"], f + ".objective"));
  if (!(pct > 0 && pct < 100)) {
    return Err(n["objective"], f + ".objective",
               absl::StrCat("want a percentage in (0, 100), like 99.9; got ",
                            n["objective"].Scalar()));
  }
  slo.objective = pct / 100.0;
  if (n["window"]) {
    ASSIGN_OR_RETURN(int64_t w, Duration(n["window"], f + ".window"));
    if (w < 3600 * kSecond || w > 366 * 86400 * kSecond || w % kSecond) {
      return Err(n["window"], f + ".window",
                 "want whole seconds between 1h and 366d, like 28d");
    }
    slo.window_s = w / kSecond;
  }
  slo.page = DefaultPageWindows();
  slo.ticket = DefaultTicketWindows();
  if (n["alerting"]) {
    RETURN_IF_ERROR(Alerting(n["alerting"], f + ".alerting", &slo));
  }
  return slo;
}

absl::Status Parser::Selector(const YAML::Node& n, const std::string& f,
                              Slo* slo) const {
  RETURN_IF_ERROR(Keys(n, f, SelectorKeys()));
  if (n.size() == 0) return Err(n, f, "want at least one label to match");
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string kf = Join(f, key);
    Matcher m;
    if (kv.second.IsMap()) {
      RETURN_IF_ERROR(Keys(kv.second, kf, {"regex"}));
      ASSIGN_OR_RETURN(m.text, Str(kv.second["regex"], kf + ".regex"));
      try {
        m.re = std::make_shared<const std::regex>(m.text);
      } catch (const std::regex_error& e) {
        return Err(kv.second["regex"], kf + ".regex",
                   absl::StrCat("invalid regex: ", e.what()));
      }
      m.regex = true;
    } else {
      ASSIGN_OR_RETURN(m.text, Str(kv.second, kf));
    }
    slo->selector[key] = std::move(m);
  }
  return absl::OkStatus();
}

absl::Status Parser::Sli(const YAML::Node& n, const std::string& f,
                         Slo* slo) const {
  RETURN_IF_ERROR(Keys(n, f,
                       {"kind", "threshold", "syscalls", "errnos", "role",
                        "protocol", "operations", "outcomes"}));
  if (!n["kind"]) return Err(n, f + ".kind", "required");
  ASSIGN_OR_RETURN(std::string kind, Str(n["kind"], f + ".kind"));
  static const std::map<std::string, SliKind> kKinds = {
      {"http_availability", SliKind::kRequestAvailability},
      {"http_latency", SliKind::kRequestLatency},
      {"request_availability", SliKind::kRequestAvailability},
      {"request_latency", SliKind::kRequestLatency},
      {"syscall_latency", SliKind::kSyscallLatency},
      {"syscall_errors", SliKind::kSyscallErrors},
      {"tcp_retransmits", SliKind::kTcpRetransmits}};
  auto it = kKinds.find(kind);
  if (it == kKinds.end()) {
    return Err(n["kind"], f + ".kind",
               absl::StrCat("unknown SLI kind \"", kind,
                            "\" (want http_availability, http_latency, "
                            "request_availability, request_latency, "
                            "syscall_latency, syscall_errors, "
                            "tcp_retransmits)"));
  }
  slo->kind = it->second;
  slo->kind_name = kind;
  const bool latency = slo->kind == SliKind::kRequestLatency ||
                       slo->kind == SliKind::kSyscallLatency;
  const bool http = slo->kind == SliKind::kRequestAvailability ||
                    slo->kind == SliKind::kRequestLatency;
  const bool sys = slo->kind == SliKind::kSyscallLatency ||
                   slo->kind == SliKind::kSyscallErrors;
  // Each field belongs to some kinds only: say so rather than ignore it.
  auto only = [&](const char* key, bool allowed) -> absl::Status {
    if (n[key] && !allowed) {
      return Err(n[key], Join(f, key), absl::StrCat("not used by kind ", kind));
    }
    static const std::set<std::string> kOptional = {"errnos", "role",
                                                    "operations", "outcomes"};
    if (!n[key] && allowed && !kOptional.count(key)) {
      return Err(n, Join(f, key), absl::StrCat("required for kind ", kind));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(only("threshold", latency));
  RETURN_IF_ERROR(only("syscalls", sys));
  RETURN_IF_ERROR(only("errnos", slo->kind == SliKind::kSyscallErrors));
  RETURN_IF_ERROR(only("role", http));
  const bool any_protocol = absl::StartsWith(kind, "request_");
  RETURN_IF_ERROR(only("protocol", any_protocol));
  RETURN_IF_ERROR(only("operations", http));
  RETURN_IF_ERROR(only("outcomes", slo->kind == SliKind::kRequestAvailability));
  if (http) RETURN_IF_ERROR(RequestFields(n, f, any_protocol, slo));
  if (latency) {
    ASSIGN_OR_RETURN(int64_t t, Duration(n["threshold"], f + ".threshold"));
    if (t <= 0 || t > 3600 * kSecond) {
      return Err(n["threshold"], f + ".threshold",
                 "want a duration above 0 and at most 1h");
    }
    slo->threshold_ns = static_cast<uint64_t>(t);
  }
  if (sys) {
    ASSIGN_OR_RETURN(slo->syscalls, StrList(n["syscalls"], f + ".syscalls"));
    for (size_t i = 0; i < slo->syscalls.size(); ++i) {
      if (SyscallNumber(slo->syscalls[i]) < 0) {
        return Err(n["syscalls"][i], absl::StrCat(f, ".syscalls[", i, "]"),
                   absl::StrCat("unknown syscall \"", slo->syscalls[i],
                                "\" on this architecture"));
      }
    }
  }
  if (n["errnos"]) {
    ASSIGN_OR_RETURN(slo->errnos, StrList(n["errnos"], f + ".errnos"));
    for (size_t i = 0; i < slo->errnos.size(); ++i) {
      bool known = false;
      for (uint32_t e = 1; e < 4096 && !known; ++e) {
        known = ErrnoName(e) == slo->errnos[i];
      }
      if (!known) {
        return Err(n["errnos"][i], absl::StrCat(f, ".errnos[", i, "]"),
                   absl::StrCat("unknown errno \"", slo->errnos[i],
                                "\" (want a name like ECONNREFUSED)"));
      }
    }
  }
  if (n["role"]) {
    ASSIGN_OR_RETURN(slo->role, Str(n["role"], f + ".role"));
    if (slo->role != "server" && slo->role != "client") {
      return Err(n["role"], f + ".role", "want server or client");
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::CheckValues(const YAML::Node& n, const std::string& where,
                                 const std::vector<std::string>& values,
                                 const std::set<std::string>& known,
                                 const char* what) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!known.count(values[i])) {
      return Err(
          n[i], absl::StrCat(where, "[", i, "]"),
          absl::StrCat("unknown ", what, " \"", values[i],
                       "\" (want one of: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::CheckLearned(const YAML::Node& n,
                                  const std::string& where,
                                  const std::vector<std::string>& values,
                                  const char* what) const {
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    const bool printable =
        !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
          return c > ' ' && c < 0x7f;
        });
    if (!printable) {
      return Err(n[i], absl::StrCat(where, "[", i, "]"),
                 absl::StrCat("bad ", what, " \"", v,
                              "\" (want a label as exported, e.g. "
                              "\"pkg.Service/Method\", \"pkg.Service\" or "
                              "\"other\")"));
    }
  }
  return absl::OkStatus();
}

// protocol, operations and outcomes of a request SLI.
absl::Status Parser::RequestFields(const YAML::Node& n, const std::string& f,
                                   bool any_protocol, Slo* slo) const {
  if (any_protocol) {
    ASSIGN_OR_RETURN(slo->protocol, Str(n["protocol"], f + ".protocol"));
  }
  const RequestProtocol* p = FindRequestProtocol(slo->protocol);
  if (p == nullptr) {
    std::vector<std::string> names;
    for (const RequestProtocol& r : RequestProtocols()) names.push_back(r.name);
    return Err(n["protocol"], f + ".protocol",
               absl::StrCat("unknown protocol \"", slo->protocol, "\" (want ",
                            absl::StrJoin(names, ", "), ")"));
  }
  if (n["operations"]) {
    ASSIGN_OR_RETURN(slo->operations,
                     StrList(n["operations"], f + ".operations"));
    if (p->operations_learned) {
      RETURN_IF_ERROR(CheckLearned(n["operations"], f + ".operations",
                                   slo->operations, p->operation_label));
    } else {
      RETURN_IF_ERROR(CheckValues(n["operations"], f + ".operations",
                                  slo->operations,
                                  LabelValues(p->operation_name),
                                  p->operation_label));
    }
  }
  if (n["outcomes"]) {
    ASSIGN_OR_RETURN(slo->bad_outcomes,
                     StrList(n["outcomes"], f + ".outcomes"));
    RETURN_IF_ERROR(CheckValues(n["outcomes"], f + ".outcomes",
                                slo->bad_outcomes, LabelValues(p->outcome_name),
                                p->outcome_label));
  }
  return absl::OkStatus();
}

absl::Status Parser::Alerting(const YAML::Node& n, const std::string& f,
                              Slo* slo) const {
  RETURN_IF_ERROR(Keys(n, f, {"runbook_url", "labels", "page", "ticket"}));
  if (n["runbook_url"]) {
    ASSIGN_OR_RETURN(slo->runbook_url,
                     Str(n["runbook_url"], f + ".runbook_url"));
  }
  if (n["labels"]) {
    const YAML::Node l = n["labels"];
    if (!l.IsMap()) return Err(l, f + ".labels", "want a mapping");
    for (const auto& kv : l) {
      const std::string k = kv.first.Scalar();
      bool ok =
          !k.empty() && !absl::ascii_isdigit(k[0]) && k.rfind("__", 0) != 0;
      for (char c : k) ok = ok && (absl::ascii_isalnum(c) || c == '_');
      if (!ok || k == "slo" || k == "severity") {
        return Err(kv.first, Join(f + ".labels", k),
                   "want a Prometheus label name other than slo and "
                   "severity");
      }
      ASSIGN_OR_RETURN(slo->labels[k], Str(kv.second, Join(f + ".labels", k)));
    }
  }
  if (n["page"]) {
    ASSIGN_OR_RETURN(slo->page, Windows(n["page"], f + ".page"));
  }
  if (n["ticket"]) {
    ASSIGN_OR_RETURN(slo->ticket, Windows(n["ticket"], f + ".ticket"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BurnWindow>> Parser::Windows(
    const YAML::Node& n, const std::string& f) const {
  if (!n.IsSequence()) return Err(n, f, "want a list of {long, short, factor}");
  std::vector<BurnWindow> out;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string wf = absl::StrCat(f, "[", i, "]");
    RETURN_IF_ERROR(Keys(n[i], wf, {"long", "short", "factor"}));
    for (const char* req : {"long", "short", "factor"}) {
      if (!n[i][req]) return Err(n[i], Join(wf, req), "required");
    }
    BurnWindow w;
    ASSIGN_OR_RETURN(int64_t l, Duration(n[i]["long"], wf + ".long"));
    ASSIGN_OR_RETURN(int64_t s, Duration(n[i]["short"], wf + ".short"));
    ASSIGN_OR_RETURN(w.factor, Num(n[i]["factor"], wf + ".factor"));
    if (l % (60 * kSecond) || s % (60 * kSecond) || s <= 0) {
      return Err(n[i], wf, "windows must be whole minutes");
    }
    if (s >= l)
      return Err(n[i]["short"], wf + ".short", "must be shorter than long");
    if (w.factor <= 0)
      return Err(n[i]["factor"], wf + ".factor", "must be above 0");
    w.long_s = l / kSecond;
    w.short_s = s / kSecond;
    out.push_back(w);
  }
  return out;
}

}  // namespace

const char* SliKindName(SliKind k) {
  switch (k) {
    case SliKind::kRequestAvailability:
      return "request_availability";
    case SliKind::kRequestLatency:
      return "request_latency";
    case SliKind::kSyscallLatency:
      return "syscall_latency";
    case SliKind::kSyscallErrors:
      return "syscall_errors";
    case SliKind::kTcpRetransmits:
      return "tcp_retransmits";
  }
  return "unknown";
}

bool Matcher::Matches(absl::string_view value) const {
  if (!regex) return value == text;
  return std::regex_match(value.begin(), value.end(), *re);
}

std::vector<BurnWindow> DefaultPageWindows() {
  return {{3600, 300, 14.4}, {6 * 3600, 1800, 6}};
}

std::vector<BurnWindow> DefaultTicketWindows() {
  return {{86400, 2 * 3600, 3}, {3 * 86400, 6 * 3600, 1}};
}

absl::StatusOr<int64_t> ParseDurationNs(absl::string_view s) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"ms", kSecond / 1000},
      {"us", kSecond / 1000000},
      {"s", kSecond},
      {"m", 60 * kSecond},
      {"h", 3600 * kSecond},
      {"d", 86400 * kSecond},
      {"w", 7 * 86400 * kSecond}};
  for (const auto& [unit, ns] : kUnits) {
    if (!absl::EndsWith(s, unit)) continue;
    absl::string_view num = s.substr(0, s.size() - strlen(unit));
    double v;
    // "ms" and "us" come before "s" in kUnits, so "300ms" is not 300 "m".
    if (num.empty() || !absl::SimpleAtod(num, &v) || !(v >= 0) ||
        v * static_cast<double>(ns) > 9.2e18) {
      break;
    }
    return static_cast<int64_t>(std::llround(v * static_cast<double>(ns)));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "want a duration like 300ms, 10s, 5m, 1h or 28d; got \"", s, "\""));
}

std::string PromDuration(int64_t seconds) {
  if (seconds % 86400 == 0) return absl::StrCat(seconds / 86400, "d");
  if (seconds % 3600 == 0) return absl::StrCat(seconds / 3600, "h");
  if (seconds % 60 == 0) return absl::StrCat(seconds / 60, "m");
  return absl::StrCat(seconds, "s");
}

absl::StatusOr<SloConfig> ParseSloConfig(const std::string& text,
                                         const std::string& filename) {
  Parser p(filename);
  try {
    return p.Config(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", e.mark.line + 1, ":", e.mark.column + 1,
                     ": invalid YAML: ", e.msg));
  }
}

absl::StatusOr<SloConfig> LoadSloConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the SLO file: ", strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSloConfig(ss.str(), path);
}

}  // namespace redline
