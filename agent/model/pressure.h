// Host CPU, I/O and memory pressure (PSI) from /proc/pressure, when the
// kernel has it enabled (CONFIG_PSI, not psi=0).
#ifndef REDLINE_AGENT_MODEL_PRESSURE_H_
#define REDLINE_AGENT_MODEL_PRESSURE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "agent/model/model.h"

namespace redline {

// Parses one /proc/pressure/<resource> file ("some avg10=.. total=N" and,
// for io/memory (and cpu since 5.13), "full ..."). Malformed lines are
// skipped.
std::vector<PressureStats> ParsePressure(absl::string_view resource,
                                         absl::string_view text);

// Every resource under `dir`; empty if PSI is off.
std::vector<PressureStats> ReadPressure(const std::string& dir);

}  // namespace redline

#endif  // REDLINE_AGENT_MODEL_PRESSURE_H_
