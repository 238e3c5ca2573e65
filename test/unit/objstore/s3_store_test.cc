// S3Store against a scripted transport: request building, retries, error mapping, multipart
// uploads and download checks, with no server and no real time.
#include "objstore/s3_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "objstore/hash.h"
#include "test/unit/objstore/fake_transport.h"

namespace arca::objstore {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using testing::ErrorXml;
using testing::FakeTransport;
using ::testing::HasSubstr;
using testing::MakeResponse;
using testing::RecordedRequest;
using testing::Scripted;
using ::testing::StartsWith;

S3Config BaseConfig() {
  S3Config config;
  config.bucket = BucketName("velero");
  config.region = "us-east-1";
  config.s3_url = "http://127.0.0.1:9000";
  return config;
}

Credentials TestCredentials() {
  return {"AKID", "SECRET", "", "profile 'default' in /credentials/cloud"};
}

class S3StoreTest : public ::testing::Test {
 protected:
  // Makes the store under test with `handler` answering its requests.
  void Make(FakeTransport::Handler handler, S3Config config = BaseConfig(),
            S3Settings settings = {}) {
    auto transport = std::make_unique<FakeTransport>(std::move(handler));
    transport_ = transport.get();
    settings.retry.jitter = 0;  // exact waits
    store_ = std::make_unique<S3Store>(std::move(config), TestCredentials(), settings,
                                       std::move(transport), clock_);
  }

  SimulatedClock clock_{std::chrono::system_clock::from_time_t(1700000000)};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<S3Store> store_;
};

TEST_F(S3StoreTest, AddressingStyleFollowsConfigAndEndpoint) {
  const auto ok = [](const RecordedRequest&) { return Scripted{MakeResponse(200)}; };
  Make(ok);  // an IP endpoint is always path-style
  EXPECT_TRUE(store_->UsesPathStyle());
  ASSERT_TRUE(store_->PutString(ObjectKey("a b/c+d~ü"), "x").ok());
  EXPECT_EQ(transport_->requests()[0].url, "http://127.0.0.1:9000/velero/a%20b/c%2Bd~%C3%BC");
  EXPECT_EQ(transport_->requests()[0].Header("host"), "127.0.0.1:9000");

  S3Config aws = BaseConfig();
  aws.s3_url.clear();
  aws.region = "eu-west-1";
  Make(ok, aws);
  EXPECT_FALSE(store_->UsesPathStyle());
  ASSERT_TRUE(store_->PutString(ObjectKey("k"), "x").ok());
  EXPECT_EQ(transport_->requests()[0].url, "https://velero.s3.eu-west-1.amazonaws.com/k");
  EXPECT_EQ(transport_->requests()[0].Header("host"), "velero.s3.eu-west-1.amazonaws.com");
  EXPECT_THAT(transport_->requests()[0].Header("authorization"),
              HasSubstr("/eu-west-1/s3/aws4_request"));

  aws.force_path_style = true;
  Make(ok, aws);
  ASSERT_TRUE(store_->PutString(ObjectKey("k"), "x").ok());
  EXPECT_EQ(transport_->requests()[0].url, "https://s3.eu-west-1.amazonaws.com/velero/k");

  S3Config dotted = BaseConfig();
  dotted.s3_url = "https://s3.example.com";
  dotted.bucket = BucketName("my.bucket");  // TLS certificates cannot cover dotted names
  Make(ok, dotted);
  EXPECT_TRUE(store_->UsesPathStyle());
}

TEST_F(S3StoreTest, PutSendsIntegrityTaggingAndEncryptionHeaders) {
  S3Config config = BaseConfig();
  config.tagging = "team=infra";
  config.kms_key_id = "alias/velero";
  Make([](const RecordedRequest&) { return Scripted{MakeResponse(200)}; }, config);
  ASSERT_TRUE(store_->PutString(ObjectKey("backups/b1/velero-backup.json"), "123456789").ok());
  const RecordedRequest req = transport_->requests().at(0);
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.body, "123456789");
  EXPECT_EQ(req.Header("content-md5"), Base64Encode(Md5("123456789")));
  EXPECT_EQ(req.Header("x-amz-checksum-crc32"), "y/Q5Jg==");  // CRC32 check value cbf43926
  EXPECT_EQ(req.Header("x-amz-tagging"), "team=infra");
  EXPECT_EQ(req.Header("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(req.Header("x-amz-server-side-encryption-aws-kms-key-id"), "alias/velero");
  EXPECT_EQ(req.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_THAT(req.Header("authorization"),
              HasSubstr("SignedHeaders=content-md5;content-type;host;x-amz-checksum-crc32;"
                        "x-amz-content-sha256;x-amz-date;x-amz-server-side-encryption;"
                        "x-amz-server-side-encryption-aws-kms-key-id;x-amz-tagging"));
}

TEST_F(S3StoreTest, CustomerKeyIsSentOnUploadAndDownload) {
  S3Config config = BaseConfig();
  config.customer_key = std::string(32, 'K');
  config.checksum_algorithm = ChecksumAlgorithm::kNone;
  Make(
      [](const RecordedRequest& r) {
        return Scripted{r.method == "GET" ? MakeResponse(200, "data", {{"content-length", "4"}})
                                          : MakeResponse(200)};
      },
      config);
  ASSERT_TRUE(store_->PutString(ObjectKey("k"), "data").ok());
  ASSERT_TRUE(store_->GetString(ObjectKey("k")).ok());
  for (const RecordedRequest& req : transport_->requests()) {
    EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-algorithm"), "AES256");
    EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-key"),
              Base64Encode(std::string(32, 'K')));
    EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-key-md5"),
              Base64Encode(Md5(std::string(32, 'K'))));
    EXPECT_EQ(req.Header("x-amz-checksum-crc32"), "");
  }
}

TEST_F(S3StoreTest, RetriesSlowDownWithBackoffOnTheClock) {
  std::atomic<int> calls{0};
  Make([&](const RecordedRequest&) {
    if (++calls <= 2) {
      return Scripted{MakeResponse(503, ErrorXml("SlowDown", "Please reduce your request rate"))};
    }
    return Scripted{MakeResponse(200)};
  });
  ASSERT_TRUE(store_->PutString(ObjectKey("k"), "x").ok());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_THAT(clock_.Sleeps(),
              ElementsAre(nanoseconds(milliseconds(100)), nanoseconds(milliseconds(400))));
  // Every attempt re-sent the whole body.
  for (const RecordedRequest& req : transport_->requests()) {
    EXPECT_EQ(req.body, "x");
  }
}

TEST_F(S3StoreTest, RetriesConnectionFailuresThenGivesUp) {
  S3Settings settings;
  settings.retry.max_attempts = 3;
  Make([](const RecordedRequest&) { return Scripted{UnavailableError("connection reset")}; },
       BaseConfig(), settings);
  Status s = store_->Delete(ObjectKey("k"));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("connection reset"));
  EXPECT_EQ(transport_->requests().size(), 3u);
  EXPECT_EQ(clock_.Sleeps().size(), 2u);
}

TEST_F(S3StoreTest, AccessDeniedIsReportedAtOnceWithTheCredentialsSource) {
  Make([](const RecordedRequest&) {
    return Scripted{MakeResponse(403, ErrorXml("InvalidAccessKeyId", "bad key", "R42"))};
  });
  Status s = store_->PutString(ObjectKey("k"), "x");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("access denied to bucket 'velero' at endpoint "
                                     "http://127.0.0.1:9000"));
  EXPECT_THAT(s.message(), HasSubstr("InvalidAccessKeyId: bad key, request id R42"));
  EXPECT_THAT(s.message(),
              HasSubstr("check the credentials in profile 'default' in /credentials/cloud"));
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_TRUE(clock_.Sleeps().empty());
}

TEST_F(S3StoreTest, MapsS3ErrorsByWhatTheCallerShouldDo) {
  const S3ErrorContext ctx{"GetObject 'k'", "velero", "k", "http://h:9000", "env"};
  const auto map = [&](int status, const std::string& code) {
    S3Error e;
    e.code = code;
    e.request_id = "RID";
    return MapS3Error(status, e, ctx);
  };
  const Status no_bucket = map(404, "NoSuchBucket");
  EXPECT_EQ(no_bucket.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_bucket.message(),
              HasSubstr("bucket 'velero' not found at endpoint http://h:9000 (NoSuchBucket"));
  EXPECT_THAT(no_bucket.message(), HasSubstr("request id RID"));
  const Status no_key = map(404, "NoSuchKey");
  EXPECT_EQ(no_key.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_key.message(), HasSubstr("object 'k' in bucket 'velero' not found"));
  EXPECT_EQ(map(404, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(map(403, "AccessDenied").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(map(403, "SignatureDoesNotMatch").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(map(503, "SlowDown").code(), StatusCode::kUnavailable);
  EXPECT_EQ(map(500, "InternalError").code(), StatusCode::kUnavailable);
  EXPECT_EQ(map(400, "RequestTimeout").code(), StatusCode::kUnavailable);
  EXPECT_EQ(map(429, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(map(400, "BadDigest").code(), StatusCode::kDataLoss);
  EXPECT_EQ(map(400, "InvalidArgument").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(map(412, "PreconditionFailed").code(), StatusCode::kFailedPrecondition);
  S3Error redirect;
  redirect.code = "PermanentRedirect";
  redirect.region = "eu-west-1";
  const Status wrong_region = MapS3Error(301, redirect, ctx);
  EXPECT_EQ(wrong_region.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong_region.message(), HasSubstr("set the config key region"));
  EXPECT_THAT(wrong_region.message(), HasSubstr("'eu-west-1'"));
}

TEST_F(S3StoreTest, HeadErrorsCarryTheRequestIdHeader) {
  Make([](const RecordedRequest& r) {
    if (r.url.ends_with("/velero")) {
      return Scripted{MakeResponse(200)};  // the bucket exists
    }
    return Scripted{MakeResponse(404, "", {{"x-amz-request-id", "HEADREQ"}})};
  });
  auto info = store_->Head(ObjectKey("gone"));
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(info.status().message(), HasSubstr("request id HEADREQ"));
  auto exists = store_->Exists(ObjectKey("gone"));
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(S3StoreTest, ExistsReportsAMissingBucketAsAnError) {
  Make([](const RecordedRequest&) { return Scripted{MakeResponse(404)}; });
  auto exists = store_->Exists(ObjectKey("k"));
  EXPECT_EQ(exists.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(exists.status().message(), HasSubstr("bucket 'velero' not found"));
}

TEST_F(S3StoreTest, MultipartUploadSendsBoundedPartsAndCompletes) {
  constexpr size_t kPart = S3Settings::kMinPartSize;
  const std::string data(2 * kPart + 1000, 'z');
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  S3Settings settings;
  settings.part_size = kPart;
  settings.concurrency = 2;
  Make(
      [&](const RecordedRequest& r) {
        if (r.method == "POST" && r.url.ends_with("?uploads=")) {
          return Scripted{MakeResponse(200,
                                       "<InitiateMultipartUploadResult><UploadId>UP1</UploadId>"
                                       "</InitiateMultipartUploadResult>")};
        }
        if (r.method == "PUT") {
          const int now = ++in_flight;
          max_in_flight = std::max(max_in_flight.load(), now);
          --in_flight;
          const std::string number = r.url.substr(r.url.find("partNumber=") + 11, 1);
          return Scripted{MakeResponse(200, "", {{"etag", "\"e" + number + "\""}})};
        }
        return Scripted{MakeResponse(200,
                                     "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                                     "</CompleteMultipartUploadResult>")};
      },
      BaseConfig(), settings);
  ASSERT_TRUE(store_->PutString(ObjectKey("big"), data).ok());
  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].Header("x-amz-checksum-algorithm"), "CRC32");
  size_t sent = 0;
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(requests[i].method, "PUT");
    EXPECT_THAT(requests[i].url, HasSubstr("uploadId=UP1"));
    EXPECT_LE(requests[i].body.size(), kPart);
    EXPECT_EQ(requests[i].Header("content-md5"), Base64Encode(Md5(requests[i].body)));
    EXPECT_FALSE(requests[i].Header("x-amz-checksum-crc32").empty());
    sent += requests[i].body.size();
  }
  EXPECT_EQ(sent, data.size());
  EXPECT_LE(max_in_flight.load(), 2);
  const RecordedRequest& complete = requests[4];
  EXPECT_EQ(complete.method, "POST");
  EXPECT_THAT(complete.url, EndsWith("/velero/big?uploadId=UP1"));
  EXPECT_THAT(complete.body, HasSubstr("<PartNumber>1</PartNumber><ETag>\"e1\"</ETag>"));
  EXPECT_THAT(complete.body, HasSubstr("<PartNumber>3</PartNumber><ETag>\"e3\"</ETag>"));
  EXPECT_THAT(complete.body, HasSubstr("<ChecksumCRC32>"));
}

TEST_F(S3StoreTest, FailedPartAbortsTheUpload) {
  S3Settings settings;
  settings.part_size = S3Settings::kMinPartSize;
  settings.concurrency = 1;
  Make(
      [&](const RecordedRequest& r) {
        if (r.method == "POST") {
          return Scripted{MakeResponse(200,
                                       "<InitiateMultipartUploadResult><UploadId>UP9</UploadId>"
                                       "</InitiateMultipartUploadResult>")};
        }
        if (r.method == "PUT") {
          return Scripted{MakeResponse(403, ErrorXml("AccessDenied"))};
        }
        return Scripted{MakeResponse(204)};
      },
      BaseConfig(), settings);
  Status s = store_->PutString(ObjectKey("big"), std::string(3 * S3Settings::kMinPartSize, 'a'));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  const auto requests = transport_->requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests.back().method, "DELETE");
  EXPECT_THAT(requests.back().url, EndsWith("?uploadId=UP9"));
  // It stopped reading after the failure instead of sending every part.
  EXPECT_LT(std::count_if(requests.begin(), requests.end(),
                          [](const RecordedRequest& r) { return r.method == "PUT"; }),
            3);
}

TEST_F(S3StoreTest, GetChecksTheEtagAndTheServerChecksum) {
  std::string etag = "\"" + HexEncode(Md5("payload")) + "\"";
  std::string crc = "";
  Make([&](const RecordedRequest&) {
    http::Headers headers = {{"etag", etag}, {"content-length", "7"}};
    if (!crc.empty()) {
      headers.emplace_back("x-amz-checksum-crc32", crc);
    }
    return Scripted{MakeResponse(200, "payload", headers)};
  });
  auto got = store_->GetString(ObjectKey("k"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(transport_->requests()[0].Header("x-amz-checksum-mode"), "ENABLED");

  etag = "\"" + HexEncode(Md5("other")) + "\"";
  EXPECT_EQ(store_->GetString(ObjectKey("k")).status().code(), StatusCode::kDataLoss);

  etag = "\"abc-2\"";  // multipart ETags are not an MD5 of the body
  Hasher h(Hasher::Kind::kCrc32);
  h.Update("payload");
  crc = Base64Encode(h.Final());
  EXPECT_TRUE(store_->GetString(ObjectKey("k")).ok());
  crc = "AAAAAA==";
  auto bad = store_->GetString(ObjectKey("k"));
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("CRC32"));
}

TEST_F(S3StoreTest, GetVerifiesACompositeChecksumPartByPart) {
  // A multipart object of 3 parts of at most 4 bytes: its CRC32 is the CRC32 of the parts' CRC32s.
  const std::string body = "payload-data";
  std::string parts;
  for (size_t off = 0; off < body.size(); off += 4) {
    Hasher part(Hasher::Kind::kCrc32);
    part.Update(body.substr(off, 4));
    parts += part.Final();
  }
  Hasher whole(Hasher::Kind::kCrc32);
  whole.Update(parts);
  std::string composite = Base64Encode(whole.Final()) + "-3";
  Make([&](const RecordedRequest& r) {
    if (r.method == "HEAD") {
      return Scripted{MakeResponse(200, "", {{"content-length", "4"}, {"etag", "\"abc-3\""}})};
    }
    return Scripted{MakeResponse(200, body,
                                 {{"etag", "\"abc-3\""},
                                  {"content-length", std::to_string(body.size())},
                                  {"x-amz-checksum-crc32", composite}})};
  });
  auto got = store_->GetString(ObjectKey("k"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 3u);  // GET stopped at its headers, HEAD of part 1, GET
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "HEAD");
  EXPECT_THAT(requests[1].url, EndsWith("?partNumber=1"));
  EXPECT_EQ(requests[2].method, "GET");

  composite = "AAAAAA==-3";
  auto bad = store_->GetString(ObjectKey("k"));
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("composite CRC32"));
}

TEST_F(S3StoreTest, GetWithoutAnEtagIsNotResumedOnceBytesReachedTheSink) {
  Make([](const RecordedRequest&) {
    Scripted s{MakeResponse(200, "partial", {{"content-length", "100"}})};
    s.fail_after_body = UnavailableError("connection reset");
    return s;
  });
  std::string out;
  auto info = store_->Get(ObjectKey("k"), [&](std::string_view c) {
    out.append(c);
    return OkStatus();
  });
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 1u);
  EXPECT_EQ(out, "partial");
}

TEST_F(S3StoreTest, GetResumesACutDownloadWithRangeAndIfMatch) {
  const std::string etag = "\"" + HexEncode(Md5("hello world")) + "\"";
  Make([&](const RecordedRequest& r) {
    if (r.Header("range").empty()) {
      Scripted s{MakeResponse(200, "hello ", {{"etag", etag}, {"content-length", "11"}})};
      s.fail_after_body = UnavailableError("connection reset by peer");
      return s;
    }
    return Scripted{MakeResponse(
        206, "world",
        {{"etag", etag}, {"content-length", "5"}, {"content-range", "bytes 6-10/11"}})};
  });
  auto got = store_->GetString(ObjectKey("k"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello world");
  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Header("range"), "bytes=6-");
  EXPECT_EQ(requests[1].Header("if-match"), etag);
  EXPECT_EQ(clock_.Sleeps().size(), 1u);
}

TEST_F(S3StoreTest, GetFailsWhenTheObjectChangesWhileResuming) {
  Make([](const RecordedRequest& r) {
    if (r.Header("range").empty()) {
      Scripted s{MakeResponse(200, "old ", {{"etag", "\"v1\""}, {"content-length", "8"}})};
      s.fail_after_body = UnavailableError("connection reset by peer");
      return s;
    }
    return Scripted{MakeResponse(412, ErrorXml("PreconditionFailed"))};
  });
  auto got = store_->GetString(ObjectKey("k"));
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("changed while it was being downloaded"));
}

TEST_F(S3StoreTest, GetRefusesAResumeThatIgnoresTheRange) {
  Make([](const RecordedRequest& r) {
    Scripted s{MakeResponse(200, "abc", {{"etag", "\"v1\""}, {"content-length", "6"}})};
    if (r.Header("range").empty()) {
      s.fail_after_body = UnavailableError("connection reset by peer");
    }
    return s;
  });
  EXPECT_EQ(store_->GetString(ObjectKey("k")).status().code(), StatusCode::kDataLoss);
}

// Environment with one credentials file and nothing else.
class OneFileEnvironment : public Environment {
 public:
  std::optional<std::string> Get(const std::string&) override { return std::nullopt; }
  Result<std::string> ReadFile(const std::string& path) override {
    if (path == "/creds") {
      return std::string("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n");
    }
    return NotFoundError("cannot read " + path);
  }
};

TEST_F(S3StoreTest, CreateDiscoversTheRegionOfAnAwsBucket) {
  OneFileEnvironment env;
  auto transport = std::make_unique<FakeTransport>([](const RecordedRequest& r) {
    if (r.method == "HEAD" && r.url == "https://s3.amazonaws.com/velero") {
      return Scripted{MakeResponse(301, "", {{"x-amz-bucket-region", "eu-central-1"}})};
    }
    return Scripted{MakeResponse(200)};
  });
  FakeTransport* fake = transport.get();
  auto store = S3Store::Create({{"bucket", "velero"}, {"credentialsFile", "/creds"}}, {}, env,
                               clock_, std::move(transport));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Config().region, "eu-central-1");
  ASSERT_TRUE((*store)->PutString(ObjectKey("k"), "x").ok());
  EXPECT_EQ(fake->requests().back().url, "https://velero.s3.eu-central-1.amazonaws.com/k");
  EXPECT_THAT(fake->requests().back().Header("authorization"),
              HasSubstr("Credential=AK/20231114/eu-central-1/s3/aws4_request"));
}

TEST_F(S3StoreTest, CreateDefaultsACustomEndpointToUsEast1AndChecksInputs) {
  OneFileEnvironment env;
  const auto ok = [](const RecordedRequest&) { return Scripted{MakeResponse(200)}; };
  auto store = S3Store::Create(
      {{"bucket", "velero"}, {"s3Url", "http://minio:9000"}, {"credentialsFile", "/creds"}}, {},
      env, clock_, std::make_unique<FakeTransport>(ok));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Config().region, "us-east-1");
  EXPECT_FALSE((*store)->UsesPathStyle());  // a DNS name: virtual-hosted unless forced

  EXPECT_EQ(S3Store::Create({{"bucket", "b"}, {"credentialsFile", "/missing"}}, {}, env, clock_,
                            std::make_unique<FakeTransport>(ok))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(S3Store::Create({{"bucket", "b"}, {"customerKeyEncryptionSecret", "s/k"}}, {}, env,
                            clock_, std::make_unique<FakeTransport>(ok))
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(S3Store::Create({{"bucket", "b"}, {"unknownKey", "1"}}, {}, env, clock_,
                            std::make_unique<FakeTransport>(ok))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, ListBuildsTheQueryAndDecodesKeys) {
  Make([](const RecordedRequest&) {
    return Scripted{MakeResponse(
        200,
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
        "<Contents><Key>backups%2Fa%20b</Key><Size>3</Size></Contents>"
        "<NextContinuationToken>tok/2=</NextContinuationToken></ListBucketResult>")};
  });
  ListOptions options;
  options.prefix = "backups/";
  options.delimiter = "/";
  options.continuation_token = "tok/1=";
  options.max_keys = 5000;
  auto page = store_->List(options);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->objects.at(0).key.value(), "backups/a b");
  EXPECT_EQ(page->next_continuation_token, "tok/2=");
  EXPECT_EQ(transport_->requests()[0].url,
            "http://127.0.0.1:9000/velero?continuation-token=tok%2F1%3D&delimiter=%2F"
            "&encoding-type=url&list-type=2&max-keys=1000&prefix=backups%2F");
}

TEST_F(S3StoreTest, DeleteManyBatchesByAThousandAndReportsFailures) {
  Make([](const RecordedRequest& r) {
    if (r.body.find("<Key>k1500</Key>") != std::string::npos) {
      return Scripted{MakeResponse(200,
                                   "<DeleteResult><Error><Key>k1500</Key><Code>AccessDenied"
                                   "</Code><Message>no</Message></Error></DeleteResult>")};
    }
    return Scripted{MakeResponse(200, "<DeleteResult/>")};
  });
  std::vector<ObjectKey> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.emplace_back("k" + std::to_string(i));
  }
  Status s = store_->DeleteMany(keys);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), StartsWith("1 of 2500 deletes failed"));
  EXPECT_THAT(s.message(), HasSubstr("k1500"));
  const auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const RecordedRequest& r : requests) {
    EXPECT_THAT(r.url, EndsWith("/velero?delete="));
    EXPECT_EQ(r.Header("content-md5"), Base64Encode(Md5(r.body)));
    EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex(r.body));
  }
  EXPECT_EQ(std::count(requests[0].body.begin(), requests[0].body.end(), 'K') / 2, 1000);
}

TEST_F(S3StoreTest, PresignUsesThePublicUrlAndChecksExpiry) {
  S3Config config = BaseConfig();
  config.public_url = "https://backups.example.com:8443";
  Make([](const RecordedRequest&) { return Scripted{MakeResponse(200)}; }, config);
  auto url = store_->PresignGet(ObjectKey("backups/b 1.tar.gz"), std::chrono::minutes(10));
  ASSERT_TRUE(url.ok());
  EXPECT_THAT(*url, StartsWith("https://backups.example.com:8443/velero/backups/b%201.tar.gz?"
                               "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F"
                               "20231114%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
                               "20231114T221320Z&X-Amz-Expires=600&X-Amz-Signature="));
  EXPECT_THAT(*url, EndsWith("&X-Amz-SignedHeaders=host"));
  EXPECT_TRUE(transport_->requests().empty());  // presigning is pure
  EXPECT_EQ(store_->PresignGet(ObjectKey("k"), std::chrono::hours(24 * 8)).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::objstore
