#include "agent/identity/kubelet.h"

#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/base/logging.h"

namespace redline {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The controlling owner's name; a ReplicaSet made by a Deployment is named
// <deployment>-<pod-template-hash>, so the Deployment's name is recovered
// without asking the API server.
std::string Workload(const json& meta) {
  auto owners = meta.find("ownerReferences");
  if (owners == meta.end() || !owners->is_array()) return "";
  for (const json& o : *owners) {
    auto ctl = o.find("controller");
    if (ctl != o.end() && !(ctl->is_boolean() && ctl->get<bool>())) continue;
    std::string name = Str(o, "name");
    if (Str(o, "kind") == "ReplicaSet") {
      std::string hash;
      if (auto l = meta.find("labels"); l != meta.end() && l->is_object()) {
        hash = Str(*l, "pod-template-hash");
      }
      absl::string_view n = name;
      if (!hash.empty() && absl::ConsumeSuffix(&n, absl::StrCat("-", hash))) {
        return std::string(n);
      }
    }
    return name;
  }
  return "";
}

void AddContainers(const json& status, const char* key, PodMeta* pod) {
  auto list = status.find(key);
  if (list == status.end() || !list->is_array()) return;
  for (const json& c : *list) {
    // "containerd://<id>", "cri-o://<id>", "docker://<id>"
    std::string id = Str(c, "containerID");
    auto sep = id.find("://");
    if (sep == std::string::npos) continue;
    pod->containers[id.substr(sep + 3)] = Str(c, "name");
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

absl::StatusOr<std::map<std::string, PodMeta>> ParsePodList(
    absl::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("kubelet /pods: not a JSON object");
  }
  auto items = doc.find("items");
  if (items == doc.end() || !items->is_array()) {
    return absl::InvalidArgumentError("kubelet /pods: no items array");
  }
  std::map<std::string, PodMeta> out;
  for (const json& item : *items) {
    auto meta = item.find("metadata");
    if (meta == item.end() || !meta->is_object()) continue;
    std::string uid = Str(*meta, "uid");
    if (uid.empty()) continue;
    PodMeta& pod = out[uid];
    pod.namespace_name = Str(*meta, "namespace");
    pod.name = Str(*meta, "name");
    pod.workload = Workload(*meta);
    if (auto st = item.find("status"); st != item.end() && st->is_object()) {
      AddContainers(*st, "containerStatuses", &pod);
      AddContainers(*st, "initContainerStatuses", &pod);
      AddContainers(*st, "ephemeralContainerStatuses", &pod);
    }
  }
  return out;
}

PodCache::PodCache(KubeletOptions opts) : opts_(std::move(opts)) {}

void PodCache::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

PodCache::~PodCache() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PodCache::Lookup(const std::string& pod_uid,
                      const std::string& container_id, PodNames* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) {
    want_refresh_ = true;
    cv_.notify_all();
    return false;
  }
  out->namespace_name = it->second.namespace_name;
  out->pod = it->second.name;
  out->workload = it->second.workload;
  out->container.clear();
  if (!container_id.empty()) {
    auto c = it->second.containers.find(container_id);
    if (c != it->second.containers.end()) {
      out->container = c->second;
    } else {
      want_refresh_ = true;  // a container started since the last read
      cv_.notify_all();
    }
  }
  return true;
}

uint64_t PodCache::fetches() const {
  std::lock_guard<std::mutex> l(mu_);
  return fetches_;
}

uint64_t PodCache::errors() const {
  std::lock_guard<std::mutex> l(mu_);
  return errors_;
}

absl::StatusOr<std::string> PodCache::Fetch() {
  httplib::Client cli(opts_.url);
  cli.set_connection_timeout(std::chrono::seconds(3));
  cli.set_read_timeout(std::chrono::seconds(10));
  if (absl::StartsWith(opts_.url, "https://")) {
    if (!opts_.ca_file.empty()) cli.set_ca_cert_path(opts_.ca_file.c_str());
    cli.enable_server_certificate_verification(!opts_.insecure_skip_verify);
  }
  if (!opts_.token_file.empty()) {
    cli.set_bearer_token_auth(ReadFile(opts_.token_file));
  }
  auto res = cli.Get("/pods");
  if (!res) {
    return absl::UnavailableError(absl::StrCat(
        "kubelet ", opts_.url, "/pods: ", httplib::to_string(res.error())));
  }
  if (res->status != 200) {
    return absl::UnavailableError(absl::StrCat("kubelet ", opts_.url,
                                               "/pods: HTTP ", res->status));
  }
  return std::move(res->body);
}

void PodCache::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  auto last = std::chrono::steady_clock::time_point{};
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    const auto due = last + (want_refresh_ ? opts_.min_interval : opts_.refresh);
    if (last != std::chrono::steady_clock::time_point{} && now < due) {
      cv_.wait_until(l, due);
      continue;
    }
    want_refresh_ = false;
    last = now;
    l.unlock();
    auto body = Fetch();
    absl::StatusOr<std::map<std::string, PodMeta>> pods =
        body.ok() ? ParsePodList(*body) : body.status();
    l.lock();
    ++fetches_;
    if (!pods.ok()) {
      ++errors_;
      std::string msg(pods.status().message());
      if (msg != last_error_) Log(LogLevel::kWarn, msg);
      last_error_ = msg;
      continue;
    }
    if (!last_error_.empty()) Log(LogLevel::kInfo, "kubelet /pods: ok again");
    last_error_.clear();
    pods_ = std::move(*pods);
  }
}

}  // namespace redline
