#include "archive/tar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace arca::archive {
namespace {

using ::testing::HasSubstr;

const auto kTime = std::chrono::system_clock::time_point(std::chrono::seconds(1764158400));

struct Written {
  std::string bytes;
  ByteSink Sink() {
    return [this](std::string_view d) {
      bytes.append(d);
      return OkStatus();
    };
  }
};

std::string MakeTar(const std::vector<std::pair<std::string, std::string>>& files) {
  Written w;
  TarWriter tar(w.Sink());
  for (const auto& [name, content] : files) {
    EXPECT_TRUE(tar.AddFile(name, content, kTime).ok()) << name;
  }
  EXPECT_TRUE(tar.Finish().ok());
  return w.bytes;
}

struct ReadResult {
  Status status;
  std::vector<std::pair<std::string, std::string>> entries;
  uint64_t skipped = 0;
};

// Feeds `archive` to a reader in chunks of `chunk` bytes.
ReadResult ReadTar(std::string_view archive, size_t chunk = 1 << 20, TarReaderLimits limits = {}) {
  ReadResult r;
  TarReader reader(
      [&r](const TarEntry& e) {
        r.entries.emplace_back(e.name, std::string(e.content));
        return OkStatus();
      },
      limits);
  for (size_t off = 0; off < archive.size() && r.status.ok(); off += chunk) {
    r.status = reader.Write(archive.substr(off, chunk));
  }
  if (r.status.ok()) {
    r.status = reader.Finish();
  }
  r.skipped = reader.skipped_entries();
  return r;
}

// A raw ustar header block with a correct checksum, for building hostile archives.
std::string RawHeader(const std::string& name, uint64_t size, char type) {
  std::string b(512, '\0');
  std::memcpy(b.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(b.data() + 100, 8, "%07o", 0644);
  std::snprintf(b.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(b.data() + 136, 12, "%011o", 0);
  b[156] = type;
  std::memcpy(b.data() + 257, "ustar", 6);
  std::memcpy(b.data() + 263, "00", 2);
  std::memset(b.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : b) {
    sum += c;
  }
  std::snprintf(b.data() + 148, 8, "%06o", sum);
  return b;
}

std::string Padded(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

TEST(TarTest, RoundTripInAnyChunking) {
  std::string big(70000, 'x');
  big[12345] = 'y';
  std::vector<std::pair<std::string, std::string>> files = {
      {"metadata/version", "1.1.0\n"},
      {"resources/pods/namespaces/default/web-0.json", "{\"kind\":\"Pod\"}"},
      {"resources/empty/cluster/nothing.json", ""},
      {"resources/configmaps/namespaces/a/exact-512.json", std::string(512, 'q')},
      {"resources/secrets/namespaces/a/big.json", big},
  };
  std::string archive = MakeTar(files);
  EXPECT_EQ(archive.size() % 512, 0u);
  for (size_t chunk : {1ul, 7ul, 511ul, 512ul, 513ul, 4096ul, 1ul << 20}) {
    ReadResult r = ReadTar(archive, chunk);
    ASSERT_TRUE(r.status.ok()) << chunk << ": " << r.status.ToString();
    EXPECT_EQ(r.entries, files) << "chunk " << chunk;
  }
}

TEST(TarTest, HeaderFieldsMatchVelero) {
  std::string archive = MakeTar({{"metadata/version", "1.1.0\n"}});
  // name, mode 0755, regular file, ustar magic, mtime.
  EXPECT_EQ(std::string(archive.data(), 16), "metadata/version");
  EXPECT_EQ(std::string(archive.data() + 100, 7), "0000755");
  EXPECT_EQ(archive[156], '0');
  EXPECT_EQ(std::string(archive.data() + 257, 5), "ustar");
  EXPECT_EQ(std::string(archive.data() + 136, 11), "15111565700");  // 1764158400 in octal
  EXPECT_EQ(std::string(archive.data() + 512, 6), "1.1.0\n");
  // Data padded to a block, then two zero blocks.
  EXPECT_EQ(archive.size(), 512u + 512u + 1024u);
}

TEST(TarTest, LongNamesUseUstarPrefixOrPax) {
  std::string ns(63, 'n');
  std::string name(253, 'o');  // the longest Kubernetes object name
  std::string medium = "resources/configmaps.example.com/namespaces/" + ns + "/" + "x.json";
  std::string longest = "resources/configmaps/namespaces/" + ns + "/" + name + ".json";
  std::string archive = MakeTar({{medium, "a"}, {longest, "b"}});
  ReadResult r = ReadTar(archive, 100);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].first, medium);
  EXPECT_EQ(r.entries[1].first, longest);
  // The first fits ustar's prefix/name split; the second needs a PAX header.
  EXPECT_EQ(archive[156], '0');
  EXPECT_NE(archive.find("path=" + longest), std::string::npos);
}

TEST(TarTest, WriterRefusesUnsafeNames) {
  Written w;
  TarWriter tar(w.Sink());
  for (const char* bad : {"", "/etc/passwd", "a/../b", "../x", "a//b", "a/./b", "dir/"}) {
    Status s = tar.AddFile(bad, "x", kTime);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(tar.AddFile(std::string("a\0b", 3), "x", kTime).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tar.entries(), 0u);
}

TEST(TarTest, SinkErrorStopsTheWriter) {
  TarWriter tar([](std::string_view) { return UnavailableError("bucket went away"); });
  Status s = tar.AddFile("a.json", "{}", kTime);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "bucket went away");
}

TEST(TarReaderTest, RefusesPathTraversal) {
  for (const char* bad : {"../../etc/cron.d/evil", "/etc/passwd", "resources/../../x"}) {
    std::string archive = RawHeader(bad, 1, '0') + Padded("x") + std::string(1024, '\0');
    ReadResult r = ReadTar(archive);
    EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(r.status.message(), HasSubstr("hostile tarball")) << bad;
    EXPECT_TRUE(r.entries.empty());
  }
}

TEST(TarReaderTest, RefusesTraversalThroughPaxPath) {
  std::string records = "29 path=../../../../tmp/evil\n";
  ASSERT_EQ(records.size(), 29u);
  std::string archive = RawHeader("PaxHeaders.0/evil", records.size(), 'x') + Padded(records) +
                        RawHeader("innocent.json", 1, '0') + Padded("x") + std::string(1024, '\0');
  ReadResult r = ReadTar(archive);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("'..' segment"));
}

TEST(TarReaderTest, ChecksumMismatchIsDataLoss) {
  std::string archive = MakeTar({{"a.json", "{}"}});
  archive[10] ^= 0x20;  // flip a bit in the name
  ReadResult r = ReadTar(archive);
  EXPECT_EQ(r.status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status.message(), HasSubstr("checksum"));
}

TEST(TarReaderTest, NotATarballIsDataLoss) {
  std::string junk(2048, 'A');
  ReadResult r = ReadTar(junk);
  EXPECT_EQ(r.status.code(), StatusCode::kDataLoss);
}

TEST(TarReaderTest, TruncationIsDataLoss) {
  std::string archive = MakeTar({{"a.json", std::string(2000, 'a')}, {"b.json", "b"}});
  // Inside the first entry's content, and inside the second header.
  for (size_t cut : {size_t{700}, size_t{512 + 2048 + 100}}) {
    ReadResult r = ReadTar(archive.substr(0, cut));
    EXPECT_EQ(r.status.code(), StatusCode::kDataLoss) << cut;
    EXPECT_THAT(r.status.message(), HasSubstr("truncated")) << cut;
  }
  // Ending cleanly on an entry boundary without the end marker is accepted, as tar does.
  ReadResult r = ReadTar(archive.substr(0, 512 + 2048));
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.entries.size(), 1u);
}

TEST(TarReaderTest, HugeClaimedSizeIsRefusedBeforeAllocating) {
  std::string archive = RawHeader("resources/x/cluster/big.json", 077777777777ull, '0');
  ReadResult r = ReadTar(archive);
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status.message(), HasSubstr("big.json"));

  TarReaderLimits limits;
  limits.max_entry_size = 10;
  r = ReadTar(MakeTar({{"a.json", std::string(11, 'a')}}), 1 << 20, limits);
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
}

TEST(TarReaderTest, HugePaxHeaderIsRefused) {
  std::string archive = RawHeader("PaxHeaders.0/x", 1ull << 30, 'x');
  ReadResult r = ReadTar(archive);
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
}

TEST(TarReaderTest, MalformedPaxIsDataLoss) {
  std::string records = "99 path=short\n";
  std::string archive =
      RawHeader("PaxHeaders.0/x", records.size(), 'x') + Padded(records) + std::string(1024, '\0');
  EXPECT_EQ(ReadTar(archive).status.code(), StatusCode::kDataLoss);
}

TEST(TarReaderTest, LinksAndDirectoriesAreSkippedNotFollowed) {
  std::string archive = RawHeader("resources/", 0, '5') + RawHeader("evil-link", 0, '2') +
                        RawHeader("hard", 0, '1') + RawHeader("fifo", 0, '6') +
                        RawHeader("ok.json", 2, '0') + Padded("{}") + std::string(1024, '\0');
  ReadResult r = ReadTar(archive);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].first, "ok.json");
  EXPECT_EQ(r.skipped, 4u);
}

TEST(TarReaderTest, GnuLongNamesAreRead) {
  std::string long_name = "resources/a/cluster/" + std::string(150, 'z') + ".json";
  std::string archive = RawHeader("././@LongLink", long_name.size() + 1, 'L') +
                        Padded(long_name + std::string(1, '\0')) + RawHeader("truncated", 1, '0') +
                        Padded("v") + std::string(1024, '\0');
  ReadResult r = ReadTar(archive, 3);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].first, long_name);
}

TEST(TarReaderTest, HandlerErrorStopsReading) {
  std::string archive = MakeTar({{"a.json", "1"}, {"b.json", "2"}});
  int calls = 0;
  TarReader reader([&](const TarEntry&) {
    ++calls;
    return AbortedError("stop");
  });
  EXPECT_EQ(reader.Write(archive).code(), StatusCode::kAborted);
  EXPECT_EQ(reader.Finish().code(), StatusCode::kAborted);
  EXPECT_EQ(calls, 1);
}

TEST(TarReaderTest, GarbageAfterEndIsIgnored) {
  std::string archive = MakeTar({{"a.json", "1"}}) + std::string(300, 'G');
  ReadResult r = ReadTar(archive);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.entries.size(), 1u);
}

}  // namespace
}  // namespace arca::archive

namespace arca::archive {
namespace {

// Random corruption of a valid archive must end in an error or a clean read, never a crash, a
// hang or an entry with an unsafe name.
TEST(TarReaderTest, SurvivesRandomCorruption) {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 20; ++i) {
    files.emplace_back("resources/configmaps/namespaces/ns/" + std::string(90 + i * 5, 'a') +
                           std::to_string(i) + ".json",
                       std::string(static_cast<size_t>(i) * 97, 'x'));
  }
  const std::string archive = MakeTar(files);
  std::mt19937 rng(42);
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bad = archive;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    if (rng() % 4 == 0) {
      bad.resize(rng() % bad.size());
    }
    ReadResult r = ReadTar(bad, 1 + rng() % 2000);
    for (const auto& [name, content] : r.entries) {
      ASSERT_TRUE(ValidateEntryName(name).ok()) << name;
    }
    errors += r.status.ok() ? 0 : 1;
  }
  // Most corruptions hit a checksum, a name or the length; some land in content and read fine.
  EXPECT_GT(errors, 1000);
}

}  // namespace
}  // namespace arca::archive
