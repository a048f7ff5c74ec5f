#include "exporters/registry.h"

#include <algorithm>
#include <limits>

namespace redline::prom {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Counter::Increment(double v) {
  if (v < 0) return;  // counters never go down
  AtomicAdd(value_, v);
}

ClientMetric Counter::Collect() const {
  ClientMetric m;
  m.counter.value = Value();
  return m;
}

void Gauge::Increment(double v) { AtomicAdd(value_, v); }

ClientMetric Gauge::Collect() const {
  ClientMetric m;
  m.gauge.value = Value();
  return m;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                   bounds_.begin();
  std::lock_guard<std::mutex> l(mu_);
  ++counts_[i];
  sum_ += v;
}

ClientMetric Histogram::Collect() const {
  ClientMetric m;
  std::lock_guard<std::mutex> l(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cum += counts_[i];
    m.histogram.bucket.push_back(
        {cum, i < bounds_.size() ? bounds_[i]
                                 : std::numeric_limits<double>::infinity()});
  }
  m.histogram.sample_count = cum;
  m.histogram.sample_sum = sum_;
  return m;
}

Family<Counter>& Registry::AddCounter(const std::string& name,
                                      const std::string& help) {
  auto f = std::make_shared<Family<Counter>>(name, help, MetricType::kCounter);
  std::lock_guard<std::mutex> l(mu_);
  owned_.push_back(f);
  collectables_.push_back(f);
  return *f;
}

Family<Gauge>& Registry::AddGauge(const std::string& name,
                                  const std::string& help) {
  auto f = std::make_shared<Family<Gauge>>(name, help, MetricType::kGauge);
  std::lock_guard<std::mutex> l(mu_);
  owned_.push_back(f);
  collectables_.push_back(f);
  return *f;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name,
                                          const std::string& help) {
  auto f =
      std::make_shared<Family<Histogram>>(name, help, MetricType::kHistogram);
  std::lock_guard<std::mutex> l(mu_);
  owned_.push_back(f);
  collectables_.push_back(f);
  return *f;
}

void Registry::Register(std::weak_ptr<Collectable> c) {
  std::lock_guard<std::mutex> l(mu_);
  collectables_.push_back(std::move(c));
}

std::vector<MetricFamily> Registry::Collect() const {
  std::vector<std::shared_ptr<Collectable>> live;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& w : collectables_) {
      if (auto c = w.lock()) live.push_back(std::move(c));
    }
  }
  std::vector<MetricFamily> out;
  for (const auto& c : live) {
    auto fams = c->Collect();
    std::move(fams.begin(), fams.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace redline::prom
