#include "kube/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace arca::kube {
namespace {

using ::testing::HasSubstr;

TEST(ValidationTest, QualifiedNames) {
  for (const char* ok : {"a", "app", "A.b-c_d", "app.kubernetes.io/name", "x/y", "a1", "1a"}) {
    EXPECT_TRUE(ValidateQualifiedName(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "-a", "a-", "_a", "a b", "/a", "a/", "A.io/x", "a..b/x", "a/b/c", "a$b", ".a"}) {
    Status s = ValidateQualifiedName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ValidateQualifiedName(std::string(63, 'a')).ok());
  EXPECT_THAT(ValidateQualifiedName(std::string(64, 'a')).message(), HasSubstr("longer than 63"));
  const std::string long_prefix = std::string(250, 'a') + ".com/x";
  EXPECT_THAT(ValidateQualifiedName(long_prefix).message(), HasSubstr("253"));
}

TEST(ValidationTest, LabelValues) {
  for (const char* ok : {"", "v", "v1.2-3_x", "1"}) {
    EXPECT_TRUE(ValidateLabelValue(ok).ok()) << ok;
  }
  for (const char* bad : {"-v", "v-", "a/b", "a b", "é"}) {
    EXPECT_EQ(ValidateLabelValue(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateLabelValue(std::string(64, 'v')).code(), StatusCode::kInvalidArgument);
}

TEST(ValidationTest, Subdomains) {
  for (const char* ok : {"a", "example.com", "a-b.c-d", "0.1"}) {
    EXPECT_TRUE(ValidateDns1123Subdomain(ok).ok()) << ok;
  }
  for (const char* bad : {"", "A", "a_b", "a.", ".a", "a..b", "-a", "a-.b"}) {
    EXPECT_EQ(ValidateDns1123Subdomain(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace arca::kube
