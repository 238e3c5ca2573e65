#include "backup/contents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::backup {
namespace {

using ::testing::ElementsAre;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));

TEST(WithTypeMetaTest, InsertsFirst) {
  EXPECT_EQ(WithTypeMeta(R"({"metadata":{"name":"a"}})", "v1", "ConfigMap"),
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})");
  EXPECT_EQ(WithTypeMeta("{}", "apps/v1", "Deployment"),
            R"({"apiVersion":"apps/v1","kind":"Deployment"})");
  EXPECT_EQ(WithTypeMeta("{ }", "v1", "X"), R"({"apiVersion":"v1","kind":"X" })");
  nlohmann::json parsed = nlohmann::json::parse(WithTypeMeta(R"( {"a":1} )", "v1", "Pod"));
  EXPECT_EQ(parsed, nlohmann::json::parse(R"({"apiVersion":"v1","kind":"Pod","a":1})"));
}

struct Entry {
  std::string name;
  std::string content;
  bool operator==(const Entry&) const = default;
};

std::vector<Entry> ReadBack(const std::string& tar_gz) {
  std::vector<Entry> entries;
  archive::TarReader tar([&](const archive::TarEntry& e) {
    entries.push_back({e.name, std::string(e.content)});
    return OkStatus();
  });
  archive::GunzipStream gunzip(tar.AsSink());
  EXPECT_TRUE(gunzip.Write(tar_gz).ok());
  EXPECT_TRUE(gunzip.Finish().ok());
  EXPECT_TRUE(tar.Finish().ok());
  return entries;
}

TEST(BackupContentsWriterTest, VeleroLayout) {
  std::string out;
  archive::GzipOptions gz;
  gz.block_size = 4096;
  BackupContentsWriter w(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      gz, kNow);
  ASSERT_TRUE(w.Begin().ok());
  ItemRef deploy{"apps", "v1", "deployments", "Deployment", "shop", "api"};
  ItemRef ns{"", "v1", "namespaces", "Namespace", "", "shop"};
  ItemRef cm{"", "v1", "configmaps", "ConfigMap", "shop", "settings"};
  ASSERT_TRUE(w.AddItem(deploy, R"({"apiVersion":"apps/v1","kind":"Deployment"})").ok());
  ASSERT_TRUE(w.AddItem(ns, R"({"apiVersion":"v1","kind":"Namespace"})").ok());
  ASSERT_TRUE(w.AddItem(cm, R"({"apiVersion":"v1","kind":"ConfigMap"})").ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.compressed_bytes(), out.size());

  std::vector<Entry> entries = ReadBack(out);
  std::vector<std::string> names;
  for (const Entry& e : entries) {
    names.push_back(e.name);
  }
  EXPECT_THAT(
      names, ElementsAre("metadata/version", "resources/deployments.apps/namespaces/shop/api.json",
                         "resources/deployments.apps/v1-preferredversion/namespaces/shop/api.json",
                         "resources/namespaces/cluster/shop.json",
                         "resources/namespaces/v1-preferredversion/cluster/shop.json",
                         "resources/configmaps/namespaces/shop/settings.json",
                         "resources/configmaps/v1-preferredversion/namespaces/shop/settings.json"));
  EXPECT_EQ(entries[0].content, "1.1.0\n");
  EXPECT_EQ(entries[1].content, R"({"apiVersion":"apps/v1","kind":"Deployment"})");

  EXPECT_EQ(w.resource_list().ToJson(), nlohmann::json::parse(R"({
      "apps/v1/Deployment": ["shop/api"], "v1/ConfigMap": ["shop/settings"],
      "v1/Namespace": ["shop"]})"));
}

TEST(ResourceListTest, SortedPerType) {
  ResourceList list;
  for (const char* name : {"b", "a", "c"}) {
    list.Add(ItemRef{"", "v1", "pods", "Pod", "z", name});
  }
  list.Add(ItemRef{"", "v1", "pods", "Pod", "a", "x"});
  EXPECT_EQ(list.items(), 4u);
  EXPECT_EQ(list.ToJson()["v1/Pod"], nlohmann::json::parse(R"(["a/x","z/a","z/b","z/c"])"));
}

// The text of a gzip stream, or "<error>" when it does not read back.
std::string Gunzip(std::string_view gz) {
  std::string back;
  archive::GunzipStream gunzip([&](std::string_view d) {
    back.append(d);
    return OkStatus();
  });
  if (!gunzip.Write(gz).ok() || !gunzip.Finish().ok()) {
    return "<error>";
  }
  return back;
}

TEST(ResourceListTest, WrittenInChunksWithoutTheWholeText) {
  ResourceList list;
  for (int i = 0; i < 20000; ++i) {
    list.Add(ItemRef{"", "v1", "configmaps", "ConfigMap", "ns-" + std::to_string(i % 7),
                     "cm-" + std::to_string(i)});
  }
  list.Add(ItemRef{"apps", "v1", "deployments", "Deployment", "shop", "a\"b"});
  std::string joined;
  size_t chunks = 0;
  size_t biggest = 0;
  ASSERT_TRUE(list.WriteJson([&](std::string_view chunk) {
                    joined.append(chunk);
                    ++chunks;
                    biggest = std::max(biggest, chunk.size());
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(joined, list.ToJsonText());
  EXPECT_GT(chunks, 3u);
  EXPECT_LT(biggest, size_t{70} << 10);
  nlohmann::json doc = nlohmann::json::parse(joined);
  EXPECT_EQ(doc["v1/ConfigMap"].size(), 20000u);
  EXPECT_EQ(doc["apps/v1/Deployment"][0], "shop/a\"b");
  // A sink error stops the writing and comes back.
  int calls = 0;
  Status s = list.WriteJson([&](std::string_view) {
    ++calls;
    return UnavailableError("store down");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST(GzipWrittenTest, BigDocumentsBecomeSeveralMembersThatReadBackWhole) {
  std::string text;
  for (int i = 0; i < 100000; ++i) {
    text += "\"item-" + std::to_string(i * 7919 % 100003) + "\",";
  }
  Result<std::string> gz = GzipWritten([&](const archive::ByteSink& sink) {
    for (size_t off = 0; off < text.size(); off += 1000) {
      RETURN_IF_ERROR(sink(std::string_view(text).substr(off, 1000)));
    }
    return OkStatus();
  });
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(Gunzip(*gz), text);
  EXPECT_GT(text.size(), size_t{512} << 10);  // more than one 256 KiB block
}

TEST(BackupResultsTest, VelerosShape) {
  BackupResults r;
  EXPECT_EQ(r.ToJson(), nlohmann::json::parse(R"({"errors":{},"warnings":{}})"));
  r.AddError("shop", false, "error backing up item");
  r.AddError("", true, "forbidden: clusterroles");
  r.AddWarning("", false, "no namespaces matched");
  EXPECT_EQ(r.errors(), 2u);
  EXPECT_EQ(r.warnings(), 1u);
  EXPECT_EQ(r.ToJson(), nlohmann::json::parse(R"({
      "errors": {"cluster": ["forbidden: clusterroles"],
                 "namespaces": {"shop": ["error backing up item"]}},
      "warnings": {"velero": ["no namespaces matched"]}})"));
}

TEST(GzipDocumentTest, RoundTrip) {
  Result<std::string> gz = GzipDocument(R"({"a":1})");
  ASSERT_TRUE(gz.ok());
  EXPECT_EQ(Gunzip(*gz), R"({"a":1})");
}

}  // namespace
}  // namespace arca::backup
