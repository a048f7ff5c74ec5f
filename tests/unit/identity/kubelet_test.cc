#include "agent/identity/kubelet.h"

#include "gtest/gtest.h"

namespace redline {
namespace {

// Shape of a real kubelet /pods answer (v1 PodList), trimmed.
constexpr char kPods[] = R"({
  "kind": "PodList", "apiVersion": "v1", "metadata": {},
  "items": [
    {"metadata": {"name": "web-7d9f8c6b5-x2x8k", "namespace": "shop",
       "uid": "6b1f0e9a-3c2d-4b5a-8e7f-0a1b2c3d4e5f",
       "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"},
       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "name": "web-7d9f8c6b5", "uid": "x", "controller": true}]},
     "spec": {"containers": [{"name": "nginx"}]},
     "status": {"phase": "Running",
       "containerStatuses": [{"name": "nginx", "ready": true,
         "containerID": "containerd://aaaa"}],
       "initContainerStatuses": [{"name": "init",
         "containerID": "containerd://bbbb"}]}},
    {"metadata": {"name": "db-0", "namespace": "shop", "uid": "u2",
       "ownerReferences": [{"kind": "StatefulSet", "name": "db",
         "controller": true}]},
     "status": {"containerStatuses": [{"name": "pg",
         "containerID": "cri-o://cccc"}, {"name": "waiting"}]}},
    {"metadata": {"name": "static-etcd", "namespace": "kube-system",
       "uid": "u3"}, "status": {}},
    {"metadata": {"name": "no-uid"}}
  ]})";

TEST(ParsePodList, NamesContainersAndOwners) {
  auto pods = ParsePodList(kPods);
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 3u);
  const PodMeta& web = pods->at("6b1f0e9a-3c2d-4b5a-8e7f-0a1b2c3d4e5f");
  EXPECT_EQ(web.namespace_name, "shop");
  EXPECT_EQ(web.name, "web-7d9f8c6b5-x2x8k");
  EXPECT_EQ(web.workload, "web");  // Deployment behind the ReplicaSet
  EXPECT_EQ(web.containers.at("aaaa"), "nginx");
  EXPECT_EQ(web.containers.at("bbbb"), "init");
  const PodMeta& db = pods->at("u2");
  EXPECT_EQ(db.workload, "db");
  EXPECT_EQ(db.containers.at("cccc"), "pg");
  EXPECT_EQ(db.containers.size(), 1u);  // not started: no id yet
  EXPECT_EQ(pods->at("u3").workload, "");
}

TEST(ParsePodList, RejectsGarbageWithAClearError) {
  for (const char* bad : {"", "not json", "[]", "{\"items\": 3}", "{\"a\""}) {
    auto pods = ParsePodList(bad);
    EXPECT_FALSE(pods.ok()) << bad;
    EXPECT_NE(pods.status().message().find("kubelet /pods"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace redline
