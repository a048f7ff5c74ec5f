// A registry of metric families, shaped like prometheus-cpp's: build a
// family, Add() a child per label set, update it; Collect() at scrape time.
#ifndef REDLINE_EXPORTERS_REGISTRY_H_
#define REDLINE_EXPORTERS_REGISTRY_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporters/metric_family.h"

namespace redline::prom {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Increment(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }
  ClientMetric Collect() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Increment(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }
  ClientMetric Collect() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  ClientMetric Collect() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, last is +Inf
  double sum_ = 0.0;
};

template <typename T>
class Family : public Collectable {
 public:
  Family(std::string name, std::string help, MetricType type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}

  // Returns the child for `labels`, creating it on first use. References stay
  // valid for the life of the family.
  template <typename... Args>
  T& Add(const Labels& labels, Args&&... args) {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = children_[labels];
    if (!slot) slot = std::make_unique<T>(std::forward<Args>(args)...);
    return *slot;
  }

  std::vector<MetricFamily> Collect() const override {
    MetricFamily f{name_, help_, type_, {}};
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [labels, child] : children_) {
      ClientMetric m = child->Collect();
      for (const auto& [k, v] : labels) m.label.push_back({k, v});
      f.metric.push_back(std::move(m));
    }
    return {std::move(f)};
  }

 private:
  const std::string name_, help_;
  const MetricType type_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<T>> children_;
};

// Owns families and forwards scrapes to registered collectables in order.
class Registry : public Collectable {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help);
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help);
  Family<Histogram>& AddHistogram(const std::string& name,
                                  const std::string& help);
  // A collectable read at scrape time; must outlive the registry's use.
  void Register(std::weak_ptr<Collectable> c);

  std::vector<MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Collectable>> owned_;
  std::vector<std::weak_ptr<Collectable>> collectables_;
};

}  // namespace redline::prom

#endif  // REDLINE_EXPORTERS_REGISTRY_H_
