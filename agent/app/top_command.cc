// `redline top`: rates over each interval, from programs it loads itself or
// from a running agent's /api/v1/snapshot (--connect). This file holds the
// sources and the batch mode (-b: top -b style text, or --json).
#include "agent/app/top_command.h"

#include <httplib.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/base/logging.h"
#include "agent/identity/host_identity.h"
#include "agent/metrics/snapshot_json.h"
#include "agent/probes/probe_set.h"
#include "agent/probes/store.h"
#include "agent/top/top_model.h"
#include "agent/top/top_tui.h"
#include "agent/top/top_why.h"

namespace redline {
namespace {

// Loads the programs in this process, like `redline run` without serving.
class LocalSource : public SnapshotSource {
 public:
  static absl::StatusOr<std::unique_ptr<LocalSource>> Open(
      const ProbeSetOptions& opts) {
    auto set = LoadProbes(opts, nullptr);
    if (!set.ok()) return set.status();
    return std::unique_ptr<LocalSource>(new LocalSource(std::move(*set)));
  }
  ~LocalSource() override { set_->Detach(); }
  absl::StatusOr<Snapshot> Next() override {
    store_.Refresh();
    return *store_.Latest();
  }

 private:
  explicit LocalSource(std::unique_ptr<ProbeSet> set)
      : set_(std::move(set)), store_(set_->view) {}
  std::unique_ptr<ProbeSet> set_;
  Store store_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
        HexDigit(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// --connect=https://user:pass@host:port (an agent with basic_auth_users):
// the URL without the user info, which is percent-decoded as curl does
// and kept out of every message.
struct AgentUrl {
  std::string url;
  std::string user, password;
  bool has_auth = false;
};

AgentUrl SplitUserInfo(const std::string& url) {
  AgentUrl a{url};
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.rfind('@', end - 1);
  if (at == std::string::npos || at < start || end == start) return a;
  const std::string info = url.substr(start, at - start);
  a.url = url.substr(0, start) + url.substr(at + 1);
  const size_t colon = info.find(':');
  a.user = PercentDecode(info.substr(0, colon));
  if (colon != std::string::npos) {
    a.password = PercentDecode(info.substr(colon + 1));
  }
  a.has_auth = true;
  return a;
}

// A running agent: GET <url>/api/v1/snapshot.
class RemoteSource : public SnapshotSource {
 public:
  explicit RemoteSource(const std::string& connect)
      : RemoteSource(SplitUserInfo(connect)) {}
  explicit RemoteSource(AgentUrl u) : url_(u.url), client_(url_) {
    client_.set_connection_timeout(3);
    client_.set_read_timeout(10);
    if (u.has_auth) client_.set_basic_auth(u.user, u.password);
  }
  absl::StatusOr<Snapshot> Next() override {
    auto res = client_.Get(kSnapshotPath);
    if (!res) {
      return absl::UnavailableError(
          absl::StrCat("--connect ", url_, ": cannot reach the agent (",
                       res.error() == httplib::Error::Connection
                           ? "connection failed"
                           : httplib::to_string(res.error()),
                       ")"));
    }
    if (res->status == 401) {
      return absl::UnavailableError(absl::StrCat(
          "--connect ", url_, kSnapshotPath,
          ": HTTP 401, the agent wants credentials (or these are wrong): "
          "--connect=https://USER:PASSWORD@HOST:PORT"));
    }
    if (res->status != 200) {
      return absl::UnavailableError(
          absl::StrCat("--connect ", url_, kSnapshotPath, ": HTTP ",
                       res->status, " (is it a redline agent?)"));
    }
    auto snap = SnapshotFromJson(res->body);
    if (!snap.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connect ", url_, ": ", snap.status().message()));
    }
    return snap;
  }

 private:
  std::string url_;
  httplib::Client client_;
};

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Sleeps up to `s` seconds; false if SIGINT/SIGTERM arrived.
bool Wait(double s) {
  timespec ts{static_cast<time_t>(s),
              static_cast<long>(
                  (s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && !g_stop) {
  }
  return !g_stop;
}

int Fail(absl::string_view msg) {
  std::fprintf(stderr, "redline top: %.*s\n", static_cast<int>(msg.size()),
               msg.data());
  return 2;
}

}  // namespace

int Top(const Options& opts, const ProbeSetOptions& probe_opts) {
  TopColumn sort = TopColumn::kCpu;
  bool found = false;
  for (int c = 0; c < kTopColumns; ++c) {
    if (absl::EqualsIgnoreCase(opts.top_sort,
                               TopColumnTitle(static_cast<TopColumn>(c)))) {
      sort = static_cast<TopColumn>(c);
      found = true;
    }
  }
  if (!found) {
    std::string cols;
    for (int c = 0; c < kTopColumns; ++c) {
      absl::StrAppend(&cols, c ? ", " : "",
                      TopColumnTitle(static_cast<TopColumn>(c)));
    }
    return Fail(absl::StrCat("--sort: unknown column '", opts.top_sort,
                             "' (want one of ", cols, ")"));
  }
  TopGrouping group = TopGrouping::kProcess;
  for (TopGrouping g : {TopGrouping::kProcess, TopGrouping::kContainer,
                        TopGrouping::kPod, TopGrouping::kUnit}) {
    if (opts.top_group == TopGroupingName(g)) group = g;
  }
  std::unique_ptr<SnapshotSource> source;
  if (!opts.connect.empty()) {
    source = std::make_unique<RemoteSource>(opts.connect);
  } else {
    auto local = LocalSource::Open(probe_opts);
    if (!local.ok()) {
      return Fail(absl::StrCat(local.status().message(),
                               " (standalone top loads BPF programs: run it "
                               "as root, or --connect to a running agent)"));
    }
    source = std::move(*local);
  }
  if (!opts.top_why.empty() && !opts.batch && !opts.json) {
    return Fail("--why is a batch view: add -b or --json");
  }
  if (!opts.batch && !opts.json) {
    // A wrong --connect URL is one line and exit 2 before the screen takes
    // the terminal, as in batch mode; later failures are shown on screen.
    if (!opts.connect.empty()) {
      if (auto first = source->Next(); !first.ok()) {
        return Fail(first.status().message());
      }
    }
    return RunTopScreen(source.get(), {opts.delay_s, opts.top_filter}, sort,
                        group);
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  auto prev = source->Next();
  if (!prev.ok()) return Fail(prev.status().message());
  for (uint32_t i = 0; opts.iterations == 0 || i < opts.iterations; ++i) {
    if (!Wait(opts.delay_s)) break;
    auto cur = source->Next();
    if (!cur.ok()) return Fail(cur.status().message());
    if (!opts.top_why.empty()) {
      const WhyView w = BuildWhyView(*prev, *cur, group, opts.top_why);
      const std::string out =
          opts.json ? FormatWhyJson(w) : FormatWhyText(w, 60) + "\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
      prev = std::move(cur);
      continue;
    }
    TopView v = BuildTopView(*prev, *cur, group);
    if (!opts.top_filter.empty()) {
      std::erase_if(v.rows, [&](const TopRow& r) {
        return !absl::StrContains(r.name, opts.top_filter);
      });
    }
    SortTopRows(&v.rows, sort);
    const std::string out = opts.json ? FormatTopJson(v, group)
                                      : FormatTopText(v, group, 120) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    prev = std::move(cur);
  }
  return 0;
}

}  // namespace redline
