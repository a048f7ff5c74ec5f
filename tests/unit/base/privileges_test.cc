#include "agent/base/privileges.h"

#include <gtest/gtest.h>

namespace redline {
namespace {

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

TEST(Privileges, MissingRequiredNamesEachAbsentCapability) {
  EXPECT_EQ(MissingRequired(0), "CAP_BPF, CAP_PERFMON");
  EXPECT_EQ(MissingRequired(Bit(kCapBpf)), "CAP_PERFMON");
  EXPECT_EQ(MissingRequired(Bit(kCapPerfmon)), "CAP_BPF");
  EXPECT_EQ(MissingRequired(Bit(kCapBpf) | Bit(kCapPerfmon)), "");
  // CAP_DAC_READ_SEARCH is optional: never reported as missing.
  EXPECT_EQ(MissingRequired(~uint64_t{0} & ~Bit(kCapDacReadSearch)), "");
  // CAP_SYS_ADMIN passes bpf_capable() and perfmon_capable().
  EXPECT_EQ(MissingRequired(Bit(kCapSysAdmin)), "");
}

TEST(Privileges, KeepsCapBpfOnlyWhereMapAccessNeedsIt) {
  const uint64_t all = Bit(kCapBpf) | Bit(kCapPerfmon) | Bit(kCapSysAdmin);
  EXPECT_EQ(CapabilitiesToKeep(6, 1, all), 0u);
  EXPECT_EQ(CapabilitiesToKeep(5, 19, all), 0u);
  EXPECT_EQ(CapabilitiesToKeep(5, 18, all), Bit(kCapBpf));
  EXPECT_EQ(CapabilitiesToKeep(5, 11, all), Bit(kCapBpf));
  // Only what was permitted can be kept; CAP_SYS_ADMIN granted instead of
  // CAP_BPF is what map reads need before 5.19.
  EXPECT_EQ(CapabilitiesToKeep(5, 15, Bit(kCapPerfmon)), 0u);
  EXPECT_EQ(CapabilitiesToKeep(5, 15, Bit(kCapSysAdmin)), Bit(kCapSysAdmin));
  EXPECT_EQ(CapabilitiesToKeep(6, 1, Bit(kCapSysAdmin)), 0u);
  // A granted CAP_DAC_READ_SEARCH stays for cgroups created later.
  EXPECT_EQ(CapabilitiesToKeep(6, 1, all | Bit(kCapDacReadSearch)),
            Bit(kCapDacReadSearch));
  // TLS uprobes attached after start: perf event and other processes' maps,
  // only if granted.
  EXPECT_EQ(CapabilitiesToKeep(6, 1, all | Bit(kCapSysPtrace), true),
            Bit(kCapSysAdmin) | Bit(kCapSysPtrace));
  EXPECT_EQ(CapabilitiesToKeep(6, 1, Bit(kCapBpf) | Bit(kCapPerfmon), true),
            0u);
}

TEST(Privileges, Names) {
  EXPECT_EQ(CapabilityList(0), "none");
  EXPECT_EQ(CapabilityList(Bit(kCapDacReadSearch) | Bit(kCapBpf)),
            "CAP_DAC_READ_SEARCH,CAP_BPF");
  EXPECT_EQ(CapabilityName(kCapSysAdmin), "CAP_SYS_ADMIN");
  EXPECT_EQ(CapabilityName(7), "CAP_SETUID");
  EXPECT_EQ(CapabilityName(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(CapabilityName(41), "cap_41");
  EXPECT_TRUE(HasEffective(Bit(63), 63));
  EXPECT_FALSE(HasEffective(Bit(63), 64));
}

}  // namespace
}  // namespace redline
