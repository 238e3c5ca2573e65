// SigV4 checked against AWS's published test vectors (test/testdata/sigv4, see its README) and
// against S3's own rules for keys.
#include "objstore/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/uri.h"
#include "objstore/hash.h"

namespace arca::objstore {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kTestData = ARCA_TESTDATA_DIR "/sigv4";

std::chrono::system_clock::time_point Utc(int year, int month, int day, int hour, int minute,
                                          int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Parses a raw request in the test suite's format: request line, header lines (a line starting
// with a space continues the previous header as a further value), a blank line, the body.
SigningRequest ParseRawRequest(const std::string& raw, std::string* body) {
  SigningRequest req;
  std::istringstream in(raw);
  std::string line;
  std::getline(in, line);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  req.method = line.substr(0, sp1);
  const std::string uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = uri.find('?');
  req.path = uri.substr(0, q);
  if (q != std::string::npos) {
    std::string query = uri.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      const size_t amp = std::min(query.find('&', start), query.size());
      const std::string pair = query.substr(start, amp - start);
      const size_t eq = pair.find('=');
      req.query.emplace_back(
          *http::UriDecode(pair.substr(0, eq), false),
          eq == std::string::npos ? "" : *http::UriDecode(pair.substr(eq + 1), false));
      start = amp + 1;
    }
  }
  while (std::getline(in, line) && !line.empty()) {
    if (line.front() == ' ' && !req.headers.empty()) {
      req.headers.emplace_back(req.headers.back().first, line);
      continue;
    }
    const size_t colon = line.find(':');
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::stringstream rest;
  rest << in.rdbuf();
  *body = rest.str();
  return req;
}

std::vector<std::string> CasesIn(const std::string& group) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kTestData / group)) {
    names.push_back(group + "/" + entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string name = param_info.param.substr(param_info.param.find('/') + 1);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class SigV4CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4CorpusTest, MatchesPublishedVector) {
  const fs::path dir = kTestData / GetParam();
  const bool s3 = GetParam().starts_with("s3/");
  std::string body;
  SigningRequest req = ParseRawRequest(ReadText(dir / "request.txt"), &body);
  Credentials creds;
  std::string service;
  std::chrono::system_clock::time_point now;
  if (s3) {
    creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    service = "s3";
    now = Utc(2013, 5, 24, 0, 0, 0);
    for (const auto& [name, value] : req.headers) {
      if (name == "x-amz-content-sha256") {
        req.payload_hash = value;
      }
    }
    EXPECT_EQ(req.payload_hash, Sha256Hex(body));
  } else {
    creds.access_key_id = "AKIDEXAMPLE";
    creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    service = "service";
    now = Utc(2015, 8, 30, 12, 36, 0);
    req.payload_hash = Sha256Hex(body);
  }
  if (fs::exists(dir / "creq.txt")) {
    EXPECT_EQ(CanonicalRequest(req), ReadText(dir / "creq.txt"));
  }
  if (fs::exists(dir / "sts.txt")) {
    const std::string date = FormatAmzDate(now);
    EXPECT_EQ(StringToSign(date, CredentialScope(date.substr(0, 8), "us-east-1", service),
                           CanonicalRequest(req)),
              ReadText(dir / "sts.txt"));
  }
  EXPECT_EQ(SignRequest(req, creds, "us-east-1", service, now), ReadText(dir / "authz.txt"));
  EXPECT_EQ(req.headers.back().first, "authorization");
}

INSTANTIATE_TEST_SUITE_P(Suite, SigV4CorpusTest, ::testing::ValuesIn(CasesIn("suite")), CaseName);
INSTANTIATE_TEST_SUITE_P(S3, SigV4CorpusTest, ::testing::ValuesIn(CasesIn("s3")), CaseName);

TEST(SigV4Test, PresignedUrlMatchesTheS3DocumentationExample) {
  SigningRequest req;
  req.method = "GET";
  req.path = "/test.txt";
  req.headers = {{"host", "examplebucket.s3.amazonaws.com"}};
  Credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", ""};
  PresignRequest(req, creds, "us-east-1", "s3", Utc(2013, 5, 24, 0, 0, 0),
                 std::chrono::seconds(86400));
  EXPECT_EQ(CanonicalQueryString(req.query),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            "&X-Amz-SignedHeaders=host");
}

TEST(SigV4Test, CanonicalUriEncodesKeysOnceWithS3Rules) {
  EXPECT_EQ(CanonicalUri("/bucket/my file.txt"), "/bucket/my%20file.txt");
  EXPECT_EQ(CanonicalUri("/bucket/a+b"), "/bucket/a%2Bb");
  EXPECT_EQ(CanonicalUri("/bucket/a~b_c-d.e"), "/bucket/a~b_c-d.e");
  EXPECT_EQ(CanonicalUri("/bucket/ünïcødé/ሴ"), "/bucket/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%E1%88%B4");
  // Already-encoded-looking text is not decoded: S3 does not double-encode, so '%' is a byte.
  EXPECT_EQ(CanonicalUri("/bucket/100%20"), "/bucket/100%2520");
  // No normalisation: dot segments and double slashes are part of the key.
  EXPECT_EQ(CanonicalUri("/bucket/a/../b//c"), "/bucket/a/../b//c");
  EXPECT_EQ(CanonicalUri(""), "/");
}

TEST(SigV4Test, CanonicalQueryEncodesAndSorts) {
  EXPECT_EQ(CanonicalQueryString({{"prefix", "backups/a b+"},
                                  {"list-type", "2"},
                                  {"continuation-token", "1/2=3"},
                                  {"delete", ""}}),
            "continuation-token=1%2F2%3D3&delete=&list-type=2&prefix=backups%2Fa%20b%2B");
}

TEST(SigV4Test, SignRequestAddsDateContentHashAndSessionToken) {
  SigningRequest req;
  req.method = "PUT";
  req.path = "/bucket/key";
  req.headers = {{"Host", "127.0.0.1:9000"}, {"X-Amz-Date", "stale"}};
  req.payload_hash = std::string(kUnsignedPayload);
  Credentials creds{"AK", "SK", "TOKEN", ""};
  const std::string authz = SignRequest(req, creds, "eu-west-1", "s3", Utc(2024, 1, 2, 3, 4, 5));
  EXPECT_THAT(authz,
              StartsWith("AWS4-HMAC-SHA256 Credential=AK/20240102/eu-west-1/s3/aws4_request, "
                         "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                         "x-amz-security-token, Signature="));
  const std::string creq = CanonicalRequest(req);
  EXPECT_THAT(creq, HasSubstr("x-amz-date:20240102T030405Z\n"));
  EXPECT_THAT(creq, HasSubstr("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
  EXPECT_THAT(creq, HasSubstr("x-amz-security-token:TOKEN\n"));
  // Signing again replaces rather than duplicates.
  const std::string again = SignRequest(req, creds, "eu-west-1", "s3", Utc(2024, 1, 2, 3, 4, 5));
  EXPECT_EQ(again, authz);
  EXPECT_EQ(std::count_if(req.headers.begin(), req.headers.end(),
                          [](const auto& h) { return h.first == "authorization"; }),
            1);
}

TEST(HashTest, KnownDigestsAndChecksums) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadHash);
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Base64Encode(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(*Base64Decode("1B2M2Y8AsgTpgAmY7PhCfg=="), Md5(""));
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_EQ(Base64Decode("abc").status().code(), StatusCode::kInvalidArgument);
  // The standard check value of each CRC over "123456789".
  Hasher crc32(Hasher::Kind::kCrc32);
  crc32.Update("1234");
  crc32.Update("56789");
  EXPECT_EQ(HexEncode(crc32.Final()), "cbf43926");
  Hasher crc32c(Hasher::Kind::kCrc32c);
  crc32c.Update("123456789");
  EXPECT_EQ(HexEncode(crc32c.Final()), "e3069283");
  // Long inputs in uneven pieces (the accelerated code works in blocks) against a bit-at-a-time
  // reference of each polynomial.
  const auto reference = [](uint32_t poly, std::string_view data) {
    uint32_t c = 0xffffffffU;
    for (const char ch : data) {
      c ^= static_cast<unsigned char>(ch);
      for (int k = 0; k < 8; ++k) {
        c = (c & 1U) != 0 ? (c >> 1) ^ poly : c >> 1;
      }
    }
    return ~c;
  };
  std::string data;
  for (uint32_t i = 0; data.size() < 100000; ++i) {
    data += static_cast<char>((i * 2654435761U) >> 24);
  }
  for (const auto& [kind, poly] : {std::pair{Hasher::Kind::kCrc32, 0xEDB88320U},
                                   std::pair{Hasher::Kind::kCrc32c, 0x82F63B78U}}) {
    Hasher h(kind);
    for (size_t pos = 0, step = 1; pos < data.size(); pos += step, step = step * 3 % 4093 + 1) {
      h.Update(std::string_view(data).substr(pos, step));
    }
    const uint32_t want = reference(poly, data);
    const std::string big_endian = {static_cast<char>(want >> 24), static_cast<char>(want >> 16),
                                    static_cast<char>(want >> 8), static_cast<char>(want)};
    EXPECT_EQ(h.Final(), big_endian);
  }
  Hasher sha1(Hasher::Kind::kSha1);
  sha1.Update("abc");
  EXPECT_EQ(HexEncode(sha1.Final()), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HashTest, ParsesVeleroChecksumAlgorithms) {
  EXPECT_EQ(*ParseChecksumAlgorithm(""), ChecksumAlgorithm::kNone);
  EXPECT_EQ(*ParseChecksumAlgorithm("CRC32"), ChecksumAlgorithm::kCrc32);
  EXPECT_EQ(*ParseChecksumAlgorithm("crc32c"), ChecksumAlgorithm::kCrc32c);
  EXPECT_EQ(*ParseChecksumAlgorithm("SHA1"), ChecksumAlgorithm::kSha1);
  EXPECT_EQ(*ParseChecksumAlgorithm("SHA256"), ChecksumAlgorithm::kSha256);
  EXPECT_EQ(ParseChecksumAlgorithm("MD5").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::objstore
