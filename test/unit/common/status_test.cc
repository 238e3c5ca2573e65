#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace arca {
namespace {

Result<int> ParsePositive(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("'" + text + "' is not a positive number");
  }
  return std::stoi(text);
}

Result<int> Doubled(const std::string& text) {
  ASSIGN_OR_RETURN(int value, ParsePositive(text));
  return value * 2;
}

Status CheckBoth(const std::string& a, const std::string& b) {
  RETURN_IF_ERROR(ParsePositive(a));
  RETURN_IF_ERROR(ParsePositive(b).status().WithContext("second"));
  return OkStatus();
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = NotFoundError("backup b1 is not in bucket x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: backup b1 is not in bucket x");
}

TEST(StatusTest, OkCodeDropsMessage) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, WithContextPrefixesErrorsOnly) {
  EXPECT_EQ(UnavailableError("connection reset").WithContext("GET /api").ToString(),
            "UNAVAILABLE: GET /api: connection reset");
  EXPECT_TRUE(OkStatus().WithContext("anything").ok());
}

TEST(StatusTest, EveryConstructorMapsToItsCode) {
  EXPECT_EQ(CancelledError("").code(), StatusCode::kCancelled);
  EXPECT_EQ(UnknownError("").code(), StatusCode::kUnknown);
  EXPECT_EQ(DeadlineExceededError("").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(AlreadyExistsError("").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(PermissionDeniedError("").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ResourceExhaustedError("").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(FailedPreconditionError("").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AbortedError("").code(), StatusCode::kAborted);
  EXPECT_EQ(OutOfRangeError("").code(), StatusCode::kOutOfRange);
  EXPECT_EQ(UnimplementedError("").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(InternalError("").code(), StatusCode::kInternal);
  EXPECT_EQ(DataLossError("").code(), StatusCode::kDataLoss);
  EXPECT_EQ(UnauthenticatedError("").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = ParsePositive("21");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 21);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsError) {
  Result<int> r = ParsePositive("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "'x' is not a positive number");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternalError) {
  Result<int> r = OkStatus();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(MacrosTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Doubled("4"), 8);
  EXPECT_EQ(Doubled("-4").status().code(), StatusCode::kInvalidArgument);
}

TEST(MacrosTest, ReturnIfErrorPropagates) {
  EXPECT_TRUE(CheckBoth("1", "2").ok());
  EXPECT_EQ(CheckBoth("a", "2").message(), "'a' is not a positive number");
  EXPECT_EQ(CheckBoth("1", "b").message(), "second: 'b' is not a positive number");
}

}  // namespace
}  // namespace arca
