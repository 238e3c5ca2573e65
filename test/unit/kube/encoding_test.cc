#include "kube/encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::kube {
namespace {

using std::chrono::system_clock;

TEST(EncodingTest, Base64RoundTripsRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    Result<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(*Base64Decode(Base64Encode(all)), all);
}

TEST(EncodingTest, Base64AcceptsWhitespaceAndNoPadding) {
  EXPECT_EQ(*Base64Decode("Zm9v\nYmE"), "fooba");
  EXPECT_EQ(*Base64Decode("  Zg\r\n"), "f");
}

TEST(EncodingTest, Base64RejectsGarbageWithoutQuotingIt) {
  for (const char* bad : {"Zm9v!", "Z", "Zg=x", "Zg===", "Zm9=v", "Zg="}) {
    Result<std::string> r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().find(bad), std::string::npos);
  }
}

TEST(EncodingTest, ParsesRfc3339) {
  using std::chrono::seconds;
  const auto epoch = system_clock::time_point{};
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), epoch);
  EXPECT_EQ(*ParseRfc3339("2026-11-26T12:00:00Z"), epoch + seconds(1795694400));
  EXPECT_EQ(*ParseRfc3339("2026-11-26T13:30:00+01:30"), epoch + seconds(1795694400));
  EXPECT_EQ(*ParseRfc3339("2026-11-26T10:00:00-02:00"), epoch + seconds(1795694400));
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:01.5Z"), epoch + std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00.123456789123Z"),
            epoch + std::chrono::nanoseconds(123456789));
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T12:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-26T24:00:00Z", "2026-11-26T12:00:00.Z", "2026-11-26T12:00:00+0100",
        "2026-11-26T12:00:00Zx", "x026-11-26T12:00:00Z"}) {
    EXPECT_EQ(ParseRfc3339(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(EncodingTest, FormatsRfc3339) {
  const auto t = system_clock::time_point{} + std::chrono::seconds(1795694400) +
                 std::chrono::milliseconds(999);
  EXPECT_EQ(FormatRfc3339(t), "2026-11-26T12:00:00Z");
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(t)), std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace
}  // namespace arca::kube
