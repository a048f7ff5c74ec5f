#include "agent/probes/bpf_util.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/base/logging.h"
#include "agent/base/privileges.h"
#include "bpf/map_errors.h"

static_assert(RL_UPDATE_KINDS == redline::kUpdateErrorKinds);
static_assert(RL_UPDATE_OTHER == redline::kUpdateErrorKinds - 1);

namespace redline {
namespace {

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list ap) {
  // Whole: a verifier log comes as one message, and its end says why.
  va_list again;
  va_copy(again, ap);
  const int n = vsnprintf(nullptr, 0, fmt, again);
  va_end(again);
  if (n <= 0) return 0;
  std::string buf(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(buf.data(), buf.size(), fmt, ap);
  buf.resize(static_cast<size_t>(n));
  absl::string_view msg = absl::StripTrailingAsciiWhitespace(buf);
  if (msg.empty()) return 0;
  // libbpf "warnings" are mostly the verifier log of a program that failed;
  // the caller turns the failure into one clear line, the dump is for debug.
  (void)level;
  Log(LogLevel::kDebug, "libbpf: ", msg);
  return 0;
}

}  // namespace

void InstallLibbpfLogger() { libbpf_set_print(LibbpfPrint); }

absl::Status LibbpfError(int err, absl::string_view what) {
  if (err > 0) err = -err;
  const int e = -err;
  const std::string base = absl::StrCat(what, ": ", std::strerror(e));
  switch (e) {
    case EPERM:
    case EACCES: {
      const std::string missing = MissingRequired(EffectiveCapabilities());
      return absl::PermissionDeniedError(absl::StrCat(
          base, " (",
          missing.empty() ? "capabilities present: a security module or "
                            "seccomp may deny bpf(2)"
                          : absl::StrCat("missing ", missing),
          "; run as root, or grant CAP_BPF and CAP_PERFMON; `redline "
          "check` lists what is missing)"));
    }
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(
          base, " (the kernel lacks this tracepoint or BTF type)"));
    case E2BIG:
    case ENOMEM:
      return absl::ResourceExhaustedError(absl::StrCat(
          base,
          " (kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK: "
          "raise it with `ulimit -l unlimited` or LimitMEMLOCK=infinity)"));
    case EINVAL:
      return absl::InvalidArgumentError(absl::StrCat(
          base,
          " (the kernel rejected the program: rerun with --log-level=debug "
          "for the verifier log; `redline check` tests kernel support)"));
    default:
      return absl::InternalError(base);
  }
}

namespace {

ProgramPolicy& Policy() {
  static auto* p = new ProgramPolicy;
  return *p;
}

// Every program name DisableMissingTracepoints saw, both spellings: probes
// open one after another on the main thread.
std::vector<std::string>& SeenPrograms() {
  static auto* v = new std::vector<std::string>;
  return *v;
}

btf* g_cached_btf = nullptr;  // while a KernelBtfCache lives

// The running kernel's BTF: the cached parse, or one of its own (null if
// the kernel has none).
class VmlinuxBtf {
 public:
  VmlinuxBtf() {
    if (g_cached_btf != nullptr) {
      btf_ = g_cached_btf;
      return;
    }
    btf* b = btf__load_vmlinux_btf();
    if (libbpf_get_error(b) == 0) {
      btf_ = b;
      owned_ = true;
    }
  }
  ~VmlinuxBtf() {
    if (owned_) btf__free(btf_);
  }
  VmlinuxBtf(const VmlinuxBtf&) = delete;
  VmlinuxBtf& operator=(const VmlinuxBtf&) = delete;
  const btf* get() const { return btf_; }

 private:
  btf* btf_ = nullptr;
  bool owned_ = false;
};

bool Named(const std::vector<std::string>& names, absl::string_view full,
           absl::string_view prog) {
  return std::find(names.begin(), names.end(), full) != names.end() ||
         std::find(names.begin(), names.end(), prog) != names.end();
}

}  // namespace

KernelBtfCache::KernelBtfCache() {
  if (g_cached_btf != nullptr) return;
  btf* b = btf__load_vmlinux_btf();
  if (libbpf_get_error(b) != 0) return;
  g_cached_btf = b;
  owner_ = true;
}

KernelBtfCache::~KernelBtfCache() {
  if (!owner_) return;
  btf__free(g_cached_btf);
  g_cached_btf = nullptr;
}

absl::Status RequireKernelBtf() {
  VmlinuxBtf vmlinux;
  if (vmlinux.get() == nullptr) {
    return absl::FailedPreconditionError(
        "no kernel BTF (not at /sys/kernel/btf/vmlinux nor libbpf's "
        "fallbacks): redline needs a kernel built with "
        "CONFIG_DEBUG_INFO_BTF=y, and /sys mounted in a container; "
        "`redline check` for details");
  }
  return absl::OkStatus();
}

void SetProgramPolicy(ProgramPolicy policy) {
  Policy() = std::move(policy);
  SeenPrograms().clear();
}

absl::Status CheckProgramsOffKnown() {
  const std::vector<std::string>& seen = SeenPrograms();
  for (const std::string& name : Policy().off) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    std::vector<std::string> known;
    for (const std::string& s : seen) {
      if (absl::StrContains(s, '/')) known.push_back(s);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "--programs-off: no program '", name, "' in the enabled probes (",
        absl::StrJoin(known, ", "), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseRetarget(
    absl::string_view spec) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "REDLINE_FAULT_TRACEPOINT: want program=tracepoint, got '", item,
          "'"));
    }
    out.push_back(std::move(kv));
  }
  return out;
}

std::vector<ProgramStatus> DisableMissingTracepoints(bpf_object* obj,
                                                     absl::string_view prefix) {
  std::vector<ProgramStatus> out;
  const ProgramPolicy& policy = Policy();
  bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    const std::string full = absl::StrCat(prefix, "/", bpf_program__name(p));
    SeenPrograms().push_back(full);
    SeenPrograms().push_back(bpf_program__name(p));
    if (Named(policy.off, full, bpf_program__name(p))) {
      bpf_program__set_autoload(p, false);
      out.push_back({full, false, kDisabledReason});
    }
  }
  VmlinuxBtf vmlinux;
  if (vmlinux.get() == nullptr) return out;  // the load reports it
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    absl::string_view sec = bpf_program__section_name(prog);
    if (!absl::ConsumePrefix(&sec, "tp_btf/")) continue;
    const std::string full = absl::StrCat(prefix, "/", bpf_program__name(prog));
    for (const auto& [name, tp] : policy.retarget) {
      if (name == full || name == bpf_program__name(prog)) sec = tp;
    }
    // A tracepoint exists for BPF iff vmlinux has btf_trace_<name>.
    std::string type = absl::StrCat("btf_trace_", sec);
    if (btf__find_by_name_kind(vmlinux.get(), type.c_str(), BTF_KIND_TYPEDEF) >=
        0) {
      continue;
    }
    bpf_program__set_autoload(prog, false);
    out.push_back(
        {full, false, absl::StrCat("tracepoint ", sec, " not in this kernel")});
  }
  return out;
}

bool KernelHasMember(absl::string_view name, absl::string_view member) {
  VmlinuxBtf vmlinux;
  if (vmlinux.get() == nullptr) return false;
  const int id = btf__find_by_name_kind(
      vmlinux.get(), std::string(name).c_str(), BTF_KIND_STRUCT);
  if (id < 0) return false;
  const btf_type* t = btf__type_by_id(vmlinux.get(), id);
  const btf_member* m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); ++i, ++m) {
    if (btf__name_by_offset(vmlinux.get(), m->name_off) == member) return true;
  }
  return false;
}

int TracepointArgCount(absl::string_view name) {
  VmlinuxBtf vmlinux;
  if (vmlinux.get() == nullptr) return -1;
  const std::string type = absl::StrCat("btf_trace_", name);
  int id =
      btf__find_by_name_kind(vmlinux.get(), type.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  // typedef -> pointer -> function prototype
  const btf_type* t = btf__type_by_id(vmlinux.get(), id);
  t = btf__type_by_id(vmlinux.get(), t->type);
  if (t == nullptr || !btf_is_ptr(t)) return -1;
  t = btf__type_by_id(vmlinux.get(), t->type);
  if (t == nullptr || !btf_is_func_proto(t)) return -1;
  return btf_vlen(t) - 1;
}

void LinkDeleter::operator()(bpf_link* l) const { bpf_link__destroy(l); }

absl::Status AttachProgram(bpf_program* prog, LinkPtr* out) {
  bpf_link* l = bpf_program__attach(prog);
  if (l == nullptr) {
    return LibbpfError(
        -errno, absl::StrCat("attaching ", bpf_program__section_name(prog)));
  }
  out->reset(l);
  return absl::OkStatus();
}

// Hash maps without preallocation take their entries from per-CPU caches
// (bpf_mem_alloc, 6.1+), prefilled with a single element for entries over
// 256 bytes and refilled from irq_work. A program that creates entries
// with interrupts off (sched_switch) right after attach finds the cache
// empty after one insert: ENOMEM, one lost event on each start. One
// insert and delete from user space on each CPU, before attaching, drops
// that CPU's cache under its low watermark and so refills it.
void WarmMapAllocators(bpf_object* obj) {
  cpu_set_t saved;
  if (sched_getaffinity(0, sizeof(saved), &saved) != 0) return;
  const int cpus = libbpf_num_possible_cpus();
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__type(map) != BPF_MAP_TYPE_HASH ||
        !(bpf_map__map_flags(map) & BPF_F_NO_PREALLOC) ||
        bpf_map__fd(map) < 0) {
      continue;
    }
    std::vector<unsigned char> key(bpf_map__key_size(map), 0xff);
    std::vector<unsigned char> value(bpf_map__value_size(map), 0);
    for (int cpu = 0; cpu < cpus; ++cpu) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (!CPU_ISSET(cpu, &saved) ||
          sched_setaffinity(0, sizeof(one), &one) != 0) {
        continue;
      }
      if (bpf_map_update_elem(bpf_map__fd(map), key.data(), value.data(),
                              BPF_NOEXIST) == 0) {
        bpf_map_delete_elem(bpf_map__fd(map), key.data());
      }
    }
  }
  sched_setaffinity(0, sizeof(saved), &saved);
}

absl::Status AttachAll(bpf_object* obj, absl::string_view prefix,
                       const std::vector<ProgramStatus>& missing,
                       const std::vector<std::string>& optional,
                       std::vector<LinkPtr>* links,
                       std::vector<ProgramStatus>* status) {
  auto required = [&](const std::string& name) {
    return std::find(optional.begin(), optional.end(), name) == optional.end();
  };
  WarmMapAllocators(obj);
  absl::Status first;
  *status = missing;
  for (const ProgramStatus& p : missing) {
    if (first.ok() && required(p.name) && p.reason != kDisabledReason) {
      first = absl::UnavailableError(absl::StrCat(p.name, ": ", p.reason));
    }
  }
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    ProgramStatus st;
    st.name = absl::StrCat(prefix, "/", bpf_program__name(prog));
    LinkPtr link;
    absl::Status s = AttachProgram(prog, &link);
    st.attached = s.ok();
    if (s.ok()) {
      st.fd = bpf_program__fd(prog);
      links->push_back(std::move(link));
    } else {
      st.reason = std::string(s.message());
      if (first.ok() && required(st.name)) first = s;
    }
    status->push_back(std::move(st));
  }
  return first;
}

void DetachAll(std::vector<LinkPtr>* links,
               std::vector<ProgramStatus>* programs) {
  links->clear();
  for (ProgramStatus& p : *programs) {
    p.attached = false;
    p.reason = "detached";
    p.fd = -1;
  }
}

void ReadProgramStats(std::vector<ProgramStatus>* programs) {
  for (ProgramStatus& p : *programs) {
    if (p.fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(p.fd, &info, &len) == 0) {
      p.recursion_misses = info.recursion_misses;
    }
  }
}

int NumPossibleCpus() {
  static const int n = libbpf_num_possible_cpus();
  return n > 0 ? n : 1;
}

absl::StatusOr<uint64_t> ForEachEntry(
    const bpf_map* map,
    const std::function<void(const void* key, const void* value)>& fn) {
  const int fd = bpf_map__fd(map);
  const size_t ksz = bpf_map__key_size(map);
  const bool percpu = bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_HASH ||
                      bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_ARRAY ||
                      bpf_map__type(map) == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const size_t vsz =
      percpu ? ((bpf_map__value_size(map) + 7) / 8 * 8) * NumPossibleCpus()
             : bpf_map__value_size(map);

  // Batched: the hash map batch token is a bucket index (u32).
  constexpr uint32_t kBatch = 512;
  std::vector<char> keys(ksz * kBatch), vals(vsz * kBatch);
  std::vector<char> in(std::max<size_t>(ksz, 8)), out(std::max<size_t>(ksz, 8));
  uint64_t seen = 0;
  bool first = true;
  for (;;) {
    uint32_t count = kBatch;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : in.data(), out.data(),
                                   keys.data(), vals.data(), &count, &opts);
    if (err < 0) err = -errno;
    if (err < 0 && err != -ENOENT) {
      if (first && (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP)) {
        break;  // fall back to key-by-key
      }
      if (err == -ENOSPC) {
        return LibbpfError(err, "batch read (bucket larger than batch)");
      }
      return LibbpfError(err, absl::StrCat("reading map ", bpf_map__name(map)));
    }
    for (uint32_t i = 0; i < count; ++i) {
      fn(keys.data() + i * ksz, vals.data() + i * vsz);
    }
    seen += count;
    if (err == -ENOENT) return seen;
    first = false;
    std::memcpy(in.data(), out.data(), in.size());
  }

  std::vector<char> key(ksz), next(ksz), val(vsz);
  void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    if (bpf_map_lookup_elem(fd, next.data(), val.data()) == 0) {
      fn(next.data(), val.data());
      ++seen;
    }
    key.swap(next);
    prev = key.data();
  }
  return seen;
}

size_t DeleteKeys(const bpf_map* map, const void* keys, size_t count) {
  const int fd = bpf_map__fd(map);
  const size_t ksz = bpf_map__key_size(map);
  const char* k = static_cast<const char*>(keys);
  size_t deleted = 0, i = 0;
  bool batch = true;
  while (i < count) {
    if (batch) {
      __u32 n = static_cast<__u32>(std::min<size_t>(count - i, 4096));
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_delete_batch(fd, k + i * ksz, &n, &opts);
      deleted += n;
      i += n;
      if (err == 0) continue;
      if (errno == ENOENT) {
        ++i;  // the kernel stops at a key that is gone: skip it
        continue;
      }
      batch = false;  // not supported here: key by key
      continue;
    }
    if (bpf_map_delete_elem(fd, k + i * ksz) == 0) ++deleted;
    ++i;
  }
  return deleted;
}

absl::StatusOr<uint64_t> SumPercpuU64(const bpf_map* map, uint32_t index) {
  std::vector<uint64_t> v(NumPossibleCpus());
  if (bpf_map_lookup_elem(bpf_map__fd(map), &index, v.data()) != 0) {
    return LibbpfError(-errno, absl::StrCat("reading ", bpf_map__name(map)));
  }
  uint64_t sum = 0;
  for (uint64_t x : v) sum += x;
  return sum;
}

void ReadUpdateErrors(const bpf_map* errors, uint32_t map_idx, MapStatus* st) {
  uint64_t sum = 0;
  for (uint32_t kind = 0; kind < RL_UPDATE_KINDS; ++kind) {
    auto n = SumPercpuU64(errors, map_idx * RL_UPDATE_KINDS + kind);
    if (!n.ok()) {
      Log(LogLevel::kDebug, n.status().message());
      return;
    }
    st->update_errors[kind] = *n;
    sum += *n;
  }
  st->drops = sum;
}

}  // namespace redline
