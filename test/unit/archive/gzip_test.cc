#include "archive/gzip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libdeflate.h>

#include <random>
#include <string>

namespace arca::archive {
namespace {

using ::testing::HasSubstr;

// Compressible but not trivial: JSON-ish text with random numbers.
std::string SampleData(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < size) {
    out += "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-" + std::to_string(rng()) +
           "\"},\"data\":{\"k\":\"" + std::to_string(rng()) + "\"}}\n";
  }
  out.resize(size);
  return out;
}

std::string Compress(std::string_view data, GzipOptions options, size_t write_chunk = 65536) {
  std::string out;
  GzipWriter gz(
      [&out](std::string_view d) {
        out.append(d);
        return OkStatus();
      },
      options);
  for (size_t off = 0; off < data.size(); off += write_chunk) {
    EXPECT_TRUE(gz.Write(data.substr(off, write_chunk)).ok());
  }
  EXPECT_TRUE(gz.Finish().ok());
  EXPECT_EQ(gz.bytes_in(), data.size());
  EXPECT_EQ(gz.bytes_out(), out.size());
  return out;
}

Result<std::string> Decompress(std::string_view data, size_t chunk = 4096) {
  std::string out;
  GunzipStream gunzip([&out](std::string_view d) {
    out.append(d);
    return OkStatus();
  });
  for (size_t off = 0; off < data.size(); off += chunk) {
    RETURN_IF_ERROR(gunzip.Write(data.substr(off, chunk)));
  }
  RETURN_IF_ERROR(gunzip.Finish());
  return out;
}

TEST(GzipTest, RoundTripAcrossCodecsWorkersAndBlockSizes) {
  std::string data = SampleData(3 * 1000 * 1000 + 17, 1);
  for (GzipCodec codec : {GzipCodec::kIgzip, GzipCodec::kLibdeflate}) {
    for (int workers : {0, 1, 2, 4}) {
      for (size_t block : {size_t{4096}, size_t{100000}, size_t{1} << 20}) {
        GzipOptions o;
        o.codec = codec;
        o.level = codec == GzipCodec::kIgzip ? 1 : 6;
        o.workers = workers;
        o.block_size = block;
        std::string gz = Compress(data, o);
        const std::string what = std::to_string(static_cast<int>(codec)) + "/" +
                                 std::to_string(workers) + "/" + std::to_string(block);
        // igzip needs bigger blocks than libdeflate to compress well; the writer's are 1 MiB.
        EXPECT_LT(gz.size(), block >= 100000 || codec == GzipCodec::kLibdeflate
                                 ? data.size() / 2
                                 : data.size() * 2 / 3)
            << what;
        Result<std::string> back = Decompress(gz);
        ASSERT_TRUE(back.ok()) << back.status().ToString();
        EXPECT_EQ(*back, data) << what;
      }
    }
  }
}

TEST(GzipTest, EveryLevelOfBothCodecsRoundTrips) {
  std::string data = SampleData(600 * 1000, 3);
  for (int level = -1; level <= 13; ++level) {  // out-of-range levels are clamped
    for (GzipCodec codec : {GzipCodec::kIgzip, GzipCodec::kLibdeflate}) {
      GzipOptions o;
      o.codec = codec;
      o.level = level;
      o.block_size = 256 << 10;
      Result<std::string> back = Decompress(Compress(data, o));
      ASSERT_TRUE(back.ok()) << level << ": " << back.status().ToString();
      EXPECT_EQ(*back, data) << level;
    }
  }
}

TEST(GzipTest, IncompressibleBlocksStillRoundTrip) {
  // Random bytes do not fit igzip's output buffer (input size plus a margin) at every level;
  // such a block goes through libdeflate instead.
  std::mt19937 rng(7);
  std::string data(3 << 20, '\0');
  for (char& c : data) {
    c = static_cast<char>(rng());
  }
  for (int level : {0, 1, 3}) {
    GzipOptions o;
    o.level = level;
    std::string gz = Compress(data, o);
    EXPECT_LT(gz.size(), data.size() + data.size() / 100) << level;
    Result<std::string> back = Decompress(gz);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, data) << level;
  }
}

TEST(GzipTest, IgzipIsTheDefault) {
  GzipOptions o;
  EXPECT_EQ(o.codec, GzipCodec::kIgzip);
  EXPECT_EQ(o.level, 1);
}

TEST(GzipTest, OutputIsMultiMemberGzip) {
  GzipOptions o;
  o.block_size = 4096;
  std::string gz = Compress(SampleData(4096 * 3, 2), o);
  // Each member starts with the gzip magic and deflate method.
  size_t members = 0;
  for (size_t pos = gz.find("\x1f\x8b\x08"); pos != std::string::npos;
       pos = gz.find("\x1f\x8b\x08", pos + 1)) {
    ++members;
  }
  EXPECT_GE(members, 3u);
  EXPECT_EQ(gz.substr(0, 3), "\x1f\x8b\x08");
}

TEST(GzipTest, EmptyInputIsValidGzip) {
  std::string gz = Compress("", {});
  EXPECT_FALSE(gz.empty());
  Result<std::string> back = Decompress(gz);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "");
}

TEST(GzipTest, OutputStreamsBeforeFinish) {
  // With a small block, compressed members reach the sink while input is still being written:
  // the writer never holds the whole stream.
  size_t sink_bytes = 0;
  GzipOptions o;
  o.block_size = 4096;
  o.workers = 2;
  GzipWriter gz(
      [&](std::string_view d) {
        sink_bytes += d.size();
        return OkStatus();
      },
      o);
  std::string data = SampleData(4096 * 64, 3);
  ASSERT_TRUE(gz.Write(data).ok());
  EXPECT_GT(sink_bytes, 0u);
  ASSERT_TRUE(gz.Finish().ok());
  EXPECT_EQ(sink_bytes, gz.bytes_out());
}

TEST(GzipTest, SinkErrorIsReturned) {
  GzipOptions o;
  o.block_size = 4096;
  o.workers = 2;
  GzipWriter gz([](std::string_view) { return UnavailableError("upload failed"); }, o);
  Status s = gz.Write(SampleData(4096 * 16, 4));
  if (s.ok()) {
    s = gz.Finish();
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(gz.Finish().code(), StatusCode::kUnavailable);
}

TEST(GunzipTest, CorruptDataIsDataLoss) {
  std::string gz = Compress(SampleData(200000, 5), {});
  gz[gz.size() / 2] ^= 0x55;
  Result<std::string> back = Decompress(gz);
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
}

TEST(GunzipTest, TruncatedIsDataLoss) {
  std::string gz = Compress(SampleData(200000, 6), {});
  Result<std::string> back = Decompress(gz.substr(0, gz.size() - 10));
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(back.status().message(), HasSubstr("truncated"));
}

TEST(GunzipTest, NotGzipIsDataLoss) {
  EXPECT_EQ(Decompress("PK\x03\x04 this is a zip file").status().code(), StatusCode::kDataLoss);
  Result<std::string> empty = Decompress("");
  EXPECT_EQ(empty.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
}

TEST(GunzipTest, TrailingGarbageIsDataLoss) {
  std::string gz = Compress("hello", {}) + "garbage!";
  EXPECT_EQ(Decompress(gz).status().code(), StatusCode::kDataLoss);
}

// A gzip member as other writers make it: optional header fields (FEXTRA, FNAME, FCOMMENT,
// FHCRC) before the deflate data, which the decoder must skip (and check, for FHCRC).
std::string MemberWithHeaderFields(std::string_view data) {
  std::string out = {'\x1f', '\x8b', '\x08', '\x1e', 0, 0, 0, 0, 0, '\x03'};  // flags 2|4|8|16
  out += std::string(
      "\x04\x00"
      "ab\x01\x00",
      6);  // XLEN 4, then one subfield "ab" of 1 byte
  out += std::string("backup.tar") + '\0';
  out += std::string("a comment") + '\0';
  const uint32_t header_crc = libdeflate_crc32(0, out.data(), out.size()) & 0xffff;
  out += static_cast<char>(header_crc & 0xff);
  out += static_cast<char>(header_crc >> 8);
  libdeflate_compressor* c = libdeflate_alloc_compressor(6);
  std::string deflated(libdeflate_deflate_compress_bound(c, data.size()), '\0');
  deflated.resize(
      libdeflate_deflate_compress(c, data.data(), data.size(), deflated.data(), deflated.size()));
  libdeflate_free_compressor(c);
  out += deflated;
  const uint32_t crc = libdeflate_crc32(0, data.data(), data.size());
  const auto size = static_cast<uint32_t>(data.size());
  for (uint32_t v : {crc, size}) {
    for (int i = 0; i < 4; ++i) {
      out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
  }
  return out;
}

TEST(GunzipTest, MembersWithOptionalHeaderFieldsAmongPlainOnes) {
  const std::string a = SampleData(70000, 8);
  const std::string b = SampleData(5000, 9);
  const std::string gz = MemberWithHeaderFields(a) + Compress(b, {}) + MemberWithHeaderFields(b);
  for (size_t chunk : {size_t{1}, size_t{13}, size_t{4096}, gz.size()}) {
    Result<std::string> back = Decompress(gz, chunk);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, a + b + b) << "chunk " << chunk;
  }
  std::string bad = MemberWithHeaderFields(a);
  bad[bad.size() - 6] ^= 1;  // the CRC-32 in the trailer
  Result<std::string> back = Decompress(bad);
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(back.status().message(), HasSubstr("CRC-32"));
  bad = MemberWithHeaderFields(a);
  bad[38] ^= 1;  // the header's CRC-16
  back = Decompress(bad, 5);
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(back.status().message(), HasSubstr("CRC-16"));
  bad = MemberWithHeaderFields(a);
  bad[2] = 9;  // not deflate
  EXPECT_THAT(Decompress(bad).status().message(), HasSubstr("not deflate"));
  // A name that never ends.
  std::string endless = {'\x1f', '\x8b', '\x08', '\x08', 0, 0, 0, 0, 0, '\x03'};
  endless += std::string((1 << 20) + 10, 'n');
  back = Decompress(endless, 65536);
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(back.status().message(), HasSubstr("longer than 1 MiB"));
}

TEST(GunzipTest, ByteAtATime) {
  std::string data = SampleData(300000, 7);
  GzipOptions o;
  o.block_size = 65536;
  Result<std::string> back = Decompress(Compress(data, o), 1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
}

TEST(GunzipTest, HighlyCompressibleDataCrossesOutputBuffer) {
  // Megabytes of zeros compress to a few KiB: one input chunk yields many output buffers.
  std::string data(5 << 20, '\0');
  Result<std::string> back = Decompress(Compress(data, {}), 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size(), data.size());
}

}  // namespace
}  // namespace arca::archive
