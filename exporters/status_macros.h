// Abseil 20220623 (Debian 12) ships no status_macros.h: our own two macros,
// here at the bottom of the include order so every library may use them.
#ifndef REDLINE_EXPORTERS_STATUS_MACROS_H_
#define REDLINE_EXPORTERS_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define REDLINE_CONCAT_INNER_(a, b) a##b
#define REDLINE_CONCAT_(a, b) REDLINE_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    const absl::Status _rl_status = (expr);          \
    if (!_rl_status.ok()) return _rl_status;         \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(REDLINE_CONCAT_(_rl_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // REDLINE_EXPORTERS_STATUS_MACROS_H_
