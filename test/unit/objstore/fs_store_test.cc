#include "objstore/fs_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace arca::objstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace fs = std::filesystem;

class FsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("arca-fs-store-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto store = FsStore::Open(root_, /*create=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  void Put(const std::string& key, const std::string& data) {
    Status s = store_->PutString(ObjectKey(key), data);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<std::string> FilesIn(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  static std::vector<std::string> Keys(const ListPage& page) {
    std::vector<std::string> keys;
    for (const ObjectInfo& info : page.objects) {
      keys.push_back(info.key.value());
    }
    return keys;
  }

  fs::path root_;
  std::unique_ptr<FsStore> store_;
};

TEST_F(FsStoreTest, PutThenGetRoundTripsAndIsLaidOutLikeTheBucket) {
  Put("backups/b1/velero-backup.json", "{\"kind\":\"Backup\"}");
  auto got = store_->GetString(ObjectKey("backups/b1/velero-backup.json"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{\"kind\":\"Backup\"}");

  std::ifstream file(root_ / "backups/b1/velero-backup.json");
  std::string on_disk((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, "{\"kind\":\"Backup\"}");
}

TEST_F(FsStoreTest, PutOverwritesAndHeadReportsSize) {
  Put("a/b", "first");
  Put("a/b", "second!");
  auto info = store_->Head(ObjectKey("a/b"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 7u);
  EXPECT_EQ(info->key.value(), "a/b");
  EXPECT_FALSE(info->etag.empty());
  EXPECT_EQ(*store_->GetString(ObjectKey("a/b")), "second!");
}

TEST_F(FsStoreTest, GetStreamsLargeObjectsInChunks) {
  std::string big(3 * (1 << 20) + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  }
  Put("big", big);
  std::string out;
  int chunks = 0;
  auto info = store_->Get(ObjectKey("big"), [&](std::string_view chunk) {
    ++chunks;
    out.append(chunk);
    return OkStatus();
  });
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(out, big);
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(info->size, big.size());
}

TEST_F(FsStoreTest, MissingObjectIsNotFoundAndExistsIsFalse) {
  auto got = store_->GetString(ObjectKey("nope/x"));
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("'nope/x'"));
  EXPECT_EQ(store_->Head(ObjectKey("nope")).status().code(), StatusCode::kNotFound);
  auto exists = store_->Exists(ObjectKey("nope"));
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
  Put("yes", "1");
  EXPECT_TRUE(*store_->Exists(ObjectKey("yes")));
}

TEST_F(FsStoreTest, MissingRootIsNotFoundEvenForExists) {
  fs::remove_all(root_);
  EXPECT_EQ(store_->Exists(ObjectKey("x")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FsStore::Open(root_, /*create=*/false).status().code(), StatusCode::kNotFound);
}

TEST_F(FsStoreTest, RefusesKeysThatEscapeOrCannotBeStored) {
  const std::vector<std::string> bad = {"",
                                        "/etc/passwd",
                                        "../x",
                                        "a/../../x",
                                        "..",
                                        "a/./b",
                                        "a//b",
                                        "a/",
                                        ".",
                                        "x/..",
                                        ".arca-tmp-1",
                                        "d/.arca-tmp-z",
                                        std::string("a\0b", 3)};
  for (const std::string& key : bad) {
    EXPECT_EQ(store_->PutString(ObjectKey(key), "data").code(), StatusCode::kInvalidArgument)
        << "key: " << key;
    EXPECT_EQ(store_->GetString(ObjectKey(key)).status().code(), StatusCode::kInvalidArgument)
        << "key: " << key;
    EXPECT_EQ(store_->Delete(ObjectKey(key)).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_FALSE(fs::exists(root_.parent_path() / "x"));
  // Odd but storable names are fine.
  Put("with space/+plus~tilde/ሴ..dots", "ok");
  EXPECT_EQ(*store_->GetString(ObjectKey("with space/+plus~tilde/ሴ..dots")), "ok");
}

TEST_F(FsStoreTest, FailedWriteLeavesOldObjectAndNoTemporaryFile) {
  Put("dir/obj", "old contents");
  int calls = 0;
  std::string seen_during_write;
  Status s = store_->Put(ObjectKey("dir/obj"), [&](std::span<char> buffer) -> Result<size_t> {
    if (++calls == 1) {
      // Half the new object is written; the key must still hold the old one.
      seen_during_write = *store_->GetString(ObjectKey("dir/obj"));
      const std::string part = "new con";
      std::copy(part.begin(), part.end(), buffer.begin());
      return part.size();
    }
    if (calls == 2) {
      seen_during_write += "|" + *store_->GetString(ObjectKey("dir/obj"));
      return UnavailableError("reader broke");
    }
    return 0;
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(seen_during_write, "old contents|old contents");
  EXPECT_EQ(*store_->GetString(ObjectKey("dir/obj")), "old contents");
  EXPECT_THAT(FilesIn(root_ / "dir"), ElementsAre("obj"));
}

TEST_F(FsStoreTest, ConcurrentWritersAndReadersOnlySeeWholeObjects) {
  constexpr int kWriters = 4;
  constexpr int kRounds = 25;
  constexpr size_t kSize = 256 * 1024;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  Put("shared/obj", std::string(kSize, 'a'));
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string body(kSize, static_cast<char>('b' + w));
      for (int i = 0; i < kRounds; ++i) {
        EXPECT_TRUE(store_->PutString(ObjectKey("shared/obj"), body).ok());
        // Churn a sibling so Delete's directory pruning races with Put's mkdir.
        EXPECT_TRUE(store_->PutString(ObjectKey("churn/" + std::to_string(w)), "x").ok());
        EXPECT_TRUE(store_->Delete(ObjectKey("churn/" + std::to_string(w))).ok());
      }
    });
  }
  std::thread reader([&] {
    while (!done) {
      auto got = store_->GetString(ObjectKey("shared/obj"));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ++reads;
      if (got->size() != kSize || got->find_first_not_of(got->front()) != std::string::npos) {
        ++torn;
      }
    }
  });
  for (auto& t : threads) {
    t.join();
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_THAT(FilesIn(root_ / "shared"), ElementsAre("obj"));
  EXPECT_FALSE(fs::exists(root_ / "churn"));
}

TEST_F(FsStoreTest, KeyNeedingAnObjectAsDirectoryIsFailedPrecondition) {
  Put("a", "object");
  EXPECT_EQ(store_->PutString(ObjectKey("a/b"), "x").code(), StatusCode::kFailedPrecondition);
  Put("c/d", "x");
  EXPECT_EQ(store_->PutString(ObjectKey("c"), "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(FilesIn(root_ / "c"), ElementsAre("d"));
}

TEST_F(FsStoreTest, ListPaginatesInKeyOrder) {
  for (const char* key : {"k/5", "k/1", "k/3", "k/2", "k/4", "other"}) {
    Put(key, key);
  }
  ListOptions options;
  options.prefix = "k/";
  options.max_keys = 2;
  std::vector<std::string> all;
  int pages = 0;
  while (true) {
    auto page = store_->List(options);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const std::string& k : Keys(*page)) {
      all.push_back(k);
    }
    if (page->next_continuation_token.empty()) {
      break;
    }
    options.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(all, ElementsAre("k/1", "k/2", "k/3", "k/4", "k/5"));
}

TEST_F(FsStoreTest, ListWithDelimiterRollsUpCommonPrefixes) {
  for (const char* key : {"backups/a/x.json", "backups/a/y.gz", "backups/b/x.json", "backups/c/d/e",
                          "backups/readme", "restores/r1/log"}) {
    Put(key, "1");
  }
  auto page = store_->ListAll("backups/", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->common_prefixes, ElementsAre("backups/a/", "backups/b/", "backups/c/"));
  EXPECT_THAT(Keys(*page), ElementsAre("backups/readme"));

  auto top = store_->ListAll("", "/");
  ASSERT_TRUE(top.ok());
  EXPECT_THAT(top->common_prefixes, ElementsAre("backups/", "restores/"));
  EXPECT_THAT(top->objects, IsEmpty());

  // Pages of one entry still give every common prefix exactly once.
  ListOptions options;
  options.prefix = "backups/";
  options.delimiter = "/";
  options.max_keys = 1;
  std::vector<std::string> entries;
  while (true) {
    auto p = store_->List(options);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->objects.size() + p->common_prefixes.size(), 1u);
    for (const auto& cp : p->common_prefixes) {
      entries.push_back(cp);
    }
    for (const auto& k : Keys(*p)) {
      entries.push_back(k);
    }
    if (p->next_continuation_token.empty()) {
      break;
    }
    options.continuation_token = p->next_continuation_token;
  }
  EXPECT_THAT(entries, ElementsAre("backups/a/", "backups/b/", "backups/c/", "backups/readme"));
}

TEST_F(FsStoreTest, ListHonoursPartialPrefixAndStartAfter) {
  for (const char* key : {"logs/app-1", "logs/app-2", "logs/db-1", "logsx"}) {
    Put(key, "1");
  }
  auto page = store_->ListAll("logs/app", "");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Keys(*page), ElementsAre("logs/app-1", "logs/app-2"));

  ListOptions options;
  options.prefix = "logs";
  options.start_after = "logs/app-2";
  auto after = store_->List(options);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(Keys(*after), ElementsAre("logs/db-1", "logsx"));

  options.max_keys = 0;
  EXPECT_EQ(store_->List(options).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FsStoreTest, DeleteRemovesEmptyDirectoriesAndIgnoresMissingKeys) {
  Put("a/b/c/obj", "1");
  Put("a/keep", "1");
  ASSERT_TRUE(store_->Delete(ObjectKey("a/b/c/obj")).ok());
  EXPECT_FALSE(fs::exists(root_ / "a/b"));
  EXPECT_TRUE(fs::exists(root_ / "a/keep"));
  EXPECT_TRUE(store_->Delete(ObjectKey("a/b/c/obj")).ok());
  EXPECT_TRUE(store_->Delete(ObjectKey("never/was")).ok());
  EXPECT_TRUE(fs::exists(root_));
}

TEST_F(FsStoreTest, DeleteManyRemovesEverything) {
  std::vector<ObjectKey> keys;
  for (int i = 0; i < 25; ++i) {
    keys.emplace_back("many/" + std::to_string(i));
    Put(keys.back().value(), "x");
  }
  keys.emplace_back("many/absent");
  ASSERT_TRUE(store_->DeleteMany(keys).ok());
  auto page = store_->ListAll("many/", "");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->objects, IsEmpty());

  std::vector<ObjectKey> bad = {ObjectKey("ok"), ObjectKey("../bad")};
  Status s = store_->DeleteMany(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("1 of 2"));
}

TEST_F(FsStoreTest, PresignGivesAnEncodedFileUrl) {
  Put("dir/a b+c", "hello");
  auto url = store_->PresignGet(ObjectKey("dir/a b+c"), std::chrono::minutes(10));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, "file://" + (root_ / "dir").string() + "/a%20b%2Bc");
  EXPECT_EQ(store_->PresignGet(ObjectKey("missing"), std::chrono::minutes(1)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FsStoreTest, TemporaryFilesAreNeverListed) {
  Put("d/real", "1");
  std::ofstream(root_ / "d" / ".arca-tmp-leftover") << "partial";
  auto page = store_->ListAll("", "");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Keys(*page), ElementsAre("d/real"));
}

}  // namespace
}  // namespace arca::objstore
