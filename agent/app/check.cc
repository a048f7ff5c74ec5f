#include "agent/app/check.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/base/privileges.h"
#include "agent/probes/probe_set.h"
#include "agent/probes/tls_probe.h"

namespace redline {
namespace {

// Tracepoints redline attaches to, as tp_btf: each has a BTF typedef
// btf_trace_<name> in vmlinux, which is what the loader resolves.
// Tracepoint, and what needs it (empty: the agent itself).
constexpr std::pair<const char*, const char*> kTracepoints[] = {
    {"raw_syscalls:sys_enter", ""},
    {"raw_syscalls:sys_exit", ""},
    {"sock:sock_send_length",
     "request tracking off the syscall path (6.3+; else from sys_exit)"},
    {"sock:sock_recv_length",
     "request tracking off the syscall path (6.3+; else from sys_exit)"},
    {"sock:inet_sock_set_state", "request tracking, TCP connects"},
    {"tcp:tcp_destroy_sock", "request tracking"},
    {"sched:sched_process_exec", ""},
    {"sched:sched_process_exit", ""},
    {"task:task_rename", "names of processes that rename themselves"},
    {"sched:sched_switch", "CPU time, run-queue latency, context switches"},
    {"sched:sched_wakeup", "run-queue latency"},
    {"sched:sched_wakeup_new", "run-queue latency of new tasks"},
    {"block:block_rq_issue", "disk I/O latency and bytes"},
    {"block:block_rq_complete", "disk I/O latency and bytes"},
    {"block:block_rq_insert", "disk I/O queue time"},
};

}  // namespace

bool ParseKernelRelease(const std::string& release, int* major, int* minor) {
  std::vector<std::string> parts =
      absl::StrSplit(release, absl::MaxSplits('.', 2));
  if (parts.size() < 2) return false;
  std::string min = parts[1];
  const auto end = min.find_first_not_of("0123456789");
  if (end != std::string::npos) min.resize(end);
  return absl::SimpleAtoi(parts[0], major) && absl::SimpleAtoi(min, minor);
}

std::vector<CheckResult> RunChecks(const std::string& btf_path) {
  std::vector<CheckResult> out;

  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  const bool parsed = ParseKernelRelease(u.release, &major, &minor);
  const bool new_enough = parsed && (major > 5 || (major == 5 && minor >= 11));
  out.push_back({"kernel", new_enough,
                 absl::StrCat("Linux ", u.release, " ", u.machine),
                 "redline needs Linux >= 5.11 (task-local storage in tracing "
                 "programs, memcg-accounted BPF memory)"});

  btf* vmlinux = btf__parse(btf_path.c_str(), nullptr);
  const bool have_btf = vmlinux != nullptr;
  out.push_back({"btf", have_btf, btf_path,
                 absl::StrCat("kernel BTF not readable at ", btf_path,
                              ": use a kernel built with CONFIG_DEBUG_INFO_BTF "
                              "and mount /sys read-only into the container")});

  // Root without a full set (a container's uid 0) is judged by its
  // capabilities like anyone else.
  const uint64_t eff = EffectiveCapabilities();
  for (const CapabilityNeed& n : NeededCapabilities()) {
    const bool own = HasEffective(eff, n.cap);
    const bool via_admin =
        !own && !n.optional && HasEffective(eff, kCapSysAdmin);
    const bool has = own || via_admin;
    out.push_back(
        {absl::StrCat("capability ", n.name), has,
         own         ? "effective"
         : via_admin ? "via CAP_SYS_ADMIN (broader than needed)"
                     : absl::StrCat("missing (uid ", geteuid(), ")"),
         absl::StrCat(n.optional ? "without it: " : "needed to ", n.why,
                      n.optional ? ""
                                 : "; grant it (systemd "
                                   "AmbientCapabilities=, Kubernetes "
                                   "securityContext.capabilities.add) or run "
                                   "as root"),
         n.optional});
  }
  const bool caps = MissingRequired(eff).empty();

  for (const auto& [tp, signal] : kTracepoints) {
    const std::string name =
        std::string(tp).substr(std::string(tp).find(':') + 1);
    bool found = false;
    if (vmlinux != nullptr) {
      found = btf__find_by_name_kind(vmlinux, ("btf_trace_" + name).c_str(),
                                     BTF_KIND_TYPEDEF) > 0;
    }
    const bool optional = *signal != '\0';
    out.push_back({absl::StrCat("tracepoint ", tp), found,
                   found ? "present in kernel BTF" : "missing",
                   optional
                       ? absl::StrCat("without it: no ", signal)
                       : "this kernel does not have the tracepoint (or BTF)",
                   optional});
  }
  btf__free(vmlinux);

  if (new_enough) {
    out.push_back(
        {"memlock", true, "BPF memory is memcg-accounted (>= 5.11)", ""});
  } else {
    rlimit rl{};
    getrlimit(RLIMIT_MEMLOCK, &rl);
    const bool big = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (64u << 20);
    out.push_back({"memlock", big, absl::StrCat("RLIMIT_MEMLOCK=", rl.rlim_cur),
                   "raise it: ulimit -l unlimited, or LimitMEMLOCK=infinity"});
  }

  // The decisive test: the verifier accepts our programs on this kernel.
  const bool can_load = caps && have_btf;
  auto load = [&](const char* concern, auto loaded, bool optional) {
    absl::Status st = loaded ? loaded() : absl::OkStatus();
    out.push_back({absl::StrCat("bpf load ", concern), can_load && st.ok(),
                   !can_load ? "not attempted"
                   : st.ok() ? "programs verified and loaded"
                             : std::string(st.message()),
                   can_load ? "see the detail; --log-level=debug shows the "
                              "verifier log"
                            : "fix the failures above first",
                   optional});
  };
  for (const ProbeKind& kind : ProbeKinds()) {
    load(kind.name,
         can_load ? std::function<absl::Status()>([&kind] {
           return kind.load(ProbeSetOptions{}).status();
         })
                  : std::function<absl::Status()>(),
         !kind.required);
  }
  // TLS plaintext comes from uprobes (bpf/tls.bpf.c): the uprobe PMU,
  // CAP_SYS_ADMIN (a uprobe perf event needs it), and libraries to probe.
  const bool pmu = access("/sys/bus/event_source/devices/uprobe", F_OK) == 0;
  const bool admin = HasEffective(eff, kCapSysAdmin);
  out.push_back({"tls libraries", pmu && admin,
                 absl::StrCat("mapped now: ", TlsLibrariesMapped(),
                              pmu ? "; uprobe PMU present" : "; no uprobe PMU",
                              admin ? "" : "; no CAP_SYS_ADMIN"),
                 "TLS request metrics need uprobes (CONFIG_UPROBES) and "
                 "CAP_SYS_ADMIN; without them only plaintext is seen",
                 true});
  return out;
}

bool PrintChecks(const std::vector<CheckResult>& results) {
  bool all = true;
  for (const CheckResult& r : results) {
    all = all && (r.ok || r.optional);
    if (r.ok) {
      std::printf("ok    %-38s %s\n", r.name.c_str(), r.detail.c_str());
    } else {
      std::printf("%-5s %-38s %s -- %s%s\n", r.optional ? "WARN" : "FAIL",
                  r.name.c_str(), r.detail.c_str(),
                  r.optional ? "" : "fix: ", r.fix.c_str());
    }
  }
  std::printf(all ? "redline can run on this host\n"
                  : "redline cannot run here: fix the FAIL lines above\n");
  return all;
}

}  // namespace redline
