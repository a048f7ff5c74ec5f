#include "exporters/cardinality_governor.h"

#include <algorithm>
#include <utility>

#include "exporters/native_buckets.h"

namespace redline::prom {
std::string LabelSetKey(const std::vector<Label>& labels) {
  std::string k;
  for (const Label& l : labels) {
    k += l.name;
    k += '\0';
    k += l.value;
    k += '\0';
  }
  return k;
}

void ClientMetricTraits::Add(ClientMetric* a, const ClientMetric& b) const {
  if (type != MetricType::kHistogram) {
    a->counter.value += b.counter.value;
    return;
  }
  auto& ah = a->histogram;
  const auto& bh = b.histogram;
  if (ah.bucket.empty()) {
    ah.bucket = bh.bucket;
    for (auto& x : ah.bucket) x.cumulative_count = 0;
  }
  ah.sample_count += bh.sample_count;
  ah.sample_sum += bh.sample_sum;
  for (size_t i = 0; i < ah.bucket.size() && i < bh.bucket.size(); ++i) {
    ah.bucket[i].cumulative_count += bh.bucket[i].cumulative_count;
  }
  // The native buckets too: [other] must stay one consistent histogram
  // (count = zero bucket + native buckets) for a protobuf scrape.
  AddNative(&ah, bh);
}

// a -= b, clamped at zero (b is an earlier value of the same series).
void ClientMetricTraits::Sub(ClientMetric* a, const ClientMetric& b) const {
  if (type != MetricType::kHistogram) {
    a->counter.value = std::max(0.0, a->counter.value - b.counter.value);
    return;
  }
  auto& ah = a->histogram;
  const auto& bh = b.histogram;
  ah.sample_count -= std::min(ah.sample_count, bh.sample_count);
  ah.sample_sum = std::max(0.0, ah.sample_sum - bh.sample_sum);
  for (size_t i = 0; i < ah.bucket.size() && i < bh.bucket.size(); ++i) {
    ah.bucket[i].cumulative_count -=
        std::min(ah.bucket[i].cumulative_count, bh.bucket[i].cumulative_count);
  }
  SubNative(&ah, bh);
}

bool ClientMetricTraits::IsZero(const ClientMetric& m) const {
  return type == MetricType::kHistogram ? m.histogram.sample_count == 0
                                        : m.counter.value == 0;
}

double ClientMetricTraits::Weight(const ClientMetric& m) const {
  return type == MetricType::kHistogram
             ? static_cast<double>(m.histogram.sample_count)
             : m.counter.value;
}

void CardinalityGovernor::Apply(MetricFamily* fam) {
  if (fam->type != MetricType::kCounter &&
      fam->type != MetricType::kHistogram) {
    return;
  }
  auto& gov = governors_[fam->name];
  if (!gov) gov = std::make_unique<Governor>(budget_, ClientMetricTraits{fam->type});
  std::vector<std::pair<std::string, ClientMetric>> entries;
  entries.reserve(fam->metric.size());
  std::vector<Label>& other_labels = other_labels_[fam->name];
  for (ClientMetric& m : fam->metric) {
    if (other_labels.empty()) other_labels = m.label;
    entries.emplace_back(LabelSetKey(m.label), std::move(m));
  }
  auto res = gov->Apply(std::move(entries));
  fam->metric.clear();
  for (auto& [k, m] : res.kept) fam->metric.push_back(std::move(m));
  if (res.other) {
    res.other->label = other_labels;
    for (Label& l : res.other->label) l.value = kOtherLabelValue;
    fam->metric.push_back(std::move(*res.other));
  }
  CountFolded(fam->name, res.newly_folded);
}

void CardinalityGovernor::CountFolded(const std::string& family, uint64_t n) {
  folded_total_[family] += n;
}

MetricFamily CardinalityGovernor::FoldedFamily() const {
  MetricFamily f{"redline_series_folded_total",
                 "Label sets folded into the [other] series of their family "
                 "because it exceeded --max-series-per-family or "
                 "--max-series.",
                 MetricType::kCounter, {}};
  for (const auto& [name, n] : folded_total_) {
    ClientMetric m;
    m.label = {{"family", name}};
    m.counter.value = static_cast<double>(n);
    f.metric.push_back(std::move(m));
  }
  return f;
}

}  // namespace redline::prom
