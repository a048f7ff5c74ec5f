#include "agent/probes/go_binary.h"

#include <capstone/capstone.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace redline {
namespace {

constexpr char kRead[] = "crypto/tls.(*Conn).Read";
constexpr char kWrite[] = "crypto/tls.(*Conn).Write";
constexpr char kHandshake[] = "crypto/tls.(*Conn).handshakeContext";
constexpr char kBuildInfoMagic[] = "\xff Go buildinf:";  // 14 bytes

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

struct Section {
  uint64_t addr = 0, offset = 0, size = 0;
  bool bits = false;  // has file contents (not SHT_NOBITS)
};

absl::StatusOr<std::vector<uint8_t>> ReadAt(int fd, uint64_t off,
                                            uint64_t len) {
  if (len > (64u << 20)) return absl::FailedPreconditionError("disassembly");
  std::vector<uint8_t> out(len);
  size_t got = 0;
  while (got < len) {
    const ssize_t n = pread(fd, out.data() + got, len - got, off + got);
    if (n <= 0) return absl::UnavailableError("short read");
    got += n;
  }
  return out;
}

// A Go 1.17 (pointer form) buildinfo: the version string's header (data
// pointer, length) is at the address in the word after the header.
std::string PointerFormVersion(int fd, const std::vector<Section>& secs,
                               absl::Span<const uint8_t> info) {
  const uint8_t ptr = info[14];
  if (ptr != 8 || (info[15] & 1) != 0 || info.size() < 32) return "";
  auto read_addr = [&](uint64_t addr, uint64_t len) -> std::vector<uint8_t> {
    for (const Section& s : secs) {
      if (s.bits && addr >= s.addr && addr + len <= s.addr + s.size) {
        auto r = ReadAt(fd, s.offset + (addr - s.addr), len);
        if (r.ok()) return *r;
      }
    }
    return {};
  };
  uint64_t hdr = 0;
  std::memcpy(&hdr, info.data() + 16, 8);
  std::vector<uint8_t> sh = read_addr(hdr, 16);
  if (sh.size() != 16) return "";
  uint64_t data = 0, len = 0;
  std::memcpy(&data, sh.data(), 8);
  std::memcpy(&len, sh.data() + 8, 8);
  if (len == 0 || len > 64) return "";
  std::vector<uint8_t> s = read_addr(data, len);
  return std::string(s.begin(), s.end());
}

// One Capstone handle and its instruction buffer, released on every path.
class Disassembler {
 public:
  explicit Disassembler(bool arm) {
    if (cs_open(arm ? CS_ARCH_ARM64 : CS_ARCH_X86,
                arm ? CS_MODE_ARM : CS_MODE_64, &h_) != CS_ERR_OK) {
      return;
    }
    open_ = true;
    insn_ = cs_malloc(h_);
  }
  ~Disassembler() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    if (open_) cs_close(&h_);
  }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  bool ok() const { return insn_ != nullptr; }
  // The next instruction at *p, or false where none decodes.
  bool Next(const uint8_t** p, size_t* left, uint64_t* addr) {
    return cs_disasm_iter(h_, p, left, addr, insn_);
  }
  const cs_insn& insn() const { return *insn_; }

 private:
  csh h_ = 0;
  bool open_ = false;
  cs_insn* insn_ = nullptr;
};

}  // namespace

std::string GoVersionFromBuildInfo(absl::Span<const uint8_t> s) {
  if (s.size() < 33 || std::memcmp(s.data(), kBuildInfoMagic, 14) != 0 ||
      (s[15] & 2) == 0) {
    return "";
  }
  // A uvarint length, then the bytes.
  uint64_t len = 0;
  size_t i = 32;
  for (int shift = 0; i < s.size() && shift < 64; shift += 7) {
    const uint8_t b = s[i++];
    len |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len == 0 || len > 64 || i + len > s.size()) return "";
  return std::string(reinterpret_cast<const char*>(s.data() + i), len);
}

bool GoHasRegisterAbi(const std::string& version) {
  if (version.rfind("go1.", 0) != 0) return false;
  // The minor number ends at the next non-digit ("22rc1", "21.3").
  size_t end = 4;
  while (end < version.size() && version[end] >= '0' && version[end] <= '9') {
    ++end;
  }
  int minor = 0;
  return end > 4 && absl::SimpleAtoi(version.substr(4, end - 4), &minor) &&
         minor >= 17;
}

absl::StatusOr<std::vector<uint64_t>> ReturnOffsets(
    absl::Span<const uint8_t> code, GoArch arch) {
  const bool arm = arch == GoArch::kArm64;
  Disassembler d(arm);
  if (!d.ok()) {
    return absl::InternalError("capstone: cannot open a disassembler");
  }
  std::vector<uint64_t> out;
  const uint8_t* p = code.data();
  size_t left = code.size();
  uint64_t addr = 0;
  // Decode on; a byte that is no instruction (data, padding) is skipped
  // one instruction slot at a time (arm64: 4 bytes, x86: 1).
  while (left > 0) {
    if (!d.Next(&p, &left, &addr)) {
      const size_t skip = arm ? 4 : 1;
      if (left < skip) break;
      p += skip;
      left -= skip;
      addr += skip;
      continue;
    }
    const unsigned id = d.insn().id;
    if (arm ? id == ARM64_INS_RET : (id == X86_INS_RET || id == X86_INS_RETF)) {
      out.push_back(d.insn().address);
    }
  }
  if (out.empty()) return absl::FailedPreconditionError("disassembly");
  return out;
}

absl::StatusOr<GoTlsProbes> FindGoTlsProbes(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return absl::InternalError("libelf: version mismatch");
  }
  Fd fd{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return absl::UnavailableError(strerror(errno));
  std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.fd, ELF_C_READ, nullptr));
  GElf_Ehdr eh;
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF ||
      gelf_getehdr(elf.get(), &eh) == nullptr) {
    return absl::NotFoundError("not an ELF file");
  }
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) {
    return absl::NotFoundError("no section names");
  }
  std::vector<Section> secs;
  std::optional<Section> buildinfo;
  Elf_Scn* symtab = nullptr;
  GElf_Shdr symtab_hdr{};
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    Section s{sh.sh_addr, sh.sh_offset, sh.sh_size, sh.sh_type != SHT_NOBITS};
    secs.push_back(s);
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (name != nullptr && std::strcmp(name, ".go.buildinfo") == 0) {
      buildinfo = s;
    }
    if (sh.sh_type == SHT_SYMTAB) {
      symtab = scn;
      symtab_hdr = sh;
    }
  }
  if (!buildinfo) return absl::NotFoundError("not a Go program");
  GoTlsProbes out;
  auto info = ReadAt(fd.fd, buildinfo->offset,
                     std::min<uint64_t>(buildinfo->size, 4096));
  if (info.ok()) {
    out.go_version = GoVersionFromBuildInfo(*info);
    if (out.go_version.empty() && info->size() >= 32) {
      out.go_version = PointerFormVersion(fd.fd, secs, *info);
    }
  }
  GoArch arch;
  if (eh.e_machine == EM_X86_64) {
    arch = GoArch::kX86_64;
  } else if (eh.e_machine == EM_AARCH64) {
    arch = GoArch::kArm64;
  } else {
    return absl::FailedPreconditionError("arch");
  }
  // Without .symtab there is no telling whether crypto/tls is in: a
  // stripped Go binary is reported as such (it may well do TLS).
  if (symtab == nullptr) return absl::FailedPreconditionError("no_symbols");
  Elf_Data* data = elf_getdata(symtab, nullptr);
  const size_t n =
      symtab_hdr.sh_entsize ? symtab_hdr.sh_size / symtab_hdr.sh_entsize : 0;
  std::optional<GElf_Sym> read, write, handshake;
  for (size_t i = 0; data != nullptr && i < n; ++i) {
    GElf_Sym sym;
    if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
    if (GELF_ST_TYPE(sym.st_info) != STT_FUNC) continue;
    const char* name = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
    if (name == nullptr) continue;
    if (std::strcmp(name, kRead) == 0) read = sym;
    if (std::strcmp(name, kWrite) == 0) write = sym;
    if (std::strcmp(name, kHandshake) == 0) handshake = sym;
  }
  if (!read || !write) return absl::NotFoundError("no crypto/tls");
  if (!GoHasRegisterAbi(out.go_version)) {
    return absl::FailedPreconditionError("go_version");
  }
  std::vector<std::pair<const GElf_Sym*, GoFunctionProbes*>> funcs = {
      {&*read, &out.read}, {&*write, &out.write}};
  if (handshake) funcs.emplace_back(&*handshake, &out.handshake);
  for (auto [sym, probes] : funcs) {
    const Section* text = nullptr;
    for (const Section& s : secs) {
      if (s.bits && sym->st_value >= s.addr &&
          sym->st_value + sym->st_size <= s.addr + s.size) {
        text = &s;
      }
    }
    if (text == nullptr || sym->st_size == 0) {
      return absl::FailedPreconditionError("no_symbols");
    }
    probes->entry = text->offset + (sym->st_value - text->addr);
    auto code = ReadAt(fd.fd, probes->entry, sym->st_size);
    if (!code.ok()) return code.status();
    auto rets = ReturnOffsets(*code, arch);
    if (!rets.ok()) return rets.status();
    for (uint64_t r : *rets) probes->returns.push_back(probes->entry + r);
  }
  return out;
}

}  // namespace redline
