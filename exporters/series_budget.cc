#include "exporters/series_budget.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace redline::prom {
namespace {

// The series a first fold (per family) already made: every value [other].
bool IsOther(const ClientMetric& m) {
  return !m.label.empty() &&
         std::all_of(m.label.begin(), m.label.end(), [](const Label& l) {
           return l.value == kOtherLabelValue;
         });
}

// Shares avail among the families at order[i, j) in proportion to their
// demand, remainders one each to the largest.
void Share(const std::vector<size_t>& demand, const std::vector<size_t>& order,
           size_t i, size_t j, size_t level, size_t avail,
           std::vector<size_t>* out) {
  size_t given = 0;
  for (size_t k = i; k < j; ++k) {
    const size_t f = order[k];
    (*out)[f] = static_cast<size_t>(
        static_cast<unsigned __int128>(avail) * demand[f] / level);
    given += (*out)[f];
  }
  std::vector<size_t> by_size(order.begin() + i, order.begin() + j);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return demand[a] > demand[b]; });
  for (size_t k = 0; given < avail && k < by_size.size(); ++k) {
    if ((*out)[by_size[k]] < demand[by_size[k]]) {
      ++(*out)[by_size[k]];
      ++given;
    }
  }
}

bool IsMetricName(absl::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

int DefaultSeriesPriority(const MetricFamily& f) {
  const std::string& n = f.name;
  if (n == "redline_slo_events_total" || absl::EndsWith(n, "_requests_total") ||
      n == "redline_cpu_seconds_total" || n == "redline_syscalls_total") {
    return 0;
  }
  if (f.type != MetricType::kHistogram ||
      absl::StrContains(n, "_request_duration_")) {
    return 1;
  }
  return 2;
}

absl::StatusOr<std::map<std::string, int>> ParseSeriesPriorities(
    absl::string_view spec) {
  std::map<std::string, int> levels;
  for (absl::string_view pair : absl::StrSplit(spec, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    int level = -1;
    if (!IsMetricName(kv.first) || !absl::SimpleAtoi(kv.second, &level) ||
        level < 0 || level > 9) {
      return absl::InvalidArgumentError(absl::StrCat(
          "want family=level pairs, levels 0 (kept first) to 9, got '", pair,
          "'"));
    }
    levels[std::string(kv.first)] = level;
  }
  return levels;
}

std::function<int(const MetricFamily&)> SeriesPriorityWith(
    std::map<std::string, int> levels) {
  return [levels = std::move(levels)](const MetricFamily& f) {
    auto it = levels.find(f.name);
    return it != levels.end() ? it->second : DefaultSeriesPriority(f);
  };
}

std::vector<size_t> AllocateSeries(const std::vector<int>& priority,
                                   const std::vector<size_t>& demand,
                                   size_t avail) {
  std::vector<size_t> out(demand.size(), 0);
  std::vector<size_t> order(demand.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return priority[a] < priority[b];
  });
  for (size_t i = 0; i < order.size();) {
    size_t j = i, level = 0;
    while (j < order.size() && priority[order[j]] == priority[order[i]]) {
      level += demand[order[j++]];
    }
    if (level > avail) {
      Share(demand, order, i, j, level, avail, &out);
      break;  // later levels keep none
    }
    for (size_t k = i; k < j; ++k) out[order[k]] = demand[order[k]];
    avail -= level;
    i = j;
  }
  return out;
}

void SeriesBudget::Apply(std::vector<MetricFamily>* fams, size_t reserved,
                         std::map<std::string, uint64_t>* folded) {
  size_t fixed = reserved;
  std::vector<MetricFamily*> governed;
  std::vector<int> priority;
  std::vector<size_t> demand;
  for (MetricFamily& f : *fams) {
    if (f.metric.empty()) continue;
    if (f.type != MetricType::kCounter && f.type != MetricType::kHistogram) {
      fixed += f.metric.size();
      continue;
    }
    governed.push_back(&f);
    priority.push_back(priority_(f));
    demand.push_back(static_cast<size_t>(
        std::count_if(f.metric.begin(), f.metric.end(),
                      [](const ClientMetric& m) { return !IsOther(m); })));
  }
  // One place per family for its [other].
  const size_t places = fixed + governed.size();
  const std::vector<size_t> keep =
      AllocateSeries(priority, demand, total_ > places ? total_ - places : 0);
  for (size_t i = 0; i < governed.size(); ++i) {
    MetricFamily& f = *governed[i];
    const ClientMetricTraits traits{f.type};
    std::unique_ptr<Governor>& gov = governors_[f.name];
    if (!gov) gov = std::make_unique<Governor>(keep[i], traits);
    gov->set_budget(keep[i]);
    std::optional<ClientMetric> before;  // the per-family fold's [other]
    std::vector<Label>& labels = other_labels_[f.name];
    std::vector<std::pair<std::string, ClientMetric>> entries;
    entries.reserve(f.metric.size());
    for (ClientMetric& m : f.metric) {
      if (IsOther(m)) {
        before = std::move(m);
        continue;
      }
      if (labels.empty()) {
        labels = m.label;
        for (Label& l : labels) l.value = kOtherLabelValue;
      }
      entries.emplace_back(LabelSetKey(m.label), std::move(m));
    }
    auto res = gov->Apply(std::move(entries));
    f.metric.clear();
    for (auto& [k, m] : res.kept) f.metric.push_back(std::move(m));
    if (res.other && before) traits.Add(&*res.other, *before);
    if (!res.other && before) res.other = std::move(before);
    if (res.other) {
      if (!IsOther(*res.other)) res.other->label = labels;
      f.metric.push_back(std::move(*res.other));
    }
    if (res.newly_folded != 0) (*folded)[f.name] += res.newly_folded;
  }
}

}  // namespace redline::prom
