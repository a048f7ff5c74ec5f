// `redline check`: preflight of everything `redline run` needs.
#ifndef REDLINE_AGENT_APP_CHECK_H_
#define REDLINE_AGENT_APP_CHECK_H_

#include <string>
#include <vector>

namespace redline {

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;  // what was found
  std::string fix;     // what to do when not ok
  // A failed optional check degrades one probe ("WARN"); the agent runs.
  bool optional = false;
};

// Parses "6.1.0-13-amd64" into {6, 1}; false when not a version.
bool ParseKernelRelease(const std::string& release, int* major, int* minor);

std::vector<CheckResult> RunChecks(const std::string& btf_path);

// Prints one line per check; returns true if every required one passed.
bool PrintChecks(const std::vector<CheckResult>& results);

}  // namespace redline

#endif  // REDLINE_AGENT_APP_CHECK_H_
