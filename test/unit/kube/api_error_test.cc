#include "kube/api_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace arca::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

TEST(ApiErrorTest, ParsesAStatusBody) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},
    "status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound",
    "details":{"name":"x","kind":"configmaps"},"code":404})";
  ApiError e = ParseApiError(404, body, std::nullopt);
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.reason, "NotFound");
  EXPECT_EQ(e.message, "configmaps \"x\" not found");
  EXPECT_EQ(e.name, "x");
  EXPECT_EQ(e.kind, "configmaps");
  EXPECT_FALSE(e.retry_after.has_value());
  Status s = ApiErrorToStatus(e, "get configmaps ns1/x", false);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "get configmaps ns1/x: configmaps \"x\" not found (404 NotFound)");
}

TEST(ApiErrorTest, MapsEveryReasonByWhatTheCallerShouldDo) {
  struct Case {
    int code;
    const char* reason;
    bool is_create;
    StatusCode want;
  };
  for (const Case& c : std::vector<Case>{
           {400, "BadRequest", false, StatusCode::kInvalidArgument},
           {401, "Unauthorized", false, StatusCode::kUnauthenticated},
           {403, "Forbidden", false, StatusCode::kPermissionDenied},
           {404, "NotFound", false, StatusCode::kNotFound},
           {405, "MethodNotAllowed", false, StatusCode::kUnimplemented},
           {409, "AlreadyExists", true, StatusCode::kAlreadyExists},
           {409, "AlreadyExists", false, StatusCode::kAlreadyExists},
           {409, "Conflict", false, StatusCode::kAborted},
           {409, "Conflict", true, StatusCode::kAborted},
           {409, "", true, StatusCode::kAlreadyExists},
           {409, "", false, StatusCode::kAborted},
           {410, "Expired", false, StatusCode::kOutOfRange},
           {410, "Gone", false, StatusCode::kOutOfRange},
           {413, "RequestEntityTooLarge", false, StatusCode::kInvalidArgument},
           {415, "UnsupportedMediaType", false, StatusCode::kInvalidArgument},
           {422, "Invalid", false, StatusCode::kInvalidArgument},
           {429, "TooManyRequests", false, StatusCode::kUnavailable},
           {500, "InternalError", false, StatusCode::kUnavailable},
           {501, "NotImplemented", false, StatusCode::kUnimplemented},
           {502, "", false, StatusCode::kUnavailable},
           {503, "ServiceUnavailable", false, StatusCode::kUnavailable},
           {504, "Timeout", false, StatusCode::kUnavailable},
           {418, "", false, StatusCode::kInvalidArgument},
       }) {
    ApiError e = ParseApiError(c.code, StatusBody(c.code, c.reason, "m"), std::nullopt);
    Status s = ApiErrorToStatus(e, "op", c.is_create);
    EXPECT_EQ(s.code(), c.want) << c.code << " " << c.reason << " create=" << c.is_create;
    EXPECT_THAT(s.message(), HasSubstr("(" + std::to_string(c.code))) << s.message();
  }
}

TEST(ApiErrorTest, InvalidKeepsTheCauses) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain",
    "reason":"Invalid","details":{"name":"Bad","kind":"ConfigMap","causes":[
      {"reason":"FieldValueInvalid","message":"Invalid value: \"Bad\": a lowercase RFC 1123 subdomain","field":"metadata.name"},
      {"reason":"FieldValueRequired","message":"Required value","field":"data.x"}]},
    "code":422})";
  ApiError e = ParseApiError(422, body, std::nullopt);
  EXPECT_THAT(e.causes, ElementsAre("metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 "
                                    "subdomain",
                                    "data.x: Required value"));
  Status s = ApiErrorToStatus(e, "create configmaps in ns1", true);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // The first cause is already in the message; only the second is added.
  EXPECT_EQ(s.message(),
            "create configmaps in ns1: ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: "
            "\"Bad\": a lowercase RFC 1123 subdomain; data.x: Required value (422 Invalid)");
}

TEST(ApiErrorTest, RetryAfterFromHeaderOrDetails) {
  ApiError header = ParseApiError(429, StatusBody(429, "TooManyRequests", "slow down"), " 7 ");
  ASSERT_TRUE(header.retry_after.has_value());
  EXPECT_EQ(*header.retry_after, std::chrono::seconds(7));
  Status s = ApiErrorToStatus(header, "list pods", false);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "list pods: slow down (429 TooManyRequests), retry after 7s");

  const std::string body = R"({"kind":"Status","message":"busy","reason":"ServerTimeout",
    "details":{"retryAfterSeconds":3},"code":500})";
  EXPECT_EQ(ParseApiError(500, body, std::nullopt).retry_after, std::chrono::seconds(3));
  // The header wins over the body.
  EXPECT_EQ(ParseApiError(500, body, "1").retry_after, std::chrono::seconds(1));
  // An HTTP date is not understood and ignored.
  EXPECT_EQ(ParseApiError(503, "", "Wed, 21 Oct 2015 07:28:00 GMT").retry_after, std::nullopt);
  EXPECT_EQ(ParseApiError(503, "", "-1").retry_after, std::nullopt);
}

TEST(ApiErrorTest, NonStatusBodies) {
  ApiError e = ParseApiError(502, "<html>\nBad gateway\n</html>\n", std::nullopt);
  EXPECT_EQ(e.reason, "");
  EXPECT_EQ(e.message, "<html> Bad gateway </html>");
  EXPECT_EQ(ApiErrorToStatus(e, "get x", false).message(),
            "get x: <html> Bad gateway </html> (502)");

  ApiError empty = ParseApiError(503, "", std::nullopt);
  EXPECT_EQ(ApiErrorToStatus(empty, "get x", false).message(),
            "get x: the server gave no message (503)");

  ApiError long_body = ParseApiError(500, std::string(1000, 'x'), std::nullopt);
  EXPECT_EQ(long_body.message.size(), 256u + 3u);

  // JSON that is not a Status is shown raw.
  ApiError other = ParseApiError(400, R"({"kind":"Pod"})", std::nullopt);
  EXPECT_EQ(other.message, R"({"kind":"Pod"})");
  EXPECT_EQ(ApiErrorToStatus(other, "x", false).code(), StatusCode::kInvalidArgument);
}

TEST(ApiErrorTest, ForbiddenMessageIsClear) {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"configmaps is forbidden: User \"nobody\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"",
    "reason":"Forbidden","details":{"kind":"configmaps"},"code":403})";
  Status s =
      ApiErrorToStatus(ParseApiError(403, body, std::nullopt), "list configmaps in default", false);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("User \"nobody\" cannot list resource \"configmaps\""));
  EXPECT_THAT(s.message(), HasSubstr("(403 Forbidden)"));
}

}  // namespace
}  // namespace arca::kube
