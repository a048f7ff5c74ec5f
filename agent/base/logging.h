// Minimal leveled logger to stderr. libbpf's own output is routed here so a
// failed load prints one line at the default level, the full verifier log
// only with --log-level=debug.
#ifndef REDLINE_AGENT_BASE_LOGGING_H_
#define REDLINE_AGENT_BASE_LOGGING_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace redline {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool ParseLogLevel(absl::string_view s, LogLevel* out);
void LogLine(LogLevel level, absl::string_view msg);

// msg with control characters (a newline in an echoed file key or flag
// value) written as \xNN, so an error stays one line.
std::string OneLine(absl::string_view msg);

template <typename... Args>
void Log(LogLevel level, const Args&... args) {
  if (level < GetLogLevel()) return;
  LogLine(level, absl::StrCat(args...));
}

}  // namespace redline

#endif  // REDLINE_AGENT_BASE_LOGGING_H_
