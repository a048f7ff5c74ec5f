// The agent's configuration file (/etc/redline/redline.yaml): a YAML map
// whose keys are flag names without the dashes, e.g.
//
//   listen: "[::]:10433"
//   probes: [syscalls, sched, block, tcp, l7]
//   slo-config: /etc/redline/slo.yaml
//
// It is turned into flags, so the file and the command line accept the same
// names and values, and flags given on the command line win.
#ifndef REDLINE_AGENT_APP_CONFIG_FILE_H_
#define REDLINE_AGENT_APP_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace redline {

struct ConfigArg {
  std::string flag;    // "--listen=[::]:10433"
  std::string origin;  // "/etc/redline/redline.yaml:3"
};

// Errors: "file:line:col: key: message".
absl::StatusOr<std::vector<ConfigArg>> ParseConfigFile(
    const std::string& text, const std::string& filename);
absl::StatusOr<std::vector<ConfigArg>> LoadConfigFile(const std::string& path);

}  // namespace redline

#endif  // REDLINE_AGENT_APP_CONFIG_FILE_H_
