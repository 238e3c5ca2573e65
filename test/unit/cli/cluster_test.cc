// cli/format.h and cli/cluster.h: output helpers, and VeleroClient on FakeKube (the real
// kube::Client over an in-memory API server).
#include "cli/cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "cli/format.h"
#include "common/clock.h"
#include "test/unit/controller/fake_kube.h"

namespace arca::cli {
namespace {

using ::testing::HasSubstr;

TEST(FormatTest, TableColumnsArePaddedToTheWidestCellPlusThree) {
  std::ostringstream out;
  PrintTable(out, {{"NAME", "STATUS"}, {"a-long-name", "Completed"}});
  EXPECT_EQ(out.str(), "NAME          STATUS\na-long-name   Completed\n");
}

TEST(FormatTest, OutputFormats) {
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("yaml"), OutputFormat::kYaml);
  EXPECT_EQ(*ParseOutputFormat("json", false), OutputFormat::kJson);
  EXPECT_THAT(ParseOutputFormat("table", false).status().message(), HasSubstr("use json or yaml"));
  EXPECT_THAT(ParseOutputFormat("wide").status().message(),
              HasSubstr("-o wide: use table, json or yaml"));
}

TEST(FormatTest, CreateOutputEitherSubmitsOrPrints) {
  EXPECT_FALSE(ParsePrintOnlyFormat("")->has_value());
  EXPECT_EQ(**ParsePrintOnlyFormat("yaml"), OutputFormat::kYaml);
  EXPECT_THAT(ParsePrintOnlyFormat("table").status().message(), HasSubstr("use json or yaml"));
}

TEST(FormatTest, OneNamedObjectAloneOtherwiseAList) {
  const nlohmann::json a = {{"kind", "Backup"}, {"metadata", {{"name", "a"}}}};
  std::ostringstream one;
  PrintObjects(one, OutputFormat::kJson, {a}, true);
  EXPECT_EQ(nlohmann::json::parse(one.str()), a);
  std::ostringstream list;
  PrintObjects(list, OutputFormat::kYaml, {a}, false);
  EXPECT_EQ(list.str(),
            "apiVersion: v1\nitems:\n- kind: Backup\n  metadata:\n    name: a\nkind: List\n");
}

TEST(FormatTest, MapFlagsAndTimes) {
  EXPECT_EQ((*ParseMapFlag("--labels", {"a=1", " b = 2 "})).at("b"), "2");
  EXPECT_THAT(ParseMapFlag("--labels", {"novalue"}).status().message(),
              HasSubstr("\"novalue\" is not of the form key=value"));
  EXPECT_EQ(FormatTime("2026-11-26T16:47:17Z"), "2026-11-26 16:47:17 +0000 UTC");
  EXPECT_EQ(FormatTime(""), "<n/a>");
  EXPECT_EQ(ShortHumanDuration(std::chrono::hours(50)), "2d");
}

TEST(ClusterFlagsTest, NamespaceFromFlagThenEnvironmentThenVelero) {
  ClusterFlags f;
  unsetenv("VELERO_NAMESPACE");
  EXPECT_EQ(f.Namespace(), "velero");
  setenv("VELERO_NAMESPACE", "from-env", 1);
  EXPECT_EQ(f.Namespace(), "from-env");
  f.namespace_name = "from-flag";
  EXPECT_EQ(f.Namespace(), "from-flag");
  unsetenv("VELERO_NAMESPACE");
}

class VeleroClientTest : public ::testing::Test {
 protected:
  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1'795'000'000)};
  controller::testing::FakeKube fake_{clock_};
  kube::ConnectionPtr conn_ = controller::testing::FakeKube::Connect(fake_, clock_);
  VeleroClient client_{conn_->client(), "velero", clock_};
};

TEST_F(VeleroClientTest, CreateGetListPatchDelete) {
  for (const char* name : {"b", "a"}) {
    ASSERT_TRUE(client_
                    .Create("backups", {{"apiVersion", "velero.io/v1"},
                                        {"kind", "Backup"},
                                        {"metadata", {{"name", name}, {"labels", {{"x", "1"}}}}}})
                    .ok());
  }
  Result<nlohmann::json> again = client_.Create(
      "backups",
      {{"apiVersion", "velero.io/v1"}, {"kind", "Backup"}, {"metadata", {{"name", "a"}}}});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(),
              HasSubstr("backups.velero.io \"a\" already exists in namespace velero"));
  Result<std::vector<nlohmann::json>> all = client_.List("backups", "x=1");
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0]["metadata"]["name"], "a");  // sorted by name
  ASSERT_TRUE(client_.MergePatch("backups", "a", {{"spec", {{"ttl", "1h0m0s"}}}}).ok());
  EXPECT_EQ((*client_.Get("backups", "a"))["spec"]["ttl"], "1h0m0s");
  ASSERT_TRUE(client_.Delete("backups", "a").ok());
  Result<nlohmann::json> gone = client_.Get("backups", "a");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(),
              HasSubstr("backups.velero.io \"a\" not found in namespace velero"));
}

TEST_F(VeleroClientTest, WaitForTimesOutNamingTheServer) {
  ASSERT_TRUE(client_
                  .Create("backups", {{"apiVersion", "velero.io/v1"},
                                      {"kind", "Backup"},
                                      {"metadata", {{"name", "w"}}}})
                  .ok());
  int polls = 0;
  Result<nlohmann::json> r = client_.WaitFor(
      "backups", "w", [](const nlohmann::json& o) { return o.contains("status"); },
      [&polls](const nlohmann::json&) { ++polls; }, std::chrono::seconds(5),
      std::chrono::seconds(1));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("is `arca server` running"));
  EXPECT_GE(polls, 5);
  fake_.Put("velero.io", "backups", "velero",
            {{"apiVersion", "velero.io/v1"},
             {"kind", "Backup"},
             {"metadata", {{"name", "w"}}},
             {"status", {{"phase", "Completed"}}}});
  Result<nlohmann::json> done = client_.WaitFor(
      "backups", "w", [](const nlohmann::json& o) { return o.contains("status"); }, nullptr,
      std::chrono::seconds(5));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ((*done)["status"]["phase"], "Completed");
}

}  // namespace
}  // namespace arca::cli
