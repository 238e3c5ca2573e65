#include "backup/upload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "archive/gzip.h"
#include "backup/contents.h"
#include "objstore/fs_store.h"
#include "support/peak_rss.h"

namespace arca::backup {
namespace {

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("arca-upload-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto store = objstore::FsStore::Open(root_, true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  std::unique_ptr<objstore::FsStore> store_;
};

// About 200 MiB of items (ConfigMap-like JSON, poorly compressible) streamed through tar, gzip
// and the pipe into the store: the process's peak memory must not grow with that size.
TEST_F(UploadTest, LargeBackupStreamsInBoundedMemory) {
  const objstore::ObjectKey key("backups/big/big.tar.gz");
  long rss_before = test_support::PeakRssKiB();
  PipedUpload upload(*store_, key, 4 << 20);
  BackupContentsWriter writer(upload.Sink(), {}, std::chrono::system_clock::now());
  ASSERT_TRUE(writer.Begin().ok());
  std::mt19937_64 rng(1);
  std::string data(4096, ' ');
  const int kItems = 25000;  // x 2 entries x 4 KiB = about 200 MiB of tar
  for (int i = 0; i < kItems; ++i) {
    for (auto& c : data) {
      c = static_cast<char>('a' + rng() % 26);
    }
    std::string item = R"({"apiVersion":"v1","kind":"ConfigMap","data":{"k":")" + data + R"("}})";
    ItemRef ref{"",
                "v1",
                "configmaps",
                "ConfigMap",
                "ns-" + std::to_string(i % 50),
                "cm-" + std::to_string(i)};
    ASSERT_TRUE(writer.AddItem(ref, item).ok());
  }
  ASSERT_TRUE(writer.Finish().ok());
  ASSERT_TRUE(upload.Finish().ok());
  long growth_mib = (test_support::PeakRssKiB() - rss_before) / 1024;
  EXPECT_GT(writer.uncompressed_bytes(), 200ull << 20);
  EXPECT_LT(growth_mib, 48) << "peak RSS grew by " << growth_mib << " MiB";

  // Read it back, streaming, and count the entries.
  uint64_t entries = 0;
  archive::TarReader tar([&](const archive::TarEntry&) {
    ++entries;
    return OkStatus();
  });
  archive::GunzipStream gunzip(tar.AsSink());
  Result<objstore::ObjectInfo> info = store_->Get(key, gunzip.AsSink());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(gunzip.Finish().ok());
  ASSERT_TRUE(tar.Finish().ok());
  EXPECT_EQ(entries, 1u + 2u * kItems);
  EXPECT_EQ(info->size, writer.compressed_bytes());
}

TEST_F(UploadTest, AbortLeavesNothing) {
  const objstore::ObjectKey key("backups/b/b.tar.gz");
  {
    PipedUpload upload(*store_, key, 1024);
    ASSERT_TRUE(upload.Sink()(std::string(5000, 'x')).ok());
    Status s = upload.Abort(UnavailableError("the API server went away"));
    EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  }
  Result<bool> exists = store_->Exists(key);
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(UploadTest, StoreFailureStopsTheProducer) {
  // A key the store refuses: Put fails at once, and the producer's writes fail with its error
  // instead of blocking on a full pipe.
  PipedUpload upload(*store_, objstore::ObjectKey("../escape"), 16);
  archive::ByteSink sink = upload.Sink();
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = sink(std::string(64, 'x'));
  }
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(upload.Finish().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::backup
