#include "agent/metrics/histogram_selector.h"

#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/model/names.h"

namespace redline {

absl::StatusOr<SyscallHistogramPolicy> ParseSyscallHistogramPolicy(
    absl::string_view spec) {
  SyscallHistogramPolicy p;
  if (spec == "all") return p;
  if (spec.substr(0, 4) == "top:") {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(spec.substr(4), &n) || n == 0 || n > 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "want top:N with N from 1 to 64, got '", spec, "'"));
    }
    p.top = n;
    return p;
  }
  for (absl::string_view name : absl::StrSplit(spec, ',')) {
    const int nr = SyscallNumber(std::string(name));
    if (nr < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown syscall '", name,
          "' (want all, top:N or syscall names such as read,write)"));
    }
    p.named.push_back(static_cast<uint32_t>(nr));
  }
  return p;
}

std::unique_ptr<SyscallHistogramSelector::Governor>
SyscallHistogramSelector::NewGovernor() const {
  if (policy_.top != 0) return std::make_unique<Governor>(policy_.top);
  auto g = std::make_unique<Governor>(std::numeric_limits<size_t>::max());
  g->set_admissible([this](const uint32_t& nr) { return named_.contains(nr); });
  return g;
}

SyscallHistogramSelector::Series SyscallHistogramSelector::Apply(
    const Series& calls) {
  if (policy_.all()) return calls;
  // Per workload, in first-seen order: its syscalls, and what the
  // workload governor already folded as this workload's [other] (only the
  // all-[other] workload has one today).
  struct Group {
    const WorkloadId* id;
    std::vector<std::pair<uint32_t, SyscallStats>> syscalls;
    const SyscallStats* other = nullptr;
  };
  std::vector<Group> groups;
  absl::flat_hash_map<WorkloadId, size_t> by_id;
  for (const auto& [key, s] : calls) {
    auto [it, fresh] = by_id.try_emplace(key.id, groups.size());
    if (fresh) groups.push_back(Group{&key.id, {}, nullptr});
    Group& g = groups[it->second];
    if (key.nr == kOtherSyscall) {
      g.other = &s;
    } else {
      g.syscalls.emplace_back(key.nr, s);
    }
  }
  Series out;
  out.reserve(calls.size());
  absl::flat_hash_map<WorkloadId, std::unique_ptr<Governor>> live;
  live.reserve(groups.size());
  const TimeTraits traits;
  for (Group& g : groups) {
    auto node = workloads_.extract(*g.id);
    std::unique_ptr<Governor> gov =
        node.empty() ? NewGovernor() : std::move(node.mapped());
    auto res = gov->Apply(std::move(g.syscalls));
    folded_ += res.newly_folded;
    for (auto& [nr, s] : res.kept) {
      out.emplace_back(SyscallSeriesKey{*g.id, nr, 0}, std::move(s));
    }
    if (g.other != nullptr) {
      if (res.other) {
        traits.Add(&*res.other, *g.other);
      } else {
        res.other = *g.other;
      }
    }
    if (res.other) {
      out.emplace_back(SyscallSeriesKey{*g.id, kOtherSyscall, 0},
                       std::move(*res.other));
    }
    live.emplace(*g.id, std::move(gov));
  }
  // A workload gone from the view ends all its series, [other] included.
  workloads_ = std::move(live);
  return out;
}

}  // namespace redline
