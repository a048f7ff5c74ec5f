// `redline top`.
#ifndef REDLINE_AGENT_TOP_MAIN_H_
#define REDLINE_AGENT_TOP_MAIN_H_

#include "agent/flags.h"
#include "agent/syscall_aggregator.h"

namespace redline {

// Exit status: 0, or 2 with one line on stderr.
int Top(const Options& opts, const AggregatorOptions& naming);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_MAIN_H_
