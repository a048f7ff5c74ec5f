#include "agent/app/flags.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/app/config_file.h"
#include "agent/base/logging.h"
#include "agent/model/history_time.h"
#include "exporters/series_budget.h"

namespace redline {
namespace {

using Setter = std::function<absl::Status(Options&, const std::string&)>;

struct FlagDef {
  bool is_bool;
  Setter set;
};

Setter U32(uint32_t Options::*field, uint32_t min, uint32_t max) {
  return [=](Options& o, const std::string& v) -> absl::Status {
    uint32_t n;
    if (!absl::SimpleAtoi(v, &n) || n < min || n > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("want an integer in [", min, ", ", max, "], got '", v,
                       "'"));
    }
    o.*field = n;
    return absl::OkStatus();
  };
}

Setter Str(std::string Options::*field) {
  return [=](Options& o, const std::string& v) -> absl::Status {
    if (v.empty()) return absl::InvalidArgumentError("value is empty");
    o.*field = v;
    return absl::OkStatus();
  };
}

Setter Bool(bool Options::*field) {
  return [=](Options& o, const std::string& v) -> absl::Status {
    if (v == "" || v == "true" || v == "1") {
      o.*field = true;
    } else if (v == "false" || v == "0") {
      o.*field = false;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("want true or false, got '", v, "'"));
    }
    return absl::OkStatus();
  };
}

const std::map<std::string, FlagDef>& Defs() {
  static const auto* defs = new std::map<std::string, FlagDef>{
      {"help", {true, Bool(&Options::help)}},
      {"version", {true, Bool(&Options::version)}},
      {"pid-labels", {true, Bool(&Options::pid_labels)}},
      {"listen", {false, Str(&Options::listen)}},
      {"log-level",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          if (v != "debug" && v != "info" && v != "warn" && v != "error") {
            return absl::InvalidArgumentError(absl::StrCat(
                "want debug, info, warn or error, got '", v, "'"));
          }
          o.log_level = v;
          return absl::OkStatus();
        }}},
      {"btf", {false, Str(&Options::btf)}},
      {"refresh-interval",
       {false, U32(&Options::refresh_interval_s, 1, 3600)}},
      {"max-processes", {false, U32(&Options::max_processes, 64, 1u << 22)}},
      {"max-syscall-entries",
       {false, U32(&Options::max_syscall_entries, 64, 1u << 22)}},
      {"max-errno-entries",
       {false, U32(&Options::max_errno_entries, 64, 1u << 22)}},
      {"identity-labels",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          o.identity_labels.clear();
          if (v == "none") return absl::OkStatus();
          for (absl::string_view l : absl::StrSplit(v, ',')) {
            if (l != "container_id" && l != "pod_uid" && l != "systemd_unit" &&
                l != "kubernetes") {
              return absl::InvalidArgumentError(absl::StrCat(
                  "unknown label '", l,
                  "' (want container_id, pod_uid, systemd_unit, kubernetes "
                  "or none)"));
            }
            o.identity_labels.emplace_back(l);
          }
          return absl::OkStatus();
        }}},
      {"cgroup-root", {false, Str(&Options::cgroup_root)}},
      {"kubelet-url", {false, Str(&Options::kubelet_url)}},
      {"kubelet-token-file", {false, Str(&Options::kubelet_token_file)}},
      {"kubelet-ca-file", {false, Str(&Options::kubelet_ca_file)}},
      {"kubelet-insecure-skip-verify",
       {true, [](Options& o, const std::string&) -> absl::Status {
          o.kubelet_insecure_skip_verify = true;
          return absl::OkStatus();
        }}},
      {"max-sched-entries",
       {false, U32(&Options::max_sched_entries, 64, 1u << 22)}},
      {"max-disk-entries",
       {false, U32(&Options::max_disk_entries, 64, 1u << 22)}},
      {"max-tcp-entries",
       {false, U32(&Options::max_tcp_entries, 64, 1u << 22)}},
      {"max-http-entries",
       {false, U32(&Options::max_http_entries, 64, 1u << 22)}},
      {"max-connections",
       {false, U32(&Options::max_connections, 16, 1u << 22)}},
      {"slo-config", {false, Str(&Options::slo_config)}},
      {"web-config-file", {false, Str(&Options::web_config_file)}},
      {"batch", {true, Bool(&Options::batch)}},
      {"json", {true, Bool(&Options::json)}},
      {"connect", {false, Str(&Options::connect)}},
      {"sort", {false, Str(&Options::top_sort)}},
      {"filter", {false, Str(&Options::top_filter)}},
      {"why", {false, Str(&Options::top_why)}},
      {"at", {false, Str(&Options::top_at)}},
      {"history",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          auto d = ParseHistoryKeep(v);
          if (!d.ok()) return d.status();
          o.history_s = absl::ToInt64Seconds(*d);
          return absl::OkStatus();
        }}},
      {"group",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          if (v != "process" && v != "container" && v != "pod" &&
              v != "unit") {
            return absl::InvalidArgumentError(absl::StrCat(
                "unknown grouping '", v,
                "' (want process, container, pod or unit)"));
          }
          o.top_group = v;
          return absl::OkStatus();
        }}},
      {"iterations", {false, U32(&Options::iterations, 0, 1u << 30)}},
      {"delay",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          double d;
          if (!absl::SimpleAtod(v, &d) || !(d >= 0.1 && d <= 3600)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "want seconds between 0.1 and 3600, got '", v, "'"));
          }
          o.delay_s = d;
          return absl::OkStatus();
        }}},
      {"output", {false, Str(&Options::output)}},
      {"format",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          if (v != "prometheus" && v != "prometheus-operator") {
            return absl::InvalidArgumentError(absl::StrCat(
                "unknown format '", v,
                "' (want prometheus or prometheus-operator)"));
          }
          o.rules_format = v;
          return absl::OkStatus();
        }}},
      {"strict", {true, Bool(&Options::strict)}},
      {"tls", {true, Bool(&Options::tls)}},
      {"tls-late-attach", {true, Bool(&Options::tls_late_attach)}},
      {"h2-buffer-bytes",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          uint32_t n = 0;
          // A ring buffer is a power of 2 of pages.
          if (!absl::SimpleAtoi(v, &n) || n < (64u << 10) || n > (1u << 30) ||
              (n & (n - 1)) != 0) {
            return absl::InvalidArgumentError(absl::StrCat(
                "want a power of 2 from 65536 to 1073741824 bytes, got '", v,
                "'"));
          }
          o.h2_buffer_bytes = n;
          return absl::OkStatus();
        }}},
      {"dns-ports",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          o.dns_ports.clear();
          for (absl::string_view p : absl::StrSplit(v, ',')) {
            uint32_t port = 0;
            if (!absl::SimpleAtoi(p, &port) || port == 0 || port > 65535) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "want UDP ports from 1 to 65535, got '", p, "'"));
            }
            o.dns_ports.push_back(static_cast<uint16_t>(port));
          }
          if (o.dns_ports.size() > 4) {  // RL_DNS_MAX_PORTS
            return absl::InvalidArgumentError(
                absl::StrCat("at most 4 ports, got ", o.dns_ports.size()));
          }
          return absl::OkStatus();
        }}},
      {"native-histograms-only",
       {true, Bool(&Options::native_histograms_only)}},
      {"programs-off",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          o.programs_off = absl::StrSplit(v, ',', absl::SkipEmpty());
          if (o.programs_off.empty()) {
            return absl::InvalidArgumentError("want program names");
          }
          return absl::OkStatus();
        }}},
      {"probes",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          o.probes.clear();
          for (absl::string_view p : absl::StrSplit(v, ',')) {
            if (p != "syscalls" && p != "sched" && p != "block" &&
                p != "tcp" && p != "l7") {
              return absl::InvalidArgumentError(absl::StrCat(
                  "unknown probe '", p,
                  "' (want syscalls, sched, block, tcp, l7)"));
            }
            o.probes.emplace_back(p);
          }
          return absl::OkStatus();
        }}},
      {"max-series-per-family",
       {false, U32(&Options::max_series_per_family, 10, 1u << 22)}},
      {"max-series",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          uint32_t n = 0;
          // Below 500 the fixed cost (gauges, one [other] per family,
          // redline_series) leaves little to keep.
          if (!absl::SimpleAtoi(v, &n) || (n != 0 && n < 500) ||
              n > (1u << 24)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "want 0 (no limit) or 500 to 16777216 label sets, got '", v,
                "'"));
          }
          o.max_series = n;
          return absl::OkStatus();
        }}},
      {"series-priority",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          absl::StatusOr<std::map<std::string, int>> p =
              prom::ParseSeriesPriorities(v);
          if (!p.ok()) return p.status();
          o.series_priorities = *std::move(p);
          return absl::OkStatus();
        }}},
      {"syscall-histograms",
       {false,
        [](Options& o, const std::string& v) -> absl::Status {
          absl::StatusOr<SyscallHistogramPolicy> p =
              ParseSyscallHistogramPolicy(v);
          if (!p.ok()) return p.status();
          o.syscall_histograms = *std::move(p);
          return absl::OkStatus();
        }}},
  };
  return *defs;
}

// Applies args to o; command words only where allowed.
absl::Status Apply(const std::vector<std::string>& args, Options& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h") {
      o.help = true;
      continue;
    }
    // top's short forms, as top(1) spells them.
    if (a == "-b" || a == "-d" || a == "-n") {
      const char* name = a == "-b" ? "batch" : a == "-d" ? "delay" : "iterations";
      std::string value;
      if (a != "-b") {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
        }
        value = args[++i];
      }
      if (absl::Status s = Defs().at(name).set(o, value); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(a, ": ", s.message()));
      }
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      if (!o.command.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", a, "'"));
      }
      if (a != "run" && a != "check" && a != "rules" && a != "top") {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown command '", a, "' (want run, check, rules or top)"));
      }
      o.command = a;
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto it = Defs().find(name);
    if (it == Defs().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name));
    }
    if (!it->second.is_bool && !has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (absl::Status s = it->second.set(o, value); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

static absl::StatusOr<Options> ParseFlagsRaw(const std::vector<std::string>& args) {
  // --config=PATH: the file's flags go first, so the command line wins.
  std::string config;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("flag --config needs a value");
      }
      config = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      config = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
    }
  }
  Options o;
  if (!config.empty()) {
    auto file = LoadConfigFile(config);
    if (!file.ok()) return file.status();
    for (const ConfigArg& a : *file) {
      if (absl::Status s = Apply({a.flag}, o); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(a.origin, ": ", s.message()));
      }
    }
  }
  if (absl::Status s = Apply(rest, o); !s.ok()) return s;
  if (o.command.empty() && !o.help && !o.version) {
    return absl::InvalidArgumentError(
        "no command given (want run, check, rules or top)");
  }
  if (o.command == "rules" && o.slo_config.empty()) {
    return absl::InvalidArgumentError("rules needs --slo-config=PATH");
  }
  return o;
}

absl::StatusOr<Options> ParseFlags(const std::vector<std::string>& args) {
  auto o = ParseFlagsRaw(args);
  if (!o.ok()) {
    return absl::Status(o.status().code(), OneLine(o.status().message()));
  }
  return o;
}

std::string UsageText() {
  return absl::StrCat(
      "usage: redline <command> [flags]\n"
      "\n"
      "commands:\n"
      "  run     load the BPF programs and serve metrics on --listen\n"
      "  check   preflight: kernel, BTF, privileges, tracepoints, BPF load\n"
      "  rules   print Prometheus recording and burn-rate alert rules for\n"
      "          the SLOs of --slo-config\n"
      "  top     per-workload rates and latency over each interval, full\n"
      "          screen; -b (batch text), --json, -d SECONDS (2), -n COUNT,\n"
      "          --sort=COLUMN (CPU%), --group=process|container|pod|unit,\n"
      "          --filter=TEXT (names containing it), --why=NAME (batch:\n"
      "          where that row's threads spent the interval),\n"
      "          --connect=URL (a running agent; else loads the programs),\n"
      "          --at=TIME (with --connect, batch: the agent's interval at\n"
      "          -5m, 14:03 today or RFC 3339, from its --history)\n"
      "\n"
      "flags:\n"
      "  --config=FILE             flags from a YAML file (keys are flag names\n"
      "                            without dashes); the command line wins\n"
      "  --listen=ADDR             host:port, [ipv6]:port or :port (default ",
      kDefaultListen,
      ")\n"
      "  --log-level=LEVEL         debug, info, warn, error (default info)\n"
      "  --pid-labels              add a pid label to per-process series\n"
      "  --refresh-interval=SEC    background map read and cleanup (default "
      "10)\n"
      "  --history=DURATION        per-refresh history for top --at and\n"
      "                            /api/v1/history (default 1h, 0: off; an\n"
      "                            hour at 10 s of 500 busy workloads: "
      "29 MiB)\n"
      "  --max-processes=N         kernel map size for processes (default "
      "32768)\n"
      "  --max-syscall-entries=N   (process, syscall) pairs (default 65536)\n"
      "  --max-errno-entries=N     (process, syscall, errno) (default 16384)\n"
      "  --max-sched-entries=N     (process, cgroup, name) for CPU and run\n"
      "                            queue (default 32768)\n"
      "  --max-disk-entries=N      (device, op, cgroup, name) (default 16384)\n"
      "  --max-tcp-entries=N       (workload, peer) for TCP (default 16384)\n"
      "  --max-http-entries=N      (workload, method, status, peer) for HTTP\n"
      "                            (default 16384)\n"
      "  --max-connections=N       TCP connections followed for request\n"
      "                            metrics at once (default 65536)\n"
      "  --probes=LIST             syscalls,sched,block,tcp,l7 (default all)\n"
      "  --programs-off=LIST       programs not to load, e.g. sched_wakeup or\n"
      "                            tcp/tcp_probe (names as in\n"
      "                            redline_bpf_program_attached)\n"
      "  --strict                  exit non-zero if any program that is not\n"
      "                            turned off fails to load or attach\n"
      "  --tls                     request metrics for TLS too: uprobes on\n"
      "                            OpenSSL/GnuTLS mapped at start (needs\n"
      "                            CAP_SYS_ADMIN; ~0.1 s more to exit per uprobe)\n"
      "  --tls-late-attach         with --tls, also libraries first mapped after\n"
      "                            start (keeps CAP_SYS_ADMIN and\n"
      "                            CAP_SYS_PTRACE: uprobes need them)\n"
      "  --h2-buffer-bytes=N       HTTP/2 frame events to the agent: ring\n"
      "                            buffer size, a power of 2 (default 4 MiB)\n"
      "  --dns-ports=LIST          UDP ports DNS is served on, up to 4\n"
      "                            (default 53), e.g. 53,5353\n"
      "  --native-histograms-only  protobuf scrapes (Prometheus with native\n"
      "                            histograms) get no classic buckets; text\n"
      "                            scrapes always do\n"
      "  --max-series-per-family=N label sets per metric family before the\n"
      "                            smallest fold into [other] (default 2000)\n"
      "  --max-series=N            label sets of all workload families together\n"
      "                            (0: no limit, the default; else >= 500):\n"
      "                            RED counters kept first, histograms last\n"
      "  --series-priority=LIST    with --max-series, levels for named\n"
      "                            families: family=level,... (0 kept first\n"
      "                            .. 9; defaults: RED counts 0, other\n"
      "                            counters and request histograms 1, other\n"
      "                            histograms 2)\n"
      "  --syscall-histograms=S    which syscalls keep a duration histogram:\n"
      "                            all (default), top:N (each workload's N\n"
      "                            by time) or names (read,write,...); the\n"
      "                            rest sum into syscall=\"[other]\"\n"
      "  --identity-labels=LIST    container_id,pod_uid,systemd_unit,kubernetes\n"
      "                            (default all) or none\n"
      "  --cgroup-root=PATH        cgroup v2 mount (default: from mountinfo)\n"
      "  --kubelet-url=URL         kubelet for pod names, e.g.\n"
      "                            https://$HOST_IP:10250 (default in a pod:\n"
      "                            https://$HOST_IP:10250 when HOST_IP is set)\n"
      "  --kubelet-token-file=F    bearer token (default: service account)\n"
      "  --kubelet-ca-file=F       CA for the kubelet (default: service account)\n"
      "  --kubelet-insecure-skip-verify  do not verify the kubelet certificate\n"
      "  --btf=PATH                kernel BTF for check (default "
      "/sys/kernel/btf/vmlinux)\n"
      "  --slo-config=PATH         SLO file (YAML; see README \"SLOs\")\n"
      "  --web-config-file=PATH    TLS and basic auth for --listen, in the\n"
      "                            Prometheus web config format (README\n"
      "                            \"Securing /metrics\"; default plain HTTP)\n"
      "  --format=F                rules: prometheus (a rule file, default) or\n"
      "                            prometheus-operator (a PrometheusRule)\n"
      "  --output=FILE             rules: write here instead of stdout\n"
      "  --help, --version\n");
}

ProbeSetOptions ProbeOptionsFrom(const Options& opts, IdentityResolver* r) {
  ProbeSetOptions p;
  p.probes = opts.probes;
  p.max_processes = opts.max_processes;
  p.max_syscall_entries = opts.max_syscall_entries;
  p.max_errno_entries = opts.max_errno_entries;
  p.max_sched_entries = opts.max_sched_entries;
  p.max_disk_entries = opts.max_disk_entries;
  p.max_tcp_entries = opts.max_tcp_entries;
  p.max_http_entries = opts.max_http_entries;
  p.max_connections = opts.max_connections;
  p.tls = opts.tls;
  p.tls_late_attach = opts.tls_late_attach;
  p.dns_ports = opts.dns_ports;
  p.h2_buffer_bytes = opts.h2_buffer_bytes;
  NamingOptions& a = p.naming;
  a.pid_labels = opts.pid_labels;
  a.resolver = r;
  auto on = [&opts](const char* l) {
    return std::find(opts.identity_labels.begin(), opts.identity_labels.end(),
                     l) != opts.identity_labels.end();
  };
  a.labels.container_id = on("container_id");
  a.labels.pod_uid = on("pod_uid");
  a.labels.systemd_unit = on("systemd_unit");
  a.labels.kubernetes = on("kubernetes");
  return p;
}

}  // namespace redline
