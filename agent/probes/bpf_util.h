// libbpf glue: RAII owners, error translation, log routing, map reads.
#ifndef REDLINE_AGENT_PROBES_BPF_UTIL_H_
#define REDLINE_AGENT_PROBES_BPF_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/model/model.h"

struct bpf_link;
struct bpf_object;
struct bpf_program;
struct bpf_map;

namespace redline {

// Routes libbpf's printouts into our logger (debug level for its chatter and
// the verifier log; nothing reaches stderr raw).
void InstallLibbpfLogger();

// A libbpf negative error code as a Status whose message says what to do.
absl::Status LibbpfError(int err, absl::string_view what);

struct LinkDeleter {
  void operator()(bpf_link* l) const;
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// Owns a bpftool-generated skeleton; Destroy is the skeleton's __destroy.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkelDeleter {
  void operator()(Skel* s) const { Destroy(s); }
};
template <typename Skel, void (*Destroy)(Skel*)>
using SkelPtr = std::unique_ptr<Skel, SkelDeleter<Skel, Destroy>>;

// Before load: turns autoload off for every tp_btf program whose tracepoint
// this kernel does not have, so the rest of the object still loads, and
// returns their statuses (attached=false, with the reason). `prefix` names
// the concern, e.g. "syscalls".
std::vector<ProgramStatus> DisableMissingTracepoints(bpf_object* obj,
                                                     absl::string_view prefix);

// OK if libbpf finds the running kernel's BTF (/sys/kernel/btf/vmlinux, or
// the fallbacks libbpf searches); else one line saying what is needed.
absl::Status RequireKernelBtf();

// While one lives, the kernel BTF queries here (RequireKernelBtf,
// DisableMissingTracepoints, KernelHasMember, TracepointArgCount) share one
// parse of /sys/kernel/btf/vmlinux instead of one each (ten at start-up,
// ~40 ms each). Scope it to loading: the parse holds several MiB.
class KernelBtfCache {
 public:
  KernelBtfCache();
  ~KernelBtfCache();
  KernelBtfCache(const KernelBtfCache&) = delete;
  KernelBtfCache& operator=(const KernelBtfCache&) = delete;

 private:
  bool owner_ = false;
};

// Which programs DisableMissingTracepoints also turns off, set once before
// any probe loads. `off`: names ("sched/sched_wakeup" or "sched_wakeup")
// the operator disabled (--programs-off); they are listed as not attached,
// reason "disabled by --programs-off", and never count as failures.
// `retarget`: program name -> tracepoint looked up instead of its own, so a
// test can give one program a tracepoint this kernel lacks and see the
// same path a kernel without it takes (REDLINE_FAULT_TRACEPOINT).
struct ProgramPolicy {
  std::vector<std::string> off;
  std::vector<std::pair<std::string, std::string>> retarget;
};
void SetProgramPolicy(ProgramPolicy policy);
// After every enabled probe opened: an error naming the first --programs-off
// entry that matched no program (a typo would silently disable nothing).
absl::Status CheckProgramsOffKnown();
// "prog=tracepoint,prog2=tp2" (REDLINE_FAULT_TRACEPOINT); malformed items
// are an error naming them.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ParseRetarget(absl::string_view spec);
inline constexpr char kDisabledReason[] = "disabled by --programs-off";

// True if the running kernel's BTF has `member` in `struct name`.
bool KernelHasMember(absl::string_view name, absl::string_view member);

// Number of arguments of a tracepoint (btf_trace_<name>, without the
// leading void *data); -1 if the kernel does not have it.
int TracepointArgCount(absl::string_view name);

// Attaches a tp_btf/raw_tp program to its tracepoint.
absl::Status AttachProgram(bpf_program* prog, LinkPtr* out);

// Attaches every program of `obj` that is loaded; `missing` (from
// DisableMissingTracepoints) come first in `*status`. Returns the first
// error among programs not listed in `optional` (OK if all required ones
// are attached). Links are appended to `*links`.
absl::Status AttachAll(bpf_object* obj, absl::string_view prefix,
                       const std::vector<ProgramStatus>& missing,
                       const std::vector<std::string>& optional,
                       std::vector<LinkPtr>* links,
                       std::vector<ProgramStatus>* status);

// Destroys the links (the host stops paying for tracing at once) and marks
// every program detached.
void DetachAll(std::vector<LinkPtr>* links,
               std::vector<ProgramStatus>* programs);

// Iterates a map with batched lookups when the kernel supports them
// (one syscall per batch instead of two per key), else key by key.
// For per-CPU maps `value` holds num_possible_cpus values, 8-byte aligned.
// Returns the number of entries seen.
absl::StatusOr<uint64_t> ForEachEntry(
    const bpf_map* map,
    const std::function<void(const void* key, const void* value)>& fn);

// Deletes `count` keys laid out contiguously: one syscall per batch where
// the kernel supports it (a burst of exits frees thousands of entries).
// Keys already gone are skipped. Returns how many were deleted.
size_t DeleteKeys(const bpf_map* map, const void* keys, size_t count);

// Sum of a per-CPU u64 array slot over all CPUs.
absl::StatusOr<uint64_t> SumPercpuU64(const bpf_map* map, uint32_t index);

// Fills recursion_misses of the attached programs from the kernel.
void ReadProgramStats(std::vector<ProgramStatus>* programs);

int NumPossibleCpus();

// Fills st->update_errors and st->drops from a concern's per-CPU
// update-error array (bpf/map_errors.h) for its map number map_idx. A
// failed read leaves them unchanged (logged at debug level).
void ReadUpdateErrors(const bpf_map* errors, uint32_t map_idx, MapStatus* st);

}  // namespace redline

#endif  // REDLINE_AGENT_PROBES_BPF_UTIL_H_
