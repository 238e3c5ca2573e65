// Location URLs (objstore/location.h) and what PrefixedStore sends to the store it wraps.
#include "objstore/location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test/fakes/fake_object_store.h"

namespace arca::objstore {
namespace {

using ::testing::ElementsAre;
using testing::FakeObjectStore;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseLocationUrlTest, FileUrlWithAndWithoutPrefix) {
  auto plain = ParseLocationUrl("file:///var/backups/arca");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->kind, LocationUrl::Kind::kFilesystem);
  EXPECT_EQ(plain->path, "/var/backups/arca");
  EXPECT_EQ(plain->prefix, "");

  auto prefixed = ParseLocationUrl("file:///tmp/a%20b?prefix=/team/one/");
  ASSERT_TRUE(prefixed.ok()) << prefixed.status().ToString();
  EXPECT_EQ(prefixed->path, "/tmp/a b");
  EXPECT_EQ(prefixed->prefix, "team/one");
}

TEST(ParseLocationUrlTest, S3UrlTakesBucketPrefixAndConfig) {
  auto url = ParseLocationUrl(
      "s3://velero/cluster-a/prod?region=eu-west-1&s3Url=http%3A%2F%2F127.0.0.1%3A9000"
      "&s3ForcePathStyle=true");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->kind, LocationUrl::Kind::kS3);
  EXPECT_EQ(url->bucket, "velero");
  EXPECT_EQ(url->prefix, "cluster-a/prod");
  EXPECT_THAT(url->config,
              ElementsAre(Pair("region", "eu-west-1"), Pair("s3ForcePathStyle", "true"),
                          Pair("s3Url", "http://127.0.0.1:9000")));

  auto bare = ParseLocationUrl("s3://velero");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->prefix, "");
  EXPECT_TRUE(bare->config.empty());
}

TEST(ParseLocationUrlTest, BadUrlsSayWhatIsWrongAndShowTheForm) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {
           Case{"/var/backups", "no scheme"},
           Case{"gs://bucket", "unknown scheme 'gs'"},
           Case{"file://relative/dir", "absolute path"},
           Case{"file:///d?region=x", "unknown parameter 'region'"},
           Case{"s3://", "no bucket name"},
           Case{"s3:///prefix", "no bucket name"},
           Case{"s3://b?region", "'region' is not key=value"},
           Case{"s3://b?region=a&region=b", "'region' is given twice"},
           Case{"s3://b?prefix=p", "in the path"},
           Case{"s3://b?region=%zz", "malformed %-escape"},
       }) {
    auto url = ParseLocationUrl(c.url);
    ASSERT_FALSE(url.ok()) << c.url;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_THAT(url.status().message(), HasSubstr(c.says)) << c.url;
    EXPECT_THAT(url.status().message(), HasSubstr("file:///absolute/dir")) << c.url;
  }
}

TEST(OpenLocationTest, UnknownS3ConfigKeyIsNamed) {
  auto url = ParseLocationUrl("s3://b?region=r&s3Url=http://127.0.0.1:1&bogusKey=1");
  ASSERT_TRUE(url.ok());
  auto store = OpenLocation(*url, SystemEnvironment(), RealClock());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("bogusKey"));
}

TEST(OpenLocationTest, FileLocationWithPrefixWritesUnderThePrefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("arca-location-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto url = ParseLocationUrl("file://" + dir.string() + "?prefix=p1");
  ASSERT_TRUE(url.ok());
  auto store = OpenLocation(*url, SystemEnvironment(), RealClock());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->PutString(ObjectKey("backups/b1/velero-backup.json"), "{}").ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "p1/backups/b1/velero-backup.json"));
  auto page = (*store)->ListAll("backups/", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->common_prefixes, ElementsAre("backups/b1/"));
  std::filesystem::remove_all(dir);
}

TEST(PrefixedStoreTest, InnerStoreSeesPrefixedKeys) {
  auto inner = std::make_unique<FakeObjectStore>();
  FakeObjectStore& raw = *inner;
  PrefixedStore store(std::move(inner), "team");
  ASSERT_TRUE(store.PutString(ObjectKey("backups/b/x"), "data").ok());
  ASSERT_TRUE(store.PutString(ObjectKey("backups/c/y"), "data").ok());
  EXPECT_TRUE(raw.GetString(ObjectKey("team/backups/b/x")).ok());

  auto page = store.ListAll("backups/", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->common_prefixes, ElementsAre("backups/b/", "backups/c/"));

  ListOptions after;
  after.start_after = "backups/b/x";
  auto rest = store.List(after);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->objects.size(), 1u);
  EXPECT_EQ(rest->objects[0].key.value(), "backups/c/y");

  const std::vector<ObjectKey> doomed = {ObjectKey("backups/b/x"), ObjectKey("backups/c/y")};
  ASSERT_TRUE(store.DeleteMany(doomed).ok());
  auto gone = raw.ListAll("", "");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->objects.empty());
  EXPECT_THAT(store.Describe(), HasSubstr("prefix 'team/'"));
}

}  // namespace
}  // namespace arca::objstore
