#include "agent/h2/grpc_operations.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace redline::h2 {

namespace {

// gRPC names are protobuf identifiers with dots: anything else (a scanner's
// made-up path, bytes the exposition formats would refuse) is no label.
bool IsName(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

}  // namespace

std::optional<GrpcPath> ParseGrpcPath(absl::string_view path) {
  if (path.size() < 4 || path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == path.size() ||
      path.find('/', slash + 1) != absl::string_view::npos) {
    return std::nullopt;
  }
  if (!IsName(path.substr(0, slash)) || !IsName(path.substr(slash + 1))) {
    return std::nullopt;
  }
  GrpcPath p;
  p.service = std::string(path.substr(0, std::min(slash, kMaxGrpcNamePart)));
  p.method = std::string(path.substr(slash + 1, kMaxGrpcNamePart));
  return p;
}

GrpcOperations::GrpcOperations(size_t max_operations, size_t max_services)
    : max_operations_(max_operations), max_services_(max_services) {}

std::string GrpcOperations::Label(absl::string_view service,
                                  absl::string_view method) {
  service = service.substr(0, kMaxGrpcNamePart);
  method = method.substr(0, kMaxGrpcNamePart);
  if (service.empty()) return kOther;
  std::string op = absl::StrCat(service, "/", method);
  if (operations_.contains(op)) return op;
  // Neither budget ever frees a slot, so an operation's label never
  // changes: it is decided once, by the first call that names it.
  if (operations_.size() < max_operations_) {
    operations_.insert(op);
    return op;
  }
  std::string svc(service);
  if (services_.contains(svc)) return svc;
  if (services_.size() < max_services_) {
    services_.insert(svc);
    return svc;
  }
  ++overflowed_;
  return kOther;
}

}  // namespace redline::h2
