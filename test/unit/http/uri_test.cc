#include "http/uri.h"

#include <gtest/gtest.h>

#include "http/curl_transport.h"

namespace arca::http {
namespace {

TEST(UriTest, EncodesLikeSigV4) {
  EXPECT_EQ(UriEncode("a b+c~d_e-f.g", false), "a%20b%2Bc~d_e-f.g");
  EXPECT_EQ(UriEncode("dir/sub/key", false), "dir/sub/key");
  EXPECT_EQ(UriEncode("dir/sub/key", true), "dir%2Fsub%2Fkey");
  EXPECT_EQ(UriEncode("ሴ", false), "%E1%88%B4");
  EXPECT_EQ(UriEncode("100%", false), "100%25");
  EXPECT_EQ(UriEncode("a=b&c", true), "a%3Db%26c");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(UriTest, DecodeIsTheInverse) {
  EXPECT_EQ(*UriDecode("a%20b%2Bc~d", false), "a b+c~d");
  EXPECT_EQ(*UriDecode("a+b", true), "a b");
  EXPECT_EQ(*UriDecode("a+b", false), "a+b");
  EXPECT_EQ(*UriDecode("%e1%88%b4", false), "ሴ");
  EXPECT_EQ(UriDecode("bad%2", false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UriDecode("bad%zz", false).status().code(), StatusCode::kInvalidArgument);
  const std::string odd = "key with/ሴ+~%";
  EXPECT_EQ(*UriDecode(UriEncode(odd, true), false), odd);
}

TEST(UriTest, RedactUrlDropsQueryAndUserInfo) {
  EXPECT_EQ(RedactUrl("https://h:9000/b/k?X-Amz-Signature=abc"), "https://h:9000/b/k");
  EXPECT_EQ(RedactUrl("http://user:pw@h/p"), "http://h/p");
  EXPECT_EQ(RedactUrl("http://h"), "http://h");
}

}  // namespace
}  // namespace arca::http
