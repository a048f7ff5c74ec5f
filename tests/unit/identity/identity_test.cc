#include "agent/identity/identity.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

constexpr char kId[] =
    "4f1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef";
constexpr char kUid[] = "6b1f0e9a-3c2d-4b5a-8e7f-0a1b2c3d4e5f";

struct Case {
  std::string path;
  CgroupIdentity want;
};

TEST(ParseCgroupPath, RealWorldLayouts) {
  const std::string id = kId;
  const std::string uid_ = "6b1f0e9a_3c2d_4b5a_8e7f_0a1b2c3d4e5f";
  const std::vector<Case> cases = {
      // containerd, systemd cgroup driver (kubeadm default since 1.22)
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
           uid_ + ".slice/cri-containerd-" + id + ".scope",
       {id, kUid, ""}},
      // Guaranteed QoS: no qos slice
      {"/kubepods.slice/kubepods-pod" + uid_ + ".slice/cri-containerd-" + id +
           ".scope",
       {id, kUid, ""}},
      // containerd, cgroupfs driver (k3s default)
      {"/kubepods/besteffort/pod" + std::string(kUid) + "/" + id,
       {id, kUid, ""}},
      {"/kubepods/pod" + std::string(kUid) + "/" + id, {id, kUid, ""}},
      // the pod's sandbox-less slice itself: pod but no container
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
           uid_ + ".slice",
       {"", kUid, ""}},
      // containerd under its own unit, systemd-style name in one component
      {"/system.slice/containerd.service/kubepods-burstable-pod" + uid_ +
           ".slice:cri-containerd:" + id,
       {id, kUid, ""}},
      // CRI-O, and its conmon monitor scope (not the container)
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
           uid_ + ".slice/crio-" + id + ".scope",
       {id, kUid, ""}},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
           uid_ + ".slice/crio-conmon-" + id + ".scope",
       {"", kUid, ""}},
      // Docker: systemd and cgroupfs drivers
      {"/system.slice/docker-" + id + ".scope", {id, "", ""}},
      {"/docker/" + id, {id, "", ""}},
      // Podman (rootful, and rootless under the user's manager)
      {"/machine.slice/libpod-" + id + ".scope", {id, "", ""}},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" +
           id + ".scope/container",
       {id, "", ""}},
      // systemd services, nested slices, user services, escaped names
      {"/system.slice/nginx.service", {"", "", "nginx.service"}},
      {"system.slice/nginx.service", {"", "", "nginx.service"}},
      {"/system.slice/system-getty.slice/getty@tty1.service",
       {"", "", "getty@tty1.service"}},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/"
       "foo\\x2dbar.service",
       {"", "", "foo\\x2dbar.service"}},
      {"/system.slice/my app.service", {"", "", "my app.service"}},
      // nothing to say
      {"/", {"", "", ""}},
      {"", {"", "", ""}},
      {"/user.slice/user-1000.slice/session-3.scope", {"", "", ""}},
      // look-alikes that must not match
      {"/docker/" + id.substr(0, 63), {"", "", ""}},
      {"/docker/" + std::string(64, 'G'), {"", "", ""}},
      {"/system.slice/podcast.slice", {"", "", ""}},
      {"/kubepods/burstable/podnotauid/" + id, {id, "", ""}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseCgroupPath(c.path), c.want) << c.path;
  }
}

}  // namespace
}  // namespace redline
