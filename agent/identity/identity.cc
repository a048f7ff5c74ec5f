#include "agent/identity/identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace redline {
namespace {

bool IsHexId(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

// A pod uid: 8-4-4-4-12 hex with '-' (cgroupfs) or '_' (systemd, which
// reserves '-' as the slice separator). Returned with dashes.
bool ParsePodUid(absl::string_view s, std::string* out) {
  if (s.size() != 36) return false;
  std::string uid(s);
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool sep = i == 8 || i == 13 || i == 18 || i == 23;
    if (sep) {
      if (uid[i] != '-' && uid[i] != '_') return false;
      uid[i] = '-';
    } else if (!absl::ascii_isxdigit(uid[i])) {
      return false;
    }
  }
  *out = absl::AsciiStrToLower(uid);
  return true;
}

// Container id from one path component, for every runtime layout:
//   cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope,
//   libpod-<id>.scope (systemd driver); <id>, docker/<id> (cgroupfs).
bool ContainerIdFrom(absl::string_view comp, std::string* out) {
  absl::string_view c = comp;
  if (absl::ConsumeSuffix(&c, ".scope")) {
    // conmon (CRI-O/Podman monitor) scopes are not the container.
    if (absl::StrContains(c, "conmon")) return false;
    for (absl::string_view prefix :
         {"cri-containerd-", "crio-", "docker-", "libpod-", "containerd-"}) {
      if (absl::ConsumePrefix(&c, prefix)) break;
    }
  }
  if (!IsHexId(c)) return false;
  *out = std::string(c);
  return true;
}

bool PodUidFrom(absl::string_view comp, std::string* out) {
  absl::string_view c = comp;
  if (absl::ConsumeSuffix(&c, ".slice")) {
    // kubepods-burstable-pod<uid>.slice, kubepods-pod<uid>.slice
    auto at = c.rfind("-pod");
    if (at == absl::string_view::npos) return false;
    return ParsePodUid(c.substr(at + 4), out);
  }
  // cgroupfs driver: pod<uid>
  return absl::ConsumePrefix(&c, "pod") && ParsePodUid(c, out);
}

}  // namespace

CgroupIdentity ParseCgroupPath(absl::string_view path) {
  CgroupIdentity id;
  std::vector<absl::string_view> comps =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  bool in_kubepods = false;
  std::vector<absl::string_view> parts;
  for (absl::string_view comp : comps) {
    // containerd's systemd-style name packs slice and id into one
    // component: kubepods-burstable-pod<uid>.slice:cri-containerd:<id>.
    if (absl::StrContains(comp, ':')) {
      for (absl::string_view p : absl::StrSplit(comp, ':')) parts.push_back(p);
    } else {
      parts.push_back(comp);
    }
  }
  for (absl::string_view c : parts) {
    if (absl::StartsWith(c, "kubepods")) in_kubepods = true;
    std::string v;
    if (PodUidFrom(c, &v) && (in_kubepods || absl::EndsWith(c, ".slice"))) {
      id.pod_uid = v;
    } else if (ContainerIdFrom(c, &v)) {
      id.container_id = v;
    } else if (absl::EndsWith(c, ".service")) {
      id.systemd_unit = std::string(c);
    }
  }
  // A container's identity is the container, not the unit of the runtime
  // that started it (docker.service/<id> in some cgroupfs layouts).
  if (!id.container_id.empty() || !id.pod_uid.empty()) id.systemd_unit.clear();
  return id;
}

}  // namespace redline
