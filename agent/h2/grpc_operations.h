// gRPC operations as metric labels, bounded: a host sees whatever services
// and methods its processes call, so the label values must not grow with
// them. The first operations seen keep their own label, later ones fall
// back to their service, then to "other".
#ifndef REDLINE_AGENT_H2_GRPC_OPERATIONS_H_
#define REDLINE_AGENT_H2_GRPC_OPERATIONS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace redline::h2 {

// Longest service or method name kept; longer ones are cut there.
inline constexpr size_t kMaxGrpcNamePart = 128;

struct GrpcPath {
  std::string service;  // "pkg.Service"
  std::string method;   // "Method"
};

// Splits a gRPC :path "/pkg.Service/Method" (both parts non-empty, no
// further '/'), each part cut at kMaxGrpcNamePart; nullopt otherwise.
std::optional<GrpcPath> ParseGrpcPath(absl::string_view path);

// The host-wide interner of operation labels. Deterministic (first come,
// first served; a label once given never changes) and thread-compatible:
// callers serialise Label().
class GrpcOperations {
 public:
  static constexpr char kOther[] = "other";

  GrpcOperations(size_t max_operations = 64, size_t max_services = 32);

  // "service/method" for the first max_operations distinct operations;
  // then "service" for operations of up to max_services distinct services
  // (services with an operation label of their own do not count); then
  // "other". An empty service is always "other". Names are cut at
  // kMaxGrpcNamePart first.
  std::string Label(absl::string_view service, absl::string_view method);

  size_t operations() const { return operations_.size(); }
  size_t services() const { return services_.size(); }
  // Calls that got "other" because both budgets were spent.
  uint64_t overflowed() const { return overflowed_; }

 private:
  size_t max_operations_;
  size_t max_services_;
  // Operations labelled "service/method" (operation budget).
  absl::flat_hash_set<std::string> operations_;
  // Services labelled by service alone (service budget).
  absl::flat_hash_set<std::string> services_;
  uint64_t overflowed_ = 0;
};

}  // namespace redline::h2

#endif  // REDLINE_AGENT_H2_GRPC_OPERATIONS_H_
