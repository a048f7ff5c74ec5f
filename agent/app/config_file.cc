#include "agent/app/config_file.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"

namespace redline {
namespace {

absl::Status Err(const std::string& file, const YAML::Node& n,
                 const std::string& key, absl::string_view msg) {
  const YAML::Mark m = n.Mark();
  return absl::InvalidArgumentError(absl::StrCat(
      file, ":", m.line + 1, ":", m.column + 1, ": ", key, ": ", msg));
}

// Keys that make no sense in a file read by a service.
const std::set<std::string>& Refused() {
  static const auto* keys =
      new std::set<std::string>{"config", "help", "version"};
  return *keys;
}

}  // namespace

static absl::StatusOr<std::vector<ConfigArg>> ParseConfigFileRaw(
    const std::string& text, const std::string& filename) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", e.mark.line + 1, ":", e.mark.column + 1,
                     ": invalid YAML: ", e.msg));
  }
  std::vector<ConfigArg> out;
  if (root.IsNull()) return out;  // an empty file (only comments) is fine
  if (!root.IsMap()) {
    return Err(filename, root, "(top level)",
               "want a mapping of flag names to values");
  }
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    const std::string origin =
        absl::StrCat(filename, ":", kv.first.Mark().line + 1);
    if (Refused().count(key)) {
      return Err(filename, kv.first, key, "not allowed in a config file");
    }
    std::string value;
    if (v.IsScalar()) {
      value = v.Scalar();
    } else if (v.IsSequence()) {
      for (const auto& item : v) {
        if (!item.IsScalar()) {
          return Err(filename, item, key, "list items must be plain values");
        }
        absl::StrAppend(&value, value.empty() ? "" : ",", item.Scalar());
      }
      if (value.empty()) return Err(filename, v, key, "empty list");
    } else {
      return Err(filename, v.IsNull() ? kv.first : v, key,
                 v.IsNull() ? "no value" : "want a value or a list");
    }
    out.push_back({absl::StrCat("--", key, "=", value), origin});
  }
  return out;
}

absl::StatusOr<std::vector<ConfigArg>> ParseConfigFile(
    const std::string& text, const std::string& filename) {
  auto args = ParseConfigFileRaw(text, filename);
  if (!args.ok()) {
    return absl::Status(args.status().code(), OneLine(args.status().message()));
  }
  return args;
}

absl::StatusOr<std::vector<ConfigArg>> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot read the config file: ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfigFile(ss.str(), path);
}

}  // namespace redline
