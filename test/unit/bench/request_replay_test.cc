#include "request_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::bench {
namespace {

using ::testing::ElementsAre;

RecordedRequest Req(double start, double end, std::string method, std::string url,
                    std::string body = "") {
  RecordedRequest r;
  r.start = start;
  r.end = end;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.status = 201;
  return r;
}

TEST(ObjectOfTest, APostNamesTheObjectOfItsBodyAndTheQueryIsLeftOut) {
  EXPECT_EQ(ObjectOf(Req(0, 1, "POST", "https://h/api/v1/namespaces/a/configmaps?fieldManager=m",
                         R"({"metadata":{"name":"x"}})")),
            "https://h/api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(ObjectOf(Req(0, 1, "PATCH", "https://h/api/v1/namespaces/a/configmaps/x")),
            "https://h/api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(ObjectOf(Req(0, 1, "POST", "https://h/api/v1/namespaces", "not json")),
            "https://h/api/v1/namespaces");
}

TEST(PlanReplayTest, ARequestThatStartsWithNothingInFlightStartsAPhase) {
  // Two overlapping creates, then (after both ended) two more that overlap: two phases. The
  // input is not in start order.
  const std::vector<RecordedRequest> records = {
      Req(3.0, 4.0, "POST", "u/c", R"({"metadata":{"name":"c"}})"),
      Req(0.0, 2.0, "POST", "u/a", R"({"metadata":{"name":"a"}})"),
      Req(1.0, 2.5, "POST", "u/b", R"({"metadata":{"name":"b"}})"),
      Req(3.5, 5.0, "POST", "u/d", R"({"metadata":{"name":"d"}})"),
  };
  const ReplayPlan plan = PlanReplay(records);
  ASSERT_EQ(plan.phases.size(), 2u);
  EXPECT_THAT(plan.phases[0], ElementsAre(1, 2));
  EXPECT_THAT(plan.phases[1], ElementsAre(0, 3));
  for (const auto& after : plan.after) {
    EXPECT_FALSE(after.has_value());
  }
}

TEST(PlanReplayTest, APatchWaitsForTheCreateOfItsObjectInTheSamePhaseOnly) {
  const std::vector<RecordedRequest> records = {
      Req(0.0, 1.0, "POST", "u/deployments", R"({"metadata":{"name":"d"}})"),
      Req(0.1, 1.5, "POST", "u/deployments", R"({"metadata":{"name":"e"}})"),
      Req(1.2, 2.0, "PATCH", "u/deployments/d"),
      // A new phase: the same object again does not wait across the phase boundary.
      Req(3.0, 4.0, "PATCH", "u/deployments/d"),
  };
  const ReplayPlan plan = PlanReplay(records);
  ASSERT_EQ(plan.phases.size(), 2u);
  EXPECT_THAT(plan.phases[0], ElementsAre(0, 1, 2));
  EXPECT_FALSE(plan.after[0].has_value());
  EXPECT_FALSE(plan.after[1].has_value());
  ASSERT_TRUE(plan.after[2].has_value());
  EXPECT_EQ(*plan.after[2], 0u);
  EXPECT_FALSE(plan.after[3].has_value());
}

http::Request HttpRequest(std::string method, std::string url) {
  http::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  return r;
}

TEST(PlaybackTransportTest, AnswersWhatWasRecordedForTheSameRequestInTurn) {
  std::vector<RecordedRequest> records = {
      Req(0, 1, "POST", "https://h/api/v1/namespaces/a/configmaps", R"({"metadata":{"name":"x"}})"),
      Req(1, 2, "POST", "https://h/api/v1/namespaces/a/configmaps", R"({"metadata":{"name":"y"}})"),
      Req(2, 3, "GET", "https://h/api/v1/namespaces/a"),
      Req(3, 4, "GET", "https://h/api/v1/namespaces/a"),
  };
  records[0].response = "created x";
  records[1].response = "created y";
  records[2].status = 404;
  records[2].response = "not yet";
  records[3].status = 200;
  records[3].response = "there";
  PlaybackTransport playback(records);
  // The object's name in the body tells two creates into one collection apart, whatever the
  // body's formatting.
  http::Request post = HttpRequest("POST", "https://h/api/v1/namespaces/a/configmaps");
  post.body = R"({ "metadata": { "labels": {"k": "v"}, "name": "y" } })";
  Result<http::Response> y = playback.Send(post);
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->status, 201);
  EXPECT_EQ(y->body, "created y");
  // A 2xx answer goes to the sink.
  std::string streamed;
  const http::BodySink sink = [&](std::string_view chunk) {
    streamed.append(chunk);
    return OkStatus();
  };
  post.body = R"({"metadata":{"name":"x"}})";
  ASSERT_TRUE(playback.Send(post, &sink).ok());
  EXPECT_EQ(streamed, "created x");
  // Several answers to one request come in the recorded order.
  const http::Request get = HttpRequest("GET", "https://h/api/v1/namespaces/a");
  EXPECT_EQ(playback.Send(get)->status, 404);
  EXPECT_EQ(playback.Send(get)->body, "there");
  EXPECT_EQ(playback.unmatched(), 0);
  // What was not recorded is 404 and counted.
  const http::Request other = HttpRequest("DELETE", "https://h/api/v1/namespaces/a");
  EXPECT_EQ(playback.Send(other)->status, 404);
  EXPECT_EQ(playback.unmatched(), 1);
}

TEST(PlaybackTransportTest, AnswersWrittenAreReadBackWithoutCertificates) {
  std::vector<RecordedRequest> records = {Req(0, 1, "GET", "https://h/api")};
  records[0].response = "{\"kind\":\"APIVersions\"}";
  records[0].client_key_pem = "secret";
  const std::string path = ::testing::TempDir() + "/answers.jsonl";
  ASSERT_TRUE(WriteAnswers(path, records).ok());
  Result<std::vector<RecordedRequest>> read = ReadRecording(path);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].response, records[0].response);
  EXPECT_EQ((*read)[0].status, 201);
  EXPECT_EQ((*read)[0].client_key_pem, "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace arca::bench
