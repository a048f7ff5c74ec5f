#include "agent/model/fill_watch.h"

#include <gtest/gtest.h>

namespace redline {
namespace {

TEST(FillWatchTest, NeverPressedBeforeTheFirstRead) {
  FillWatch w;
  EXPECT_FALSE(w.Pressed(1'000'000));
}

TEST(FillWatchTest, PressedAtHalfTheRoomTheLastReadLeft) {
  FillWatch w;
  w.ReadStarted(500);
  w.ReadDone(/*kept=*/24'000, /*capacity=*/65'536);  // room 41,536
  EXPECT_FALSE(w.Pressed(500));
  EXPECT_FALSE(w.Pressed(500 + 20'767));
  EXPECT_TRUE(w.Pressed(500 + 20'768));
}

TEST(FillWatchTest, InsertsDuringTheReadCountAsAfterIt) {
  FillWatch w;
  w.ReadStarted(100);
  // The read freed all but 10 entries of 100; 40 came in while it ran.
  w.ReadDone(10, 100);
  EXPECT_FALSE(w.Pressed(100 + 44));
  EXPECT_TRUE(w.Pressed(100 + 45));
}

TEST(FillWatchTest, AFullMapIsPressedByAnyInsertOnly) {
  FillWatch w;
  w.ReadStarted(7);
  w.ReadDone(200, 100);  // more kept than capacity: room 0
  EXPECT_FALSE(w.Pressed(7));
  EXPECT_TRUE(w.Pressed(8));
}

}  // namespace
}  // namespace redline
