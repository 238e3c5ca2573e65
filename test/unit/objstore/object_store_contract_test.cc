// The ObjectStore contract, run against every implementation that needs no server: FsStore and
// the FakeObjectStore other modules' tests use (S3Store gets the same checks against MinIO in
// test/integration/objstore_s3_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "objstore/fs_store.h"
#include "objstore/location.h"
#include "test/fakes/fake_object_store.h"

namespace arca::objstore {
namespace {

using ::testing::ElementsAre;
using testing::FakeObjectStore;
using ::testing::IsEmpty;

namespace fs = std::filesystem;

template <typename Store>
std::unique_ptr<ObjectStore> MakeStore(const fs::path& dir);

template <>
std::unique_ptr<ObjectStore> MakeStore<FsStore>(const fs::path& dir) {
  return std::move(FsStore::Open(dir, /*create=*/true)).value();
}

template <>
std::unique_ptr<ObjectStore> MakeStore<FakeObjectStore>(const fs::path& /*dir*/) {
  return std::make_unique<FakeObjectStore>();
}

// A PrefixedStore must behave like a store of its own, whatever the inner store holds outside
// its prefix: the inner store gets a neighbour whose keys share the prefix's first characters.
template <>
std::unique_ptr<ObjectStore> MakeStore<PrefixedStore>(const fs::path& /*dir*/) {
  auto inner = std::make_unique<FakeObjectStore>();
  EXPECT_TRUE(inner->PutString(ObjectKey("pre/fixed-neighbour"), "x").ok());
  EXPECT_TRUE(inner->PutString(ObjectKey("pre/fix-other/a"), "x").ok());
  return std::make_unique<PrefixedStore>(std::move(inner), "pre/fix");
}

template <typename Store>
class ObjectStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("arca-contract-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = MakeStore<Store>(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Put(const std::string& key, const std::string& data) {
    ASSERT_TRUE(store_->PutString(ObjectKey(key), data).ok()) << key;
  }

  // Every entry of a listing, page by page.
  std::vector<std::string> Walk(ListOptions options, int* pages) {
    std::vector<std::string> out;
    *pages = 0;
    while (true) {
      auto page = store_->List(options);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) {
        break;
      }
      ++*pages;
      std::vector<std::string> entries = page->common_prefixes;
      for (const auto& o : page->objects) {
        entries.push_back(o.key.value());
      }
      std::sort(entries.begin(), entries.end());
      out.insert(out.end(), entries.begin(), entries.end());
      if (page->next_continuation_token.empty()) {
        break;
      }
      options.continuation_token = page->next_continuation_token;
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<ObjectStore> store_;
};

using Implementations = ::testing::Types<FsStore, FakeObjectStore, PrefixedStore>;
TYPED_TEST_SUITE(ObjectStoreContractTest, Implementations);

TYPED_TEST(ObjectStoreContractTest, WritesReadsAndOverwrites) {
  this->Put("backups/b1/velero-backup.json", "v1");
  this->Put("backups/b1/velero-backup.json", "version two");
  EXPECT_EQ(*this->store_->GetString(ObjectKey("backups/b1/velero-backup.json")), "version two");
  auto info = this->store_->Head(ObjectKey("backups/b1/velero-backup.json"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11u);
  EXPECT_TRUE(*this->store_->Exists(ObjectKey("backups/b1/velero-backup.json")));
  EXPECT_TRUE(
      this->store_->PresignGet(ObjectKey("backups/b1/velero-backup.json"), std::chrono::minutes(10))
          .ok());
}

TYPED_TEST(ObjectStoreContractTest, MissingObjectsAreNotFound) {
  EXPECT_EQ(this->store_->GetString(ObjectKey("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Head(ObjectKey("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*this->store_->Exists(ObjectKey("nope")));
  EXPECT_EQ(this->store_->PresignGet(ObjectKey("nope"), std::chrono::minutes(1)).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->Delete(ObjectKey("nope")).ok());
  EXPECT_EQ(this->store_->PutString(ObjectKey(""), "x").code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(ObjectStoreContractTest, ListsInOrderAcrossPages) {
  for (const char* key : {"b/3", "a", "b/1", "c/x/y", "b/2", "d"}) {
    this->Put(key, key);
  }
  ListOptions options;
  options.max_keys = 2;
  int pages = 0;
  EXPECT_THAT(this->Walk(options, &pages), ElementsAre("a", "b/1", "b/2", "b/3", "c/x/y", "d"));
  EXPECT_EQ(pages, 3);

  options.delimiter = "/";
  options.max_keys = 1;
  EXPECT_THAT(this->Walk(options, &pages), ElementsAre("a", "b/", "c/", "d"));
  EXPECT_EQ(pages, 4);

  options.prefix = "b/";
  options.max_keys = 1000;
  EXPECT_THAT(this->Walk(options, &pages), ElementsAre("b/1", "b/2", "b/3"));

  options = {};
  options.start_after = "b/2";
  EXPECT_THAT(this->Walk(options, &pages), ElementsAre("b/3", "c/x/y", "d"));

  options = {};
  options.prefix = "zzz/";
  EXPECT_THAT(this->Walk(options, &pages), IsEmpty());
}

TYPED_TEST(ObjectStoreContractTest, DeleteManyRemovesAllAndIgnoresMissing) {
  std::vector<ObjectKey> keys;
  for (int i = 0; i < 30; ++i) {
    keys.emplace_back("many/" + std::to_string(i));
    this->Put(keys.back().value(), "x");
  }
  keys.emplace_back("many/missing");
  ASSERT_TRUE(this->store_->DeleteMany(keys).ok());
  auto all = this->store_->ListAll("", "");
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->objects, IsEmpty());
}

TEST(FakeObjectStoreTest, InjectsFaultsByMethodAndKey) {
  FakeObjectStore store;
  store.FailNext(FakeObjectStore::Method::kPut, UnavailableError("503 SlowDown"), 2, "tar.gz");
  EXPECT_TRUE(store.PutString(ObjectKey("b/velero-backup.json"), "{}").ok());
  EXPECT_EQ(store.PutString(ObjectKey("b/b.tar.gz"), "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.PutString(ObjectKey("b/b.tar.gz"), "x").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(store.PutString(ObjectKey("b/b.tar.gz"), "x").ok());
  EXPECT_EQ(store.Calls(FakeObjectStore::Method::kPut), 4);
  EXPECT_THAT(store.Objects(), ::testing::SizeIs(2));

  store.FailNext(FakeObjectStore::Method::kList, PermissionDeniedError("403"));
  EXPECT_EQ(store.List({}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(store.List({}).ok());
}

}  // namespace
}  // namespace arca::objstore
