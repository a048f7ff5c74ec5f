// `redline top`.
#ifndef REDLINE_AGENT_APP_TOP_COMMAND_H_
#define REDLINE_AGENT_APP_TOP_COMMAND_H_

#include "agent/app/flags.h"

namespace redline {

// Exit status: 0, or 2 with one line on stderr.
int Top(const Options& opts, const ProbeSetOptions& probe_opts);

}  // namespace redline

#endif  // REDLINE_AGENT_APP_TOP_COMMAND_H_
