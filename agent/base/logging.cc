#include "agent/base/logging.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "exporters/one_line.h"

namespace redline {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

bool ParseLogLevel(absl::string_view s, LogLevel* out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                     LogLevel::kError}) {
    if (s == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void LogLine(LogLevel level, absl::string_view msg) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> l(g_mu);
  std::fprintf(stderr, "%s redline %s: %.*s\n", ts, LevelName(level),
               static_cast<int>(msg.size()), msg.data());
}

std::string OneLine(absl::string_view msg) { return prom::OneLine(msg); }

}  // namespace redline
