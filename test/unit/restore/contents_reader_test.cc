#include "restore/contents_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "backup/contents.h"
#include "backup/upload.h"
#include "objstore/fs_store.h"

namespace arca::restore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));

std::string Compress(const std::function<void(archive::TarWriter&)>& fill) {
  std::string out;
  archive::GzipWriter gz(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      {});
  archive::TarWriter tar(gz.AsSink());
  fill(tar);
  EXPECT_TRUE(tar.Finish().ok());
  EXPECT_TRUE(gz.Finish().ok());
  return out;
}

struct ReadBack {
  Status status;
  std::vector<std::string> items;  // "gr|ns|name|json"
  std::string version;
  uint64_t skipped = 0;
};

ReadBack Read(std::string_view tar_gz, size_t chunk = 1000) {
  ReadBack r;
  BackupContentsReader reader([&](const BackupItem& item) {
    r.items.push_back(item.path.group_resource + "|" + item.path.ns + "|" + item.path.name + "|" +
                      std::string(item.json));
    return OkStatus();
  });
  archive::ByteSink sink = reader.Sink();
  for (size_t off = 0; off < tar_gz.size() && r.status.ok(); off += chunk) {
    r.status = sink(tar_gz.substr(off, chunk));
  }
  if (r.status.ok()) {
    r.status = reader.Finish();
  }
  r.version = reader.format_version();
  r.skipped = reader.skipped();
  return r;
}

std::string WrittenByArca() {
  std::string out;
  backup::BackupContentsWriter w(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      {}, kNow);
  EXPECT_TRUE(w.Begin().ok());
  EXPECT_TRUE(
      w.AddItem({"apps", "v1", "deployments", "Deployment", "shop", "api"}, "{\"d\":1}").ok());
  EXPECT_TRUE(w.AddItem({"", "v1", "namespaces", "Namespace", "", "shop"}, "{\"n\":1}").ok());
  EXPECT_TRUE(w.AddItem({"", "v1", "secrets", "Secret", "shop", "db"}, "{\"s\":1}").ok());
  EXPECT_TRUE(w.Finish().ok());
  return out;
}

TEST(BackupContentsReaderTest, ReadsEachItemOnceAtItsUnversionedPath) {
  ReadBack r = Read(WrittenByArca());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.version, "1.1.0");
  EXPECT_THAT(r.items, ElementsAre("deployments.apps|shop|api|{\"d\":1}",
                                   "namespaces||shop|{\"n\":1}", "secrets|shop|db|{\"s\":1}"));
  EXPECT_EQ(r.skipped, 3u);  // the -preferredversion copies
}

TEST(BackupContentsReaderTest, UnexpectedEntriesAreSkippedNotFatal) {
  std::string gz = Compress([](archive::TarWriter& t) {
    ASSERT_TRUE(t.AddFile("metadata/version", "1\n", kNow).ok());
    ASSERT_TRUE(t.AddFile("README", "hello", kNow).ok());
    ASSERT_TRUE(t.AddFile("resources/pods/weird.txt", "?", kNow).ok());
    ASSERT_TRUE(t.AddFile("resources/pods/namespaces/a/p.json", "{}", kNow).ok());
  });
  ReadBack r = Read(gz);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.version, "1");
  EXPECT_THAT(r.items, ElementsAre("pods|a|p|{}"));
  EXPECT_EQ(r.skipped, 2u);
}

TEST(BackupContentsReaderTest, UnknownFormatVersionIsRefused) {
  std::string gz = Compress([](archive::TarWriter& t) {
    ASSERT_TRUE(t.AddFile("metadata/version", "2.0.0\n", kNow).ok());
  });
  ReadBack r = Read(gz);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status.message(), HasSubstr("\"2.0.0\""));
}

TEST(BackupContentsReaderTest, CutOrCorruptTarballsAreErrors) {
  std::string gz = WrittenByArca();
  EXPECT_EQ(Read(gz.substr(0, gz.size() - 7)).status.code(), StatusCode::kDataLoss);
  std::string flipped = gz;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_EQ(Read(flipped).status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(Read("not a tarball at all").status.code(), StatusCode::kDataLoss);
}

TEST(BackupContentsReaderTest, StreamsFromAStore) {
  auto root =
      std::filesystem::temp_directory_path() / ("arca-reader-test-" + std::to_string(::getpid()));
  auto store = objstore::FsStore::Open(root, true);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const objstore::ObjectKey key("backups/b1/b1.tar.gz");
  {
    backup::PipedUpload upload(**store, key, 1 << 16);
    backup::BackupContentsWriter w(upload.Sink(), {}, kNow);
    ASSERT_TRUE(w.Begin().ok());
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(w.AddItem({"", "v1", "configmaps", "ConfigMap", "ns", "cm-" + std::to_string(i)},
                            "{\"i\":" + std::to_string(i) + "}")
                      .ok());
    }
    ASSERT_TRUE(w.Finish().ok());
    ASSERT_TRUE(upload.Finish().ok());
  }
  int count = 0;
  BackupContentsReader reader([&](const BackupItem& item) {
    EXPECT_EQ(item.json, "{\"i\":" + item.path.name.substr(3) + "}");
    ++count;
    return OkStatus();
  });
  Result<objstore::ObjectInfo> info = (*store)->Get(key, reader.Sink());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(reader.Finish().ok());
  EXPECT_EQ(count, 1000);
  EXPECT_EQ(reader.items(), 1000u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace arca::restore
