// The Reaper with values whose destruction blocks until a test lets it go,
// standing in for uprobe links whose release waits for RCU grace periods.
#include "agent/probes/reaper.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace redline {
namespace {

// Destroyed slowly: its destructor waits for the gate.
struct Slow {
  std::shared_future<void> gate;
  std::atomic<int>* gone = nullptr;
  Slow() = default;
  Slow(std::shared_future<void> g, std::atomic<int>* n) : gate(g), gone(n) {}
  Slow(Slow&& o) noexcept : gate(std::move(o.gate)), gone(o.gone) {
    o.gone = nullptr;
  }
  Slow& operator=(Slow&&) = delete;
  ~Slow() {
    if (gone == nullptr) return;
    gate.wait();
    ++*gone;
  }
};

TEST(Reaper, RetireReturnsAtOnceAndTheKeyStaysRetiringUntilGone) {
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::atomic<int> gone{0};
  Reaper<int, Slow> r;
  const auto t0 = std::chrono::steady_clock::now();
  r.Retire(1, Slow(gate, &gone));
  r.Retire(2, Slow(gate, &gone));
  // Neither destruction has happened: Retire did not wait for them.
  EXPECT_EQ(gone.load(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(r.Retiring(1));
  EXPECT_TRUE(r.Retiring(2));
  EXPECT_FALSE(r.Retiring(3));
  open.set_value();
  r.Drain();
  EXPECT_EQ(gone.load(), 2);
  EXPECT_FALSE(r.Retiring(1));
  EXPECT_FALSE(r.Retiring(2));
}

TEST(Reaper, AKeyRetiredTwiceStaysUntilBothAreGone) {
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::atomic<int> gone{0};
  Reaper<std::string, Slow> r;
  r.Retire("a", Slow(gate, &gone));
  r.Retire("a", Slow(gate, &gone));
  EXPECT_TRUE(r.Retiring("a"));
  open.set_value();
  r.Drain();
  EXPECT_EQ(gone.load(), 2);
  EXPECT_FALSE(r.Retiring("a"));
}

TEST(Reaper, DestructionFinishesWhatIsLeft) {
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::atomic<int> gone{0};
  {
    Reaper<int, Slow> r;
    for (int i = 0; i < 5; ++i) r.Retire(i, Slow(gate, &gone));
    open.set_value();
  }
  EXPECT_EQ(gone.load(), 5);
}

}  // namespace
}  // namespace redline
