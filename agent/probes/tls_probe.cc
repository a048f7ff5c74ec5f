#include "agent/probes/tls_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/types.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"
#include "agent/model/tls_libraries.h"
#include "agent/probes/bpf_util.h"
#include "agent/probes/go_binary.h"
#include "agent/probes/h2_events.h"
#include "agent/probes/reaper.h"
#include "bpf/map_errors.h"
#include "bpf/tls.h"
#include "tls.skel.h"

namespace redline {

static_assert(sizeof(rl_tls_call) == 48);
static_assert(offsetof(rl_tls_call, g) == 32);
static_assert(sizeof(rl_go_key) == 16);
static_assert(sizeof(rl_go_call) == 32);
static_assert(sizeof(rl_tls_sock) == 16);
static_assert(sizeof(rl_tls_ssl) == 16);

namespace {

// Maps tls.bpf.c shares with l7.bpf.c: one state machine, one set of
// counts; its scratch window and counters are its own.
constexpr const char* kShared[] = {
    "conns",       "conn_count",        "l7_stats",
    "l7_counters", "l7_update_errors",  "tls_calls",
    "tls_socks",   "tls_update_errors", "h2_events",
    "go_calls"};

struct Hook {
  const char* func;
  bool ret;
  const char* prog;
  bool required;  // else the file is refused (its build is unknown)
};

// Where each program goes, per library. Without the handshake's probes a
// connection's ciphertext would be classified before its first read or
// write ties it: required too.
const std::vector<Hook>& HooksOf(TlsLibrary lib) {
  static const std::vector<Hook> kOpenSsl = {
      {"SSL_do_handshake", false, "tls_handshake_entry", true},
      {"SSL_do_handshake", true, "tls_handshake_exit", true},
      {"SSL_read", false, "tls_read_entry", true},
      {"SSL_read", true, "tls_exit", true},
      {"SSL_write", false, "tls_write_entry", true},
      {"SSL_write", true, "tls_exit", true},
      // 1.1.1 and later.
      {"SSL_read_ex", false, "tls_read_ex_entry", false},
      {"SSL_read_ex", true, "tls_exit", false},
      {"SSL_write_ex", false, "tls_write_ex_entry", false},
      {"SSL_write_ex", true, "tls_exit", false},
  };
  // Same shapes: (session, data, size), bytes or a negative code.
  static const std::vector<Hook> kGnuTls = {
      {"gnutls_handshake", false, "tls_handshake_entry", true},
      {"gnutls_handshake", true, "tls_handshake_exit", true},
      {"gnutls_record_recv", false, "tls_read_entry", true},
      {"gnutls_record_recv", true, "tls_exit", true},
      {"gnutls_record_send", false, "gnutls_write_entry", true},
      {"gnutls_record_send", true, "tls_exit", true},
  };
  return lib == TlsLibrary::kOpenSsl ? kOpenSsl : kGnuTls;
}

using FileKey = std::pair<uint64_t, uint64_t>;  // (dev, inode)

struct File {
  TlsLibrary library;
  std::vector<LinkPtr> links;
  std::set<uint32_t> pids;  // processes mapping it, as last seen
};

bool PidGone(uint32_t pid) {
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<uint32_t> AllPids() {
  std::vector<uint32_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') out.push_back(pid);
  }
  closedir(d);
  return out;
}

// Seconds a process is looked at after its exec.
constexpr int kYoungS = 5;

// /proc/PID/exe as a file (dev, inode); false for a kernel thread
// or a process gone.
bool ExeKey(const std::string& exe, FileKey* k) {
  struct stat st {};
  if (stat(exe.c_str(), &st) != 0) return false;
  *k = {(uint64_t{major(st.st_dev)} << 32) | minor(st.st_dev), st.st_ino};
  return true;
}

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr const char* kCounterKinds[RL_TLS_COUNTER_COUNT] = {
    "tls_unmapped", "tls_stale", nullptr, "tls_retry_unseen"};

}  // namespace

std::string TlsLibrariesMapped() {
  std::map<std::string, std::set<FileKey>> by;
  for (uint32_t pid : AllPids()) {
    for (const TlsMapping& m :
         ParseTlsMappings(ReadAll(absl::StrCat("/proc/", pid, "/maps")))) {
      by[TlsLibraryName(m.library)].insert({m.dev, m.inode});
    }
  }
  // Go programs carry crypto/tls in the executable: each distinct one
  // read once. Those that cannot be probed say why (stripped, Go < 1.17).
  std::set<FileKey> seen;
  for (uint32_t pid : AllPids()) {
    const std::string exe = absl::StrCat("/proc/", pid, "/exe");
    FileKey k;
    if (!ExeKey(exe, &k) || !seen.insert(k).second) continue;
    absl::StatusOr<GoTlsProbes> go = FindGoTlsProbes(exe);
    if (go.ok()) {
      by["go"].insert(k);
    } else if (absl::IsFailedPrecondition(go.status())) {
      by[absl::StrCat("go, not probed (", go.status().message(), ")")].insert(
          k);
    }
  }
  std::string out;
  for (const auto& [lib, files] : by) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", lib, ": ", files.size(),
                    files.size() == 1 ? " file" : " files");
  }
  return out.empty() ? "none" : out;
}

struct TlsUprobes::Impl {
  TlsOptions opts;
  SkelPtr<tls_bpf, tls_bpf__destroy> skel;
  std::vector<ProgramStatus> missing, programs;
  std::vector<LinkPtr> tp_links;
  std::map<FileKey, File> files;
  // Files no process maps any more, their uprobes released off the
  // refresh path (see reaper.h). After skel: destroyed before it.
  Reaper<FileKey, std::vector<LinkPtr>> reaper;
  std::map<FileKey, std::string> refused;  // by reason, counted once
  std::map<std::pair<std::string, std::string>, uint64_t> skipped;
  // exec'd: scanned on every refresh until this time (ns, monotonic)
  std::map<uint32_t, int64_t> young;
  int64_t next_full_scan_ns = 0;
  bool attached = false;

  // Executables checked and found not to be Go programs with crypto/tls.
  std::set<FileKey> not_go;

  bool AttachFile(uint32_t pid, const TlsMapping& m, File* f);
  void ScanGo(uint32_t pid);
  bool AttachGo(const std::string& exe, const GoTlsProbes& p, File* f);
  void ScanPid(uint32_t pid);
  // A process maps a file whose uprobes are still being released: looked
  // at again on the next refreshes, until they are gone.
  bool Deferred(const FileKey& k, uint32_t pid);
  void FullScan();
  void RetireUnmapped();
  void Refuse(const FileKey& k, TlsLibrary lib, const std::string& why);
};

void TlsUprobes::Impl::Refuse(const FileKey& k, TlsLibrary lib,
                              const std::string& why) {
  if (refused.size() >= 4096 || !refused.emplace(k, why).second) return;
  ++skipped[{TlsLibraryName(lib), why}];
}

// Probes one file, through the mapping process's root (a container's own
// libssl is found in its mount namespace). False if a required function
// did not take its probe.
bool TlsUprobes::Impl::AttachFile(uint32_t pid, const TlsMapping& m, File* f) {
  const std::string path = absl::StrCat("/proc/", pid, "/root", m.path);
  struct stat st {};
  // Replaced on disk since it was mapped: not the mapped file.
  if (stat(path.c_str(), &st) != 0 || st.st_ino != m.inode ||
      ((uint64_t{major(st.st_dev)} << 32) | minor(st.st_dev)) != m.dev) {
    return false;
  }
  for (const Hook& h : HooksOf(m.library)) {
    bpf_program* prog = bpf_object__find_program_by_name(skel->obj, h.prog);
    LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = h.ret, .func_name = h.func);
    bpf_link* l = prog == nullptr ? nullptr
                                  : bpf_program__attach_uprobe_opts(
                                        prog, -1, path.c_str(), 0, &uo);
    if (l != nullptr) {
      f->links.emplace_back(l);
      continue;
    }
    const int err = errno;
    if (!h.required) continue;
    Log(LogLevel::kWarn, "tls: ", TlsLibraryName(m.library), " ", m.path,
        ": no probe on ", h.func, ": ", strerror(err));
    f->links.clear();
    Refuse({m.dev, m.inode}, m.library,
           err == ENOENT || err == ESRCH ? "no_symbols" : "attach_failed");
    return false;
  }
  Log(LogLevel::kDebug, "tls: probing ", TlsLibraryName(m.library), " ", m.path,
      " (pid ", pid, ")");
  return true;
}

// The process's executable, if it is a Go program with crypto/tls: its
// uprobes by file offset (no symbol lookup by libbpf: the returns are
// instructions, not functions). Checked once per file.
void TlsUprobes::Impl::ScanGo(uint32_t pid) {
  const std::string exe = absl::StrCat("/proc/", pid, "/exe");
  FileKey k;
  if (!ExeKey(exe, &k)) return;  // a kernel thread, or gone
  if (auto it = files.find(k); it != files.end()) {
    it->second.pids.insert(pid);
    return;
  }
  if (refused.count(k) || not_go.count(k) || Deferred(k, pid)) return;
  auto probes = FindGoTlsProbes(exe);
  if (!probes.ok()) {
    if (absl::IsFailedPrecondition(probes.status())) {
      Refuse(k, TlsLibrary::kGo, std::string(probes.status().message()));
    } else if (not_go.size() < 65536) {
      not_go.insert(k);  // past that, checked again: costs a file read
    }
    return;
  }
  if (files.size() >= opts.max_files) {
    Refuse(k, TlsLibrary::kGo, "cap");
    return;
  }
  File f;
  f.library = TlsLibrary::kGo;
  if (!AttachGo(exe, *probes, &f)) {
    Refuse(k, TlsLibrary::kGo, "attach_failed");
    return;
  }
  Log(LogLevel::kDebug, "tls: probing go (", probes->go_version, ") pid ", pid,
      ": ", f.links.size(), " uprobes");
  f.pids.insert(pid);
  files.emplace(k, std::move(f));
}

bool TlsUprobes::Impl::AttachGo(const std::string& exe, const GoTlsProbes& p,
                                File* f) {
  auto attach = [&](bpf_program* prog, uint64_t off) {
    LIBBPF_OPTS(bpf_uprobe_opts, uo);
    bpf_link* l =
        bpf_program__attach_uprobe_opts(prog, -1, exe.c_str(), off, &uo);
    if (l == nullptr) {
      Log(LogLevel::kWarn, "tls: go ", exe, ": no uprobe at offset ", off, ": ",
          strerror(errno));
      return false;
    }
    f->links.emplace_back(l);
    return true;
  };
  bool ok = attach(skel->progs.go_tls_read_entry, p.read.entry) &&
            attach(skel->progs.go_tls_write_entry, p.write.entry);
  for (const auto* fn : {&p.read, &p.write}) {
    for (uint64_t r : fn->returns) {
      ok = ok && attach(skel->progs.go_tls_ret, r);
    }
  }
  if (p.handshake.entry != 0) {
    ok = ok && attach(skel->progs.go_tls_handshake_entry, p.handshake.entry);
    for (uint64_t r : p.handshake.returns) {
      ok = ok && attach(skel->progs.go_tls_handshake_ret, r);
    }
  }
  if (!ok) f->links.clear();
  return ok;
}

void TlsUprobes::Impl::ScanPid(uint32_t pid) {
  ScanGo(pid);
  const std::string maps = ReadAll(absl::StrCat("/proc/", pid, "/maps"));
  for (const TlsMapping& m : ParseTlsMappings(maps)) {
    const FileKey k{m.dev, m.inode};
    if (auto it = files.find(k); it != files.end()) {
      it->second.pids.insert(pid);
      continue;
    }
    if (refused.count(k) || Deferred(k, pid)) continue;
    if (files.size() >= opts.max_files) {
      Refuse(k, m.library, "cap");
      continue;
    }
    File f;
    f.library = m.library;
    if (!AttachFile(pid, m, &f)) continue;
    f.pids.insert(pid);
    files.emplace(k, std::move(f));
  }
}

// Every process: who maps what now. A file nobody maps is detached.
void TlsUprobes::Impl::FullScan() {
  for (auto& [k, f] : files) f.pids.clear();
  const uint32_t self = getpid();
  for (uint32_t pid : AllPids()) {
    if (pid != self) ScanPid(pid);
  }
  RetireUnmapped();
}

bool TlsUprobes::Impl::Deferred(const FileKey& k, uint32_t pid) {
  if (!reaper.Retiring(k)) return false;
  int64_t& until = young[pid];
  until = std::max(until, MonotonicNs() + int64_t{kYoungS} * 1'000'000'000);
  return true;
}

void TlsUprobes::Impl::RetireUnmapped() {
  for (auto it = files.begin(); it != files.end();) {
    if (!it->second.pids.empty()) {
      ++it;
      continue;
    }
    reaper.Retire(it->first, std::move(it->second.links));
    it = files.erase(it);
  }
}

TlsUprobes::TlsUprobes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsUprobes::~TlsUprobes() { Detach(); }

absl::StatusOr<std::unique_ptr<TlsUprobes>> TlsUprobes::Load(
    bpf_object* l7, const TlsOptions& opts) {
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->skel.reset(tls_bpf__open());
  if (!impl->skel) return LibbpfError(-errno, "opening tls BPF object");
  auto* s = impl->skel.get();
  for (const char* name : kShared) {
    bpf_map* mine = bpf_object__find_map_by_name(s->obj, name);
    const bpf_map* theirs = bpf_object__find_map_by_name(l7, name);
    if (mine == nullptr || theirs == nullptr) {
      return absl::InternalError(
          absl::StrCat("tls: l7 and tls BPF objects disagree on map ", name,
                       ": rebuild them from one tree"));
    }
    if (int err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs)); err != 0) {
      return LibbpfError(err, absl::StrCat("sharing l7 map ", name));
    }
  }
  // HTTP/2 events over TLS go to l7's ring buffer: the same wake threshold.
  s->rodata->h2_wake_bytes = H2Events::WakeBytes(
      bpf_map__max_entries(bpf_object__find_map_by_name(l7, "h2_events")));
  // Execs matter only to a late attach; without it, not loaded nor listed.
  if (!opts.late_attach) bpf_program__set_autoload(s->progs.tls_exec, false);
  impl->missing = DisableMissingTracepoints(s->obj, "tls");
  if (int err = tls_bpf__load(s); err != 0) {
    return LibbpfError(err, "loading tls BPF programs");
  }
  return std::unique_ptr<TlsUprobes>(new TlsUprobes(std::move(impl)));
}

absl::Status TlsUprobes::Attach() {
  Impl& im = *impl_;
  im.programs = im.missing;
  if (bpf_program__autoload(im.skel->progs.tls_exec)) {
    LinkPtr l;
    absl::Status s = AttachProgram(im.skel->progs.tls_exec, &l);
    ProgramStatus st{"tls/tls_exec", s.ok(), std::string(s.message())};
    if (s.ok()) {
      st.fd = bpf_program__fd(im.skel->progs.tls_exec);
      im.tp_links.push_back(std::move(l));
    }
    im.programs.push_back(std::move(st));
  }
  im.attached = true;
  im.FullScan();
  im.next_full_scan_ns =
      MonotonicNs() + int64_t{im.opts.full_scan_s} * 1'000'000'000;
  return absl::OkStatus();
}

void TlsUprobes::Detach() {
  if (!impl_) return;
  impl_->attached = false;
  // Each uprobe's release waits for RCU grace periods, serialized in the
  // kernel (~90 ms each measured on 6.18 under load; from threads of
  // their own no faster): the agent's exit pays it.
  const int64_t t0 = MonotonicNs();
  size_t n = 0;
  for (const auto& [k, f] : impl_->files) n += f.links.size();
  impl_->files.clear();
  impl_->tp_links.clear();
  if (n != 0) {
    Log(LogLevel::kDebug, "tls: detached ", n, " uprobes in ",
        (MonotonicNs() - t0) / 1'000'000, " ms");
  }
  for (ProgramStatus& p : impl_->programs) {
    if (p.attached) p.reason = "detached";
    p.attached = false;
    p.fd = -1;
  }
}

void TlsUprobes::ReadInto(Snapshot* snap) {
  Impl& im = *impl_;
  const int64_t now = MonotonicNs();
  if (im.attached && im.opts.late_attach) {
    if (now >= im.next_full_scan_ns) {
      im.young.clear();  // FullScan defers some to young again
      im.FullScan();
      im.next_full_scan_ns = now + int64_t{im.opts.full_scan_s} * 1'000'000'000;
    } else {
      // Execs since the last refresh: the loader maps libssl after exec,
      // and a library may be dlopen'd later still, so a new process is
      // looked at on every refresh (scrape) of its first seconds.
      bpf_map* execs = im.skel->maps.tls_execs;
      std::vector<__u32> keys;
      __u32 k, *prev = nullptr;
      while (bpf_map_get_next_key(bpf_map__fd(execs), prev, &k) == 0 &&
             keys.size() < 4096) {
        keys.push_back(k);
        prev = &keys.back();
      }
      DeleteKeys(execs, keys.data(), keys.size());
      for (__u32 pid : keys) {
        im.young.emplace(pid, now + int64_t{kYoungS} * 1'000'000'000);
      }
      for (auto it = im.young.begin(); it != im.young.end();) {
        if (!PidGone(it->first)) im.ScanPid(it->first);
        it = now >= it->second || PidGone(it->first) ? im.young.erase(it)
                                                     : std::next(it);
      }
      for (auto& [fk, f] : im.files) std::erase_if(f.pids, PidGone);
      im.RetireUnmapped();
    }
  }
  TlsStatus& t = snap->tls;
  t.loaded = true;
  t.links = 0;
  for (TlsLibrary lib :
       {TlsLibrary::kOpenSsl, TlsLibrary::kGnuTls, TlsLibrary::kGo}) {
    t.files[TlsLibraryName(lib)] = 0;
  }
  for (const auto& [fk, f] : im.files) {
    ++t.files[TlsLibraryName(f.library)];
    t.links += f.links.size();
  }
  t.skipped = im.skipped;
  for (uint32_t i = 0; i < RL_TLS_COUNTER_COUNT; ++i) {
    if (kCounterKinds[i] == nullptr) continue;
    auto c = SumPercpuU64(im.skel->maps.tls_counters, i);
    if (c.ok()) snap->request_unparsed[kCounterKinds[i]] = *c;
  }
}

void TlsUprobes::SetSloThresholds(const SloWithin& threshold_ns) {
  for (int i = 0; i < kSloSlots; ++i) {
    __atomic_store_n(&impl_->skel->bss->slo_threshold_ns[i], threshold_ns[i],
                     __ATOMIC_RELAXED);
  }
}

std::vector<ProgramStatus> TlsUprobes::programs() const {
  return impl_->programs;
}

std::vector<MapStatus> TlsUprobes::maps() const {
  auto* m = &impl_->skel->maps;
  std::vector<MapStatus> out(5);
  out[0].name = "tls_sockets";
  out[0].capacity = bpf_map__max_entries(m->tls_socks);
  ReadUpdateErrors(m->tls_update_errors, RL_TLS_MAP_SOCKS, &out[0]);
  out[1].name = "tls_execs";
  out[1].capacity = bpf_map__max_entries(m->tls_execs);
  if (auto n = SumPercpuU64(m->tls_counters, RL_TLS_EXEC_LOST); n.ok()) {
    out[1].drops = *n;
    out[1].update_errors[RL_UPDATE_E2BIG] = *n;
  }
  out[2].name = "tls_calls";  // per thread: entries are threads' own
  ReadUpdateErrors(m->tls_update_errors, RL_TLS_MAP_CALLS, &out[2]);
  out[3].name = "tls_windows";
  ReadUpdateErrors(m->tls_update_errors, RL_TLS_MAP_WINDOWS, &out[3]);
  out[4].name = "tls_retries";
  out[4].capacity = bpf_map__max_entries(m->tls_retries);
  // Entries only between a GnuTLS write's E_AGAIN and its retry: a walk
  // of at most 4096 keys.
  if (auto n = ForEachEntry(m->tls_retries, [](const void*, const void*) {});
      n.ok()) {
    out[4].entries = *n;
  }
  ReadUpdateErrors(m->tls_update_errors, RL_TLS_MAP_RETRIES, &out[4]);
  return out;
}

}  // namespace redline
