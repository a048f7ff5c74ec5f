#include "agent/h2/grpc_operations.h"

#include <string>

#include "gtest/gtest.h"

namespace redline::h2 {
namespace {

TEST(ParseGrpcPath, SplitsServiceAndMethod) {
  auto p = ParseGrpcPath("/helloworld.Greeter/SayHello");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->service, "helloworld.Greeter");
  EXPECT_EQ(p->method, "SayHello");
}

TEST(ParseGrpcPath, RejectsWhatIsNotServiceSlashMethod) {
  for (const char* bad :
       {"", "/", "//", "/a", "/a/", "//m", "a/b", "/a/b/c", "/index.html"}) {
    EXPECT_FALSE(ParseGrpcPath(bad).has_value()) << bad;
  }
}

TEST(ParseGrpcPath, OnlyIdentifiersAndDotsAreNames) {
  EXPECT_TRUE(ParseGrpcPath("/pkg.v1_2.Svc/Do_It9").has_value());
  for (const char* p : {"/a b.S/M", "/a.S/M?x=1", "/a.S/M%20", "/a.S/M\n",
                        "/a.S/\xff", "/a-b.S/M"}) {
    EXPECT_FALSE(ParseGrpcPath(p).has_value()) << p;
  }
}

TEST(ParseGrpcPath, CutsLongNames) {
  std::string svc(500, 's');
  auto p = ParseGrpcPath("/" + svc + "/" + std::string(300, 'm'));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->service.size(), kMaxGrpcNamePart);
  EXPECT_EQ(p->method.size(), kMaxGrpcNamePart);
}

TEST(GrpcOperations, OperationsThenServicesThenOther) {
  GrpcOperations ops(/*max_operations=*/2, /*max_services=*/1);
  EXPECT_EQ(ops.Label("a.S", "One"), "a.S/One");
  EXPECT_EQ(ops.Label("a.S", "Two"), "a.S/Two");
  // Operation budget spent: the service alone, within its own budget.
  EXPECT_EQ(ops.Label("a.S", "Three"), "a.S");
  EXPECT_EQ(ops.Label("b.T", "One"), "other");
  EXPECT_EQ(ops.Label("a.S", "Four"), "a.S");
  EXPECT_EQ(ops.operations(), 2u);
  EXPECT_EQ(ops.services(), 1u);
  EXPECT_EQ(ops.overflowed(), 1u);
}

TEST(GrpcOperations, LabelsNeverChange) {
  GrpcOperations ops(2, 1);
  EXPECT_EQ(ops.Label("a.S", "One"), "a.S/One");
  EXPECT_EQ(ops.Label("b.T", "X"), "b.T/X");
  EXPECT_EQ(ops.Label("c.U", "Y"), "c.U");
  EXPECT_EQ(ops.Label("d.V", "Z"), "other");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ops.Label("a.S", "One"), "a.S/One");
    EXPECT_EQ(ops.Label("b.T", "X"), "b.T/X");
    EXPECT_EQ(ops.Label("c.U", "Y"), "c.U");
    EXPECT_EQ(ops.Label("c.U", "New"), "c.U");
    EXPECT_EQ(ops.Label("d.V", "Z"), "other");
  }
}

TEST(GrpcOperations, DeterministicForTheSameSequence) {
  GrpcOperations a(3, 2), b(3, 2);
  for (int i = 0; i < 50; ++i) {
    std::string svc = "s" + std::to_string(i % 7);
    std::string m = "m" + std::to_string(i % 5);
    EXPECT_EQ(a.Label(svc, m), b.Label(svc, m));
  }
}

TEST(GrpcOperations, EmptyServiceIsOtherAndLongNamesAreCut) {
  GrpcOperations ops;
  EXPECT_EQ(ops.Label("", "M"), "other");
  std::string label = ops.Label(std::string(400, 's'), std::string(400, 'm'));
  EXPECT_EQ(label.size(), 2 * kMaxGrpcNamePart + 1);
}

TEST(GrpcOperations, DefaultBudgetIsSixtyFourOperations) {
  GrpcOperations ops;
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(ops.Label("s", "m" + std::to_string(i)),
              "s/m" + std::to_string(i));
  }
  EXPECT_EQ(ops.Label("s", "m64"), "s");
}

}  // namespace
}  // namespace redline::h2
