#include "agent/model/grpc_methods.h"

#include <deque>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace redline {
namespace {

struct Table {
  std::mutex mu;
  absl::flat_hash_map<std::string, uint8_t> ids;
  // Stable addresses: names handed out as const char* stay valid.
  std::deque<std::string> names;
};

Table& Methods() {
  static Table* t = new Table;
  return *t;
}

}  // namespace

uint8_t GrpcMethodId(absl::string_view label) {
  Table& t = Methods();
  std::lock_guard<std::mutex> l(t.mu);
  auto it = t.ids.find(label);
  if (it != t.ids.end()) return it->second;
  if (t.names.size() >= kMaxGrpcMethodIds) return 0;
  t.names.emplace_back(label);
  const auto id = static_cast<uint8_t>(t.names.size());
  t.ids.emplace(t.names.back(), id);
  return id;
}

const char* GrpcMethodName(uint32_t id) {
  Table& t = Methods();
  std::lock_guard<std::mutex> l(t.mu);
  if (id == 0 || id > t.names.size()) return "unknown";
  return t.names[id - 1].c_str();
}

}  // namespace redline
