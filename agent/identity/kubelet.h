// Kubernetes names from the node-local kubelet's /pods endpoint: one cached
// read refreshed at a bounded rate by a background thread, never a request
// per scrape, and never the API server.
#ifndef REDLINE_AGENT_IDENTITY_KUBELET_H_
#define REDLINE_AGENT_IDENTITY_KUBELET_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/identity/identity.h"

namespace redline {

struct PodMeta {
  std::string namespace_name;
  std::string name;
  std::string workload;  // controlling owner; a Deployment for ReplicaSets
  std::map<std::string, std::string> containers;  // container id -> name
};

// Parses a kubelet /pods (v1 PodList) body: pod uid -> metadata. Pure.
absl::StatusOr<std::map<std::string, PodMeta>> ParsePodList(
    absl::string_view json);

struct KubeletOptions {
  std::string url;         // e.g. https://10.0.0.5:10250 or http://127.0.0.1:8
  std::string token_file;  // bearer token (service account), optional
  std::string ca_file;     // CA for https, optional
  bool insecure_skip_verify = false;
  std::chrono::seconds refresh{60};       // periodic refresh
  std::chrono::seconds min_interval{5};   // at most one fetch per interval
};

class PodCache {
 public:
  explicit PodCache(KubeletOptions opts);
  ~PodCache();

  // Starts the background reader. Separate from the constructor so the
  // agent can drop its capabilities first: they are per thread, and a
  // thread started earlier would keep them.
  void Start();

  // Names for pod_uid (and container_id if known). On a miss, asks the
  // background thread for a refresh (rate-limited) and returns false.
  bool Lookup(const std::string& pod_uid, const std::string& container_id,
              PodNames* out);

  uint64_t fetches() const;
  uint64_t errors() const;

 private:
  void Loop();
  absl::StatusOr<std::string> Fetch();

  const KubeletOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, PodMeta> pods_;
  bool want_refresh_ = true;
  bool stop_ = false;
  uint64_t fetches_ = 0;
  uint64_t errors_ = 0;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace redline

#endif  // REDLINE_AGENT_IDENTITY_KUBELET_H_
