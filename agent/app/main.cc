// redline: eBPF host observability agent.
#include <malloc.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/app/check.h"
#include "agent/app/flags.h"
#include "agent/app/top_command.h"
#include "agent/base/logging.h"
#include "agent/base/privileges.h"
#include "agent/identity/host_identity.h"
#include "agent/metrics/self_metrics.h"
#include "agent/metrics/snapshot_collector.h"
#include "agent/metrics/snapshot_json.h"
#include "agent/metrics/snapshot_metrics.h"
#include "agent/model/history.h"
#include "agent/model/history_time.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/probe_set.h"
#include "agent/probes/store.h"
#include "agent/slo/slo_config.h"
#include "agent/slo/slo_rules.h"
#include "agent/slo/slo_runtime.h"
#include "exporters/cardinality_governor.h"
#include "exporters/exposer.h"
#include "exporters/registry.h"
#include "exporters/web_config.h"
#include "redline_version.h"

namespace redline {
namespace {

constexpr int kExitUsage = 2;

int Fail(absl::string_view msg) {
  std::fprintf(stderr, "redline: %s\n", OneLine(msg).c_str());
  return kExitUsage;
}

constexpr char kServiceAccount[] =
    "/var/run/secrets/kubernetes.io/serviceaccount/";

bool Exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// Container/pod/unit labels from cgroup v2 paths, and Kubernetes names from
// the kubelet when --kubelet-url is given or we run in a pod (service
// account token present and HOST_IP set by the downward API).
std::unique_ptr<HostIdentity> MakeIdentity(const Options& opts) {
  if (opts.identity_labels.empty()) return nullptr;
  std::unique_ptr<CgroupPaths> paths;
  if (auto p = CgroupPaths::Open(opts.cgroup_root); p.ok()) {
    paths = std::move(*p);
    Log(LogLevel::kDebug, "cgroup v2 root: ", paths->mount());
  } else {
    Log(LogLevel::kWarn, p.status().message());
  }
  KubeletOptions k;
  k.url = opts.kubelet_url;
  k.token_file = opts.kubelet_token_file;
  k.ca_file = opts.kubelet_ca_file;
  k.insecure_skip_verify = opts.kubelet_insecure_skip_verify;
  const std::string sa = kServiceAccount;
  const char* host_ip = std::getenv("HOST_IP");
  if (k.url.empty() && Exists(sa + "token") && host_ip != nullptr) {
    // An IPv6 HOST_IP (IPv6-only clusters) needs brackets in a URL.
    const bool v6 = std::strchr(host_ip, ':') != nullptr;
    k.url = absl::StrCat("https://", v6 ? "[" : "", host_ip, v6 ? "]" : "",
                         ":10250");
  }
  if (k.token_file.empty() && Exists(sa + "token")) k.token_file = sa + "token";
  if (k.ca_file.empty() && Exists(sa + "ca.crt")) k.ca_file = sa + "ca.crt";
  std::unique_ptr<PodCache> pods;
  if (!k.url.empty()) {
    Log(LogLevel::kInfo, "Kubernetes names from ", k.url, "/pods");
    pods = std::make_unique<PodCache>(std::move(k));
  }
  return std::make_unique<HostIdentity>(std::move(paths), std::move(pods));
}

// --programs-off, and the fault injection tests use to make one program's
// tracepoint missing (REDLINE_FAULT_TRACEPOINT=prog=tracepoint).
absl::Status SetPolicy(const Options& opts) {
  ProgramPolicy policy;
  policy.off = opts.programs_off;
  if (const char* f = std::getenv("REDLINE_FAULT_TRACEPOINT"); f != nullptr) {
    auto r = ParseRetarget(f);
    if (!r.ok()) return r.status();
    policy.retarget = std::move(*r);
  }
  SetProgramPolicy(std::move(policy));
  return absl::OkStatus();
}

// Returns what is left, for the log.
// attach_later: a concern attaches after start (l7's TLS uprobes).
absl::StatusOr<std::string> DropPrivileges(bool attach_later) {
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  ParseKernelRelease(u.release, &major, &minor);
  const uint64_t before = EffectiveCapabilities();
  const uint64_t keep =
      CapabilitiesToKeep(major, minor, PermittedCapabilities(), attach_later);
  if (absl::Status s = DropCapabilities(keep); !s.ok()) {
    return absl::InternalError(
        absl::StrCat("dropping capabilities after attach: ", s.message()));
  }
  const uint64_t dropped = before & ~keep;
  return absl::StrCat(
      CapabilityList(EffectiveCapabilities()), " (dropped ",
      __builtin_popcountll(dropped) > 4
          ? absl::StrCat(__builtin_popcountll(dropped), " capabilities")
          : CapabilityList(dropped),
      ")");
}

// GET /api/v1/history?from=&to=&limit=: 400 with one line on a bad query.
prom::Exposer::Reply HistoryReply(const History* history, double interval_s,
                                  const prom::Exposer::Query& q) {
  if (history == nullptr) {
    return {404, "text/plain",
            "history is off (--history=0): restart the agent with "
            "--history=1h\n"};
  }
  auto param = [&q](const char* key) {
    auto it = q.find(key);
    return it == q.end() ? std::string() : it->second;
  };
  auto query = ParseHistoryQuery(param("from"), param("to"), param("limit"),
                                 absl::Now(), absl::LocalTimeZone());
  if (!query.ok()) {
    return {400, "text/plain",
            absl::StrCat(OneLine(query.status().message()), "\n")};
  }
  return {
      200, "application/json",
      HistoryToJson(history->Range(query->from_ns, query->to_ns, query->limit),
                    interval_s)};
}

int Run(const Options& opts) {
  auto addr = prom::ParseListenAddress(opts.listen);
  if (!addr.ok()) return Fail(addr.status().message());
  // Read before the programs load (a bad file fails fast) and before any
  // privilege drop (the key may be readable by root only).
  prom::WebConfig web;
  if (!opts.web_config_file.empty()) {
    auto w = prom::LoadWebConfig(opts.web_config_file);
    if (!w.ok()) return Fail(w.status().message());
    web = std::move(*w);
  }

  // Signals are taken synchronously by the main thread; block them before
  // any thread starts so none inherits a handler-less mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // SLO thresholds go into the programs before they attach.
  std::unique_ptr<std::pair<SloConfig, SloSlots>> slo_plan;
  if (!opts.slo_config.empty()) {
    auto plan = LoadSloPlan(opts.slo_config, {});
    if (!plan.ok()) return Fail(plan.status().message());
    slo_plan =
        std::make_unique<std::pair<SloConfig, SloSlots>>(std::move(*plan));
  }
  if (absl::Status s = SetPolicy(opts); !s.ok()) return Fail(s.message());
  std::unique_ptr<HostIdentity> identity = MakeIdentity(opts);
  auto loaded = LoadProbes(ProbeOptionsFrom(opts, identity.get()),
                           slo_plan ? &slo_plan->second : nullptr);
  if (!loaded.ok()) return Fail(loaded.status().message());
  std::unique_ptr<ProbeSet> set = std::move(*loaded);
  if (opts.strict && !set->warnings.empty()) {
    set->Detach();
    return Fail(absl::StrCat(
        "--strict: not attached: ", set->warnings.front(),
        set->warnings.size() > 1
            ? absl::StrCat(" (and ", set->warnings.size() - 1, " more)")
            : ""));
  }
  for (const std::string& e : set->warnings) Log(LogLevel::kWarn, e);
  // Everything is loaded and attached: give up what only that needed before
  // any thread (HTTP server, kubelet reader) starts, since capabilities are
  // per thread.
  // l7 attaches TLS uprobes to libraries mapped after start, if asked.
  auto caps_left =
      DropPrivileges(opts.tls && opts.tls_late_attach && set->Has("l7"));
  if (!caps_left.ok()) return Fail(caps_left.status().message());
  if (identity) identity->Start();

  Store store(set->view);
  std::shared_ptr<SloRuntime> slos;
  if (slo_plan) {
    slos = std::make_shared<SloRuntime>(opts.slo_config,
                                        std::move(slo_plan->first),
                                        std::move(slo_plan->second), set.get());
    store.SetObserver([slos](Snapshot* s) { slos->OnSnapshot(s); });
  }
  prom::Exposer exposer;
  if (absl::Status s = exposer.Secure(web); !s.ok()) return Fail(s.message());
  exposer.set_classic_histograms(!opts.native_histograms_only);
  auto registry = std::make_shared<prom::Registry>();
  auto& scrape_hist =
      registry
          ->AddHistogram("redline_scrape_duration_seconds",
                         "Time to build and serialize a /metrics response.")
          .Add({}, std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1, 0.25, 0.5, 1});
  // The recent past, one entry per refresh, for `redline top --at`.
  std::unique_ptr<History> history;
  if (opts.history_s > 0) {
    history = std::make_unique<History>(HistoryOptions{
        .keep_ns = opts.history_s * 1'000'000'000,
        .max_entries =
            static_cast<size_t>(opts.history_s / opts.refresh_interval_s) + 2});
  }
  SelfSources sources{.rejected = [&exposer] { return exposer.rejected(); }};
  if (history) {
    sources.history_bytes = [h = history.get()] { return h->MemoryBytes(); };
    sources.history_entries = [h = history.get()] { return h->size(); };
  }
  auto self = std::make_shared<SelfCollector>(std::move(sources));
  auto snap = std::make_shared<SnapshotCollector>(
      [&store] { return store.GetFresh(); }, opts.max_series_per_family,
      opts.max_series, prom::SeriesPriorityWith(opts.series_priorities),
      opts.syscall_histograms);
  registry->Register(self);
  registry->Register(snap);
  if (slos) registry->Register(slos);

  exposer.RegisterCollectable(registry);
  exposer.OnScrape([&](double s) { scrape_hist.Observe(s); });
  // For `redline top --connect`: the cumulative snapshot, read fresh.
  exposer.RegisterHandler(kSnapshotPath, [&store] {
    return std::make_pair(std::string("application/json"),
                          SnapshotToJson(*store.GetFresh()));
  });
  exposer.RegisterQueryHandler(
      kHistoryPath, [&history, &opts](const prom::Exposer::Query& q) {
        return HistoryReply(history.get(), opts.refresh_interval_s, q);
      });
  if (absl::Status s = exposer.Start(*addr); !s.ok()) {
    return Fail(s.message());
  }
  Log(LogLevel::kInfo, "serving metrics on ",
      exposer.tls() ? "https://" : "http://",
      addr->host.find(':') != std::string::npos
          ? absl::StrCat("[", addr->host, "]")
          : addr->host,
      ":", exposer.port(), "/metrics",
      exposer.basic_auth() ? " (basic auth)" : "",
      "; capabilities after attach: ", *caps_left);

  // A first read now, not a refresh interval from now: it starts what
  // drains at read time (the HTTP/2 events, whose ring buffer would
  // otherwise fill for 10 s), after the capabilities are gone.
  store.Refresh();
  // Between refreshes, every 100 ms, a look at how fast the maps fill
  // (mmapped counters, no syscall): an exec storm can fill sys_stats long
  // before the interval is up, and reading early beats dropping.
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::seconds(opts.refresh_interval_s);
  auto next = Clock::now() + interval;
  for (;;) {
    const auto wait = std::min<Clock::duration>(next - Clock::now(),
                                                std::chrono::milliseconds(100));
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    const timespec poll{
        static_cast<time_t>(std::max<int64_t>(ns, 0) / 1000000000),
        static_cast<long>(std::max<int64_t>(ns, 0) % 1000000000)};
    const int sig = sigtimedwait(&sigs, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP) {
      if (!slos) {
        Log(LogLevel::kInfo, "SIGHUP: no --slo-config, nothing to reload");
      } else if (absl::Status s = slos->Reload(); !s.ok()) {
        Log(LogLevel::kError, "SIGHUP: ", s.message(),
            " (keeping the SLOs loaded before)");
      }
    } else if (Clock::now() < next) {
      store.RefreshIfPressed();
      continue;
    }
    store.Refresh();
    next = Clock::now() + interval;
    if (history) history->Add(*store.Latest());
    // Give back what a burst of scrapes left free, at most once per refresh
    // (trimming after every scrape would re-fault the same pages each time).
    malloc_trim(0);
  }
  // Detach first: the host stops paying for tracing immediately.
  // (ThreadSanitizer: a scrape's refresh may be copying the status.)
  store.Exclusive([&set] { set->Detach(); });
  exposer.Stop();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

// `redline rules`: the SLO file to Prometheus rules, on stdout or --output.
int Rules(const Options& opts) {
  auto cfg = LoadSloConfig(opts.slo_config);
  if (!cfg.ok()) return Fail(std::string(cfg.status().message()));
  const std::string text =
      GenerateRules(*cfg, opts.rules_format == "prometheus-operator"
                              ? RulesFormat::kPrometheusOperator
                              : RulesFormat::kPrometheus);
  if (opts.output.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::ofstream out(opts.output);
  out << text;
  out.close();
  if (!out) {
    return Fail(absl::StrCat("--output: cannot write ", opts.output, ": ",
                             std::strerror(errno)));
  }
  return 0;
}

int Main(int argc, char** argv) {
  // Memory follows the live set, not the largest scrape so far: one arena
  // (glibc would keep freed scrape buffers in one per HTTP thread), and
  // multi-MB buffers (the exposition text, map read batches) mmapped, so
  // they go back to the kernel when freed. See also malloc_trim in Run.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = ParseFlags(args);
  if (!opts.ok()) {
    return Fail(absl::StrCat(opts.status().message(), " (see redline --help)"));
  }
  if (opts->help) {
    std::fputs(UsageText().c_str(), stdout);
    return 0;
  }
  if (opts->version) {
    std::printf("redline %s\n", REDLINE_VERSION);
    return 0;
  }
  LogLevel level;
  ParseLogLevel(opts->log_level, &level);
  SetLogLevel(level);
  InstallLibbpfLogger();

  if (opts->command == "check") {
    return PrintChecks(RunChecks(opts->btf)) ? 0 : 1;
  }
  if (opts->command == "rules") return Rules(*opts);
  if (opts->command == "top") {
    std::unique_ptr<HostIdentity> identity =
        opts->connect.empty() ? MakeIdentity(*opts) : nullptr;
    if (identity) identity->Start();
    if (absl::Status s = SetPolicy(*opts); !s.ok()) return Fail(s.message());
    return Top(*opts, ProbeOptionsFrom(*opts, identity.get()));
  }

  return Run(*opts);
}

}  // namespace
}  // namespace redline

int main(int argc, char** argv) { return redline::Main(argc, argv); }
