// S3Store against the real MinIO of the test environment (test/testenv). Run through
// with-testenv.sh, which exports AWS_ENDPOINT_URL, S3_BUCKET, AWS_REGION and
// AWS_SHARED_CREDENTIALS_FILE; without them every test fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "http/curl_transport.h"
#include "objstore/hash.h"
#include "objstore/s3_store.h"
#include "support/peak_rss.h"

namespace arca::objstore {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string Env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v == nullptr ? "" : v;
}

// Runs a shell command; returns its exit code and stdout.
int Shell(const std::string& command, std::string* out = nullptr) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return -1;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    if (out != nullptr) {
      out->append(buffer, n);
    }
  }
  const int rc = ::pclose(pipe);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using arca::test_support::PeakRssKiB;
using arca::test_support::ResetPeakRss;

// A deterministic byte stream of `size` bytes, cheap to produce and to check.
class PatternReader {
 public:
  explicit PatternReader(uint64_t size, uint64_t seed = 1) : size_(size), state_(seed) {}
  Result<size_t> operator()(std::span<char> buffer) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size_ - offset_));
    for (size_t i = 0; i < n; ++i) {
      state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      buffer[i] = static_cast<char>(state_ >> 56);
    }
    hasher_.Update(std::string_view(buffer.data(), n));
    offset_ += n;
    return n;
  }
  std::string Digest() { return HexEncode(hasher_.Final()); }

 private:
  uint64_t size_;
  uint64_t offset_ = 0;
  uint64_t state_;
  Hasher hasher_{Hasher::Kind::kSha256};
};

class S3StoreIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("AWS_ENDPOINT_URL");
    bucket_ = Env("S3_BUCKET");
    credentials_file_ = Env("AWS_SHARED_CREDENTIALS_FILE");
    ASSERT_FALSE(endpoint_.empty() || bucket_.empty() || credentials_file_.empty())
        << "the test environment is not set; run this through test/integration/with-testenv.sh";
    prefix_ = "it-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
    store_ = MakeStore(bucket_, credentials_file_);
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    if (store_ == nullptr) {
      return;
    }
    auto all = store_->ListAll(prefix_, "");
    if (all.ok()) {
      std::vector<ObjectKey> keys;
      for (const auto& o : all->objects) {
        keys.push_back(o.key);
      }
      store_->DeleteMany(keys).IgnoreError();
    }
  }

  std::unique_ptr<S3Store> MakeStore(const std::string& bucket, const std::string& creds,
                                     S3Settings settings = {}) {
    std::map<std::string, std::string> config = {{"bucket", bucket},
                                                 {"region", Env("AWS_REGION")},
                                                 {"s3Url", endpoint_},
                                                 {"s3ForcePathStyle", "true"},
                                                 {"credentialsFile", creds}};
    auto store = S3Store::Create(config, settings, SystemEnvironment(), RealClock());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  ObjectKey Key(const std::string& name) const { return ObjectKey(prefix_ + name); }

  std::string Aws(const std::string& args) const {
    return "aws --endpoint-url '" + endpoint_ + "' --region '" + Env("AWS_REGION") + "' " + args;
  }

  std::string endpoint_;
  std::string bucket_;
  std::string credentials_file_;
  std::string prefix_;
  std::unique_ptr<S3Store> store_;
};

TEST_F(S3StoreIntegrationTest, EveryInterfaceCall) {
  const ObjectKey key = Key("dir/a key with spaces+plus~tilde ünï.json");
  ASSERT_TRUE(store_->PutString(key, "{\"hello\":1}").ok());

  auto body = store_->GetString(key);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"hello\":1}");

  auto info = store_->Head(key);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(info->etag, HexEncode(Md5("{\"hello\":1}")));

  EXPECT_TRUE(*store_->Exists(key));
  auto missing = store_->Exists(Key("nope"));
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(*missing);
  auto get_missing = store_->GetString(Key("nope"));
  EXPECT_EQ(get_missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(get_missing.status().message(), HasSubstr("NoSuchKey"));
  EXPECT_EQ(store_->Head(Key("nope")).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->PutString(Key("dir/sub/x"), "x").ok());
  ASSERT_TRUE(store_->PutString(Key("top"), "").ok());
  auto listed = store_->ListAll(prefix_, "/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_THAT(listed->common_prefixes, ::testing::ElementsAre(prefix_ + "dir/"));
  ASSERT_THAT(listed->objects, SizeIs(1));
  EXPECT_EQ(listed->objects[0].key, Key("top"));
  EXPECT_EQ(listed->objects[0].size, 0u);
  auto deep = store_->ListAll(prefix_ + "dir/", "");
  ASSERT_TRUE(deep.ok());
  ASSERT_THAT(deep->objects, SizeIs(2));
  EXPECT_EQ(deep->objects[0].key, key);  // keys come back decoded, exactly as written

  auto url = store_->PresignGet(key, std::chrono::minutes(10));
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  std::string fetched;
  EXPECT_EQ(Shell("curl -fsS '" + *url + "'", &fetched), 0) << *url;
  EXPECT_EQ(fetched, "{\"hello\":1}");

  ASSERT_TRUE(store_->Delete(key).ok());
  EXPECT_FALSE(*store_->Exists(key));
  EXPECT_TRUE(store_->Delete(key).ok());  // deleting twice is fine

  std::vector<ObjectKey> rest = {Key("dir/sub/x"), Key("top"), Key("never-existed")};
  ASSERT_TRUE(store_->DeleteMany(rest).ok());
  auto empty = store_->ListAll(prefix_, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
}

TEST_F(S3StoreIntegrationTest, LargeObjectStreamsUpAndDownInBoundedMemory) {
  constexpr uint64_t kSize = 200ULL << 20;
  constexpr long kMaxGrowthKiB = 64L << 10;
  const ObjectKey key = Key("big.bin");

  ResetPeakRss();
  const long before_put = PeakRssKiB();
  PatternReader reader(kSize);
  PutOptions options;
  options.size_hint = static_cast<int64_t>(kSize);
  Status put = store_->Put(key, std::ref(reader), options);
  ASSERT_TRUE(put.ok()) << put.ToString();
  const long put_growth = PeakRssKiB() - before_put;
  const std::string sent = reader.Digest();

  ResetPeakRss();
  const long before_get = PeakRssKiB();
  Hasher got_hash(Hasher::Kind::kSha256);
  uint64_t got = 0;
  auto info = store_->Get(key, [&](std::string_view chunk) {
    got_hash.Update(chunk);
    got += chunk.size();
    return OkStatus();
  });
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const long get_growth = PeakRssKiB() - before_get;

  EXPECT_EQ(got, kSize);
  EXPECT_EQ(info->size, kSize);
  EXPECT_EQ(HexEncode(got_hash.Final()), sent);
  EXPECT_THAT(info->etag, HasSubstr("-"));  // it really went up as a multipart upload
  std::printf("peak RSS growth: put %ld KiB, get %ld KiB (object %llu KiB)\n", put_growth,
              get_growth, static_cast<unsigned long long>(kSize >> 10));
  EXPECT_LT(put_growth, kMaxGrowthKiB);
  EXPECT_LT(get_growth, kMaxGrowthKiB);
}

TEST_F(S3StoreIntegrationTest, PaginatesOver2500Keys) {
  constexpr int kKeys = 2500;
  constexpr int kThreads = 8;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kKeys; i = next++) {
        char name[32];
        std::snprintf(name, sizeof(name), "k/%05d", i);
        if (!store_->PutString(Key(name), name).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  ASSERT_EQ(failures.load(), 0);

  ListOptions options;
  options.prefix = prefix_ + "k/";
  std::vector<std::string> keys;
  int pages = 0;
  while (true) {
    auto page = store_->List(options);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& o : page->objects) {
      keys.push_back(o.key.value());
    }
    if (page->next_continuation_token.empty()) {
      break;
    }
    options.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(keys.size(), static_cast<size_t>(kKeys));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.front(), prefix_ + "k/00000");
  EXPECT_EQ(keys.back(), prefix_ + "k/02499");

  // Batches of 1000 go to DeleteObjects three times.
  std::vector<ObjectKey> all;
  for (const auto& k : keys) {
    all.emplace_back(k);
  }
  ASSERT_TRUE(store_->DeleteMany(all).ok());
  auto after = store_->ListAll(prefix_ + "k/", "");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->objects.empty());
}

TEST_F(S3StoreIntegrationTest, WrongCredentialsArePermissionDenied) {
  const std::filesystem::path bad =
      std::filesystem::temp_directory_path() / ("arca-bad-creds-" + std::to_string(::getpid()));
  std::ofstream(bad) << "[default]\naws_access_key_id = arca-test\n"
                        "aws_secret_access_key = not-the-secret\n";
  auto store = MakeStore(bucket_, bad.string());
  ASSERT_NE(store, nullptr);
  Status put = store->PutString(Key("x"), "x");
  EXPECT_EQ(put.code(), StatusCode::kPermissionDenied) << put.ToString();
  EXPECT_THAT(put.message(),
              HasSubstr("check the credentials in profile 'default' in " + bad.string()));
  EXPECT_THAT(put.message(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_EQ(store->GetString(Key("x")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store->List({}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store->Exists(Key("x")).status().code(), StatusCode::kPermissionDenied);
  std::filesystem::remove(bad);
}

TEST_F(S3StoreIntegrationTest, MissingBucketIsNotFoundNamingTheBucket) {
  const std::string missing = "arca-no-such-bucket-" + std::to_string(::getpid());
  auto store = MakeStore(missing, credentials_file_);
  ASSERT_NE(store, nullptr);
  Status put = store->PutString(ObjectKey("x"), "x");
  EXPECT_EQ(put.code(), StatusCode::kNotFound) << put.ToString();
  EXPECT_THAT(put.message(),
              HasSubstr("bucket '" + missing + "' not found at endpoint " + endpoint_));
  for (const Status& s : {store->GetString(ObjectKey("x")).status(), store->List({}).status(),
                          store->Exists(ObjectKey("x")).status(), store->CheckBucket()}) {
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("'" + missing + "'"));
  }
}

TEST_F(S3StoreIntegrationTest, InteropWithAwsCliBothWays) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("arca-interop-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // Arca writes (small and multipart), aws reads.
  for (const uint64_t size : {uint64_t{1000}, uint64_t{20} << 20}) {
    const ObjectKey key = Key("arca-wrote-" + std::to_string(size));
    PatternReader reader(size, size);
    ASSERT_TRUE(store_->Put(key, std::ref(reader)).ok());
    const std::filesystem::path local = dir / ("from-arca-" + std::to_string(size));
    ASSERT_EQ(Shell(Aws("s3 cp --only-show-errors 's3://" + bucket_ + "/" + key.value() + "' '" +
                        local.string() + "'")),
              0);
    EXPECT_EQ(Sha256Hex(ReadFile(local)), reader.Digest());
    // The object carries the CRC32 checksum Arca sent, which aws reports back.
    std::string head;
    ASSERT_EQ(Shell(Aws("s3api head-object --checksum-mode ENABLED --bucket '" + bucket_ +
                        "' --key '" + key.value() + "'"),
                    &head),
              0);
    EXPECT_THAT(head, HasSubstr("ChecksumCRC32"));
  }
  // aws writes (small and multipart), Arca reads and verifies.
  for (const uint64_t size : {uint64_t{777}, uint64_t{24} << 20}) {
    const std::filesystem::path local = dir / ("to-arca-" + std::to_string(size));
    PatternReader reader(size, size + 7);
    {
      std::string data(size, '\0');
      ASSERT_TRUE(reader(std::span<char>(data)).ok());
      std::ofstream(local, std::ios::binary) << data;
    }
    const ObjectKey key = Key("aws-wrote-" + std::to_string(size));
    ASSERT_EQ(Shell(Aws("s3 cp --only-show-errors '" + local.string() + "' 's3://" + bucket_ + "/" +
                        key.value() + "'")),
              0);
    Hasher h(Hasher::Kind::kSha256);
    auto info = store_->Get(key, [&](std::string_view chunk) {
      h.Update(chunk);
      return OkStatus();
    });
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size, size);
    EXPECT_EQ(HexEncode(h.Final()), reader.Digest());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(S3StoreIntegrationTest, PresignedUrlWorksWithPlainCurlAndExpires) {
  const ObjectKey key = Key("shared/report ü+.txt");
  ASSERT_TRUE(store_->PutString(key, "presigned body").ok());
  auto url = store_->PresignGet(key, std::chrono::seconds(600));
  ASSERT_TRUE(url.ok());
  std::string out;
  ASSERT_EQ(Shell("curl -fsS '" + *url + "'", &out), 0);
  EXPECT_EQ(out, "presigned body");

  auto short_lived = store_->PresignGet(key, std::chrono::seconds(1));
  ASSERT_TRUE(short_lived.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  // Expired: refused (MinIO answers 400 AccessDenied "Request has expired"; AWS a 403).
  std::string expired;
  EXPECT_NE(Shell("curl -fsS '" + *short_lived + "' 2>/dev/null", &expired), 0);
  expired.clear();
  Shell("curl -sS '" + *short_lived + "'", &expired);
  EXPECT_THAT(expired, HasSubstr("<Code>AccessDenied</Code>"));
  EXPECT_THAT(expired, HasSubstr("expired"));
  // A tampered signature is refused too.
  std::string tampered = *url;
  const size_t sig = tampered.find("X-Amz-Signature=") + std::strlen("X-Amz-Signature=");
  ASSERT_LT(sig, tampered.size());
  tampered[sig] = tampered[sig] == '0' ? '1' : '0';
  std::string refused;
  Shell("curl -sS -w '%{http_code}' '" + tampered + "'", &refused);
  EXPECT_THAT(refused, HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(refused, ::testing::EndsWith("403"));
}

TEST_F(S3StoreIntegrationTest, FailedMultipartUploadIsAborted) {
  const ObjectKey key = Key("aborted.bin");
  S3Settings settings;
  settings.part_size = S3Settings::kMinPartSize;
  settings.concurrency = 2;
  auto store = MakeStore(bucket_, credentials_file_, settings);
  ASSERT_NE(store, nullptr);
  PatternReader pattern(64ULL << 20);
  uint64_t given = 0;
  Status s = store->Put(key, [&](std::span<char> buffer) -> Result<size_t> {
    if (given > (12ULL << 20)) {
      return DataLossError("source archive is corrupt");
    }
    Result<size_t> n = pattern(buffer);
    given += *n;
    return n;
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(*store->Exists(key), false);
  std::string uploads;
  ASSERT_EQ(Shell(Aws("s3api list-multipart-uploads --bucket '" + bucket_ + "' --prefix '" +
                      key.value() + "' --output json"),
                  &uploads),
            0);
  EXPECT_THAT(uploads, ::testing::Not(HasSubstr("UploadId"))) << uploads;
}

// Run by objstore_tls_test.sh, which starts a MinIO serving HTTPS with a certificate from its
// own CA and passes TLS_ENDPOINT, TLS_BUCKET, TLS_CA_FILE and TLS_CREDENTIALS_FILE.
class S3StoreTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("TLS_ENDPOINT").empty() || Env("TLS_CA_FILE").empty())
        << "run this through test/integration/objstore_tls_test.sh";
  }

  Result<std::unique_ptr<S3Store>> Make(std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> config = {{"bucket", Env("TLS_BUCKET")},
                                                 {"region", "us-east-1"},
                                                 {"s3Url", Env("TLS_ENDPOINT")},
                                                 {"credentialsFile", Env("TLS_CREDENTIALS_FILE")}};
    config.insert(extra.begin(), extra.end());
    return S3Store::Create(config, S3Settings{}, SystemEnvironment(), RealClock());
  }
};

TEST_F(S3StoreTlsTest, TrustsTheCaCertFromTheConfig) {
  auto store = Make({{"caCert", ReadFile(Env("TLS_CA_FILE"))}});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->PutString(ObjectKey("tls/object"), "over tls").ok());
  EXPECT_EQ(*(*store)->GetString(ObjectKey("tls/object")), "over tls");
  auto url = (*store)->PresignGet(ObjectKey("tls/object"), std::chrono::minutes(1));
  ASSERT_TRUE(url.ok());
  std::string fetched;
  EXPECT_EQ(Shell("curl -fsS --cacert '" + Env("TLS_CA_FILE") + "' '" + *url + "'", &fetched), 0);
  EXPECT_EQ(fetched, "over tls");
}

TEST_F(S3StoreTlsTest, RefusesAnUntrustedCertificateWithAHint) {
  auto store = Make({});
  ASSERT_TRUE(store.ok());
  Status s = (*store)->PutString(ObjectKey("tls/refused"), "x");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("caCert"));
  // Another CA's bundle does not help either.
  auto wrong = Make({{"caCert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE((*wrong)->PutString(ObjectKey("tls/refused"), "x").code(), StatusCode::kOk);
}

TEST_F(S3StoreTlsTest, InsecureSkipTlsVerifyAcceptsAnyCertificate) {
  auto store = Make({{"insecureSkipTLSVerify", "true"}});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->PutString(ObjectKey("tls/insecure"), "ok").ok());
  EXPECT_EQ(*(*store)->GetString(ObjectKey("tls/insecure")), "ok");
}

TEST_F(S3StoreTlsTest, NegotiatesHttp2OverTls) {
  // MinIO answers over HTTP/1.1 only; the kube-apiserver offers HTTP/2.
  ASSERT_FALSE(Env("KUBE_SERVER").empty());
  http::TransportOptions options;
  options.ca_file = Env("KUBE_CA_FILE");
  http::CurlTransport transport(options);
  http::Request req;
  req.url = Env("KUBE_SERVER") + "/livez";
  auto resp = transport.Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->http_version, 2);
  req.url = Env("TLS_ENDPOINT") + "/minio/health/live";
  http::TransportOptions minio_options;
  minio_options.ca_file = Env("TLS_CA_FILE");
  http::CurlTransport minio_transport(minio_options);
  auto minio = minio_transport.Send(req);
  ASSERT_TRUE(minio.ok()) << minio.status().ToString();
  EXPECT_EQ(minio->http_version, 1);

  options.http2 = false;
  http::CurlTransport http1(options);
  req.url = Env("KUBE_SERVER") + "/livez";
  auto forced = http1.Send(req);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->http_version, 1);
}

}  // namespace
}  // namespace arca::objstore
