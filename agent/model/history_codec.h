// The encoding of History's entries (model/history.h): each workload
// folded to what `redline top` reads (a Rec), and a set of them (a State)
// written as varint deltas from the entry before, or from nothing for a
// key entry. Internal to History; here so it can be tested and kept short.
#ifndef REDLINE_AGENT_MODEL_HISTORY_CODEC_H_
#define REDLINE_AGENT_MODEL_HISTORY_CODEC_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/model/history.h"
#include "agent/model/model.h"

namespace redline::history {

// Workload ids and culprit names, referenced by index from records.
struct Tables {
  std::vector<WorkloadId> ids;
  absl::flat_hash_map<WorkloadId, uint32_t> id_index;
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, uint32_t> name_index;
  uint32_t Id(const WorkloadId& id);
  uint32_t Name(const std::string& name);
  size_t Bytes() const;
};

// Counters of a workload, in this order; kBurnBits holds slo_burn's bits.
enum Scalar {
  kCpu,
  kSteal,
  kRq,
  kOff0,
  kPeriods = kOff0 + kOffCpuReasons,
  kThrottledPeriods,
  kThrottledNs,
  kBurnBits,
  kCalls,
  kErrors,
  kRetrans,
  kScalars
};

struct Rec {
  uint64_t flags = 0;  // RecFlags
  std::array<uint64_t, kScalars> v{};
  Log2Hist rq{}, sys{};
  std::map<uint32_t, uint64_t> culprits;  // by name index
  // By protocol index * 4 + server * 2 + error: requests and histogram.
  std::map<uint32_t, std::pair<uint64_t, FineHist>> requests;
  bool operator==(const Rec&) const = default;
};
enum RecFlags : uint64_t { kSched = 1, kThrottle = 2, kBurn = 4 };

using State = absl::flat_hash_map<uint32_t, Rec>;  // by id index

State Fold(const Snapshot& snap, Tables* t);
// `prev` empty: a key entry.
std::string Encode(const State& cur, const State& prev);
// Corrupt input decodes to what could be read (never past the end).
State Decode(const std::string& data, const State& prev);
// The Snapshot's workloads from a State (model/history.h says how folded).
void Unfold(const State& s, const Tables& t, Snapshot* out);
// The same State with indices into `to` instead of `from`.
State Remap(const State& s, const Tables& from, Tables* to);
size_t StateBytes(const State& s);

}  // namespace redline::history

#endif  // REDLINE_AGENT_MODEL_HISTORY_CODEC_H_
