#include "objstore/s3_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::objstore {
namespace {

using ::testing::HasSubstr;

// An Environment with scripted variables and files.
class FakeEnvironment : public Environment {
 public:
  std::optional<std::string> Get(const std::string& name) override {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) {
      return NotFoundError("cannot read " + path);
    }
    return it->second;
  }
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> files;
};

constexpr const char* kCloudSecret = R"(# Velero's cloud secret
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/default+key

[backup]
aws_access_key_id=AKIDBACKUP
aws_secret_access_key=backupsecret
aws_session_token = token123

[profile shared]
aws_access_key_id = AKIDSHARED
aws_secret_access_key = sharedsecret
)";

TEST(S3ConfigTest, ParsesEveryVeleroKey) {
  auto config = ParseS3Config({{"bucket", "velero"},
                               {"prefix", "cluster-a"},
                               {"region", "minio"},
                               {"s3ForcePathStyle", "true"},
                               {"s3Url", "http://minio.velero.svc:9000/"},
                               {"publicUrl", "https://backups.example.com"},
                               {"insecureSkipTLSVerify", "False"},
                               {"caCert", "-----BEGIN CERTIFICATE-----"},
                               {"profile", "backup"},
                               {"credentialsFile", "/credentials/cloud"},
                               {"serverSideEncryption", "AES256"},
                               {"tagging", "team=infra&env=prod%20a"},
                               {"checksumAlgorithm", "SHA256"},
                               {"signatureVersion", "4"},
                               {"enableSharedConfig", "1"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->bucket.value(), "velero");
  EXPECT_EQ(config->prefix, "cluster-a");
  EXPECT_EQ(config->region, "minio");
  EXPECT_TRUE(config->force_path_style);
  EXPECT_EQ(config->s3_url, "http://minio.velero.svc:9000");
  EXPECT_EQ(config->public_url, "https://backups.example.com");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->ca_cert, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(config->profile, "backup");
  EXPECT_EQ(config->credentials_file, "/credentials/cloud");
  EXPECT_EQ(config->server_side_encryption, "AES256");
  EXPECT_EQ(config->tagging, "team=infra&env=prod%20a");
  EXPECT_EQ(config->checksum_algorithm, ChecksumAlgorithm::kSha256);
  EXPECT_TRUE(config->enable_shared_config);
}

TEST(S3ConfigTest, DefaultsMatchVelero) {
  auto config = ParseS3Config({{"bucket", "b"}});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->force_path_style);
  EXPECT_EQ(config->checksum_algorithm, ChecksumAlgorithm::kCrc32);  // CRC32 when absent
  EXPECT_TRUE(config->region.empty());
  EXPECT_EQ(ParseS3Config({{"bucket", "b"}, {"checksumAlgorithm", ""}})->checksum_algorithm,
            ChecksumAlgorithm::kNone);
}

TEST(S3ConfigTest, RejectsBadValuesNamingTheKey) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{}, "bucket is required"},
      {{{"bucket", "a/b"}}, "put the path in prefix"},
      {{{"bucket", "b"}, {"s3url", "http://x"}}, "unknown config key 's3url'"},
      {{{"bucket", "b"}, {"s3ForcePathStyle", "yes"}}, "s3ForcePathStyle: 'yes' is not a boolean"},
      {{{"bucket", "b"}, {"insecureSkipTLSVerify", ""}}, "insecureSkipTLSVerify"},
      {{{"bucket", "b"}, {"s3Url", "minio:9000"}}, "s3Url: 'minio:9000' must start with http"},
      {{{"bucket", "b"}, {"s3Url", "http://"}}, "s3Url: 'http://' has no valid host"},
      {{{"bucket", "b"}, {"publicUrl", "ftp://x"}}, "publicUrl"},
      {{{"bucket", "b"}, {"tagging", "=v"}}, "tagging"},
      {{{"bucket", "b"}, {"tagging", "a=1&&b=2"}}, "tagging"},
      {{{"bucket", "b"}, {"tagging", "a=%zz"}}, "tagging"},
      {{{"bucket", "b"}, {"checksumAlgorithm", "MD5"}}, "checksumAlgorithm 'MD5'"},
      {{{"bucket", "b"}, {"serverSideEncryption", "aes"}}, "serverSideEncryption"},
      {{{"bucket", "b"}, {"signatureVersion", "2"}}, "signatureVersion"},
      {{{"bucket", "b"},
        {"customerKeyEncryptionFile", "/k"},
        {"customerKeyEncryptionSecret", "s/k"}},
       "only one SSE-C key source"},
      {{{"bucket", "b"}, {"customerKeyEncryptionFile", "/k"}, {"kmsKeyId", "alias/x"}},
       "choose one encryption method"},
      {{{"bucket", "b"}, {"customerKeyEncryptionSecret", "nokey"}}, "secretName/key"},
  };
  for (const auto& [config, expected] : cases) {
    auto parsed = ParseS3Config(config);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << expected;
    EXPECT_THAT(parsed.status().message(), HasSubstr(expected));
  }
}

TEST(CredentialsTest, CredentialsFileProfileWins) {
  FakeEnvironment env;
  env.files["/credentials/cloud"] = kCloudSecret;
  env.vars["AWS_ACCESS_KEY_ID"] = "FROMENV";
  env.vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  S3Config config;
  config.credentials_file = "/credentials/cloud";
  auto creds = ResolveCredentials(config, env);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(creds->secret_access_key, "secret/default+key");
  EXPECT_EQ(creds->source, "profile 'default' in /credentials/cloud");

  config.profile = "backup";
  creds = ResolveCredentials(config, env);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->access_key_id, "AKIDBACKUP");
  EXPECT_EQ(creds->session_token, "token123");

  config.profile = "shared";  // "[profile shared]" as in a config file
  EXPECT_EQ(ResolveCredentials(config, env)->access_key_id, "AKIDSHARED");
}

TEST(CredentialsTest, MissingProfileListsTheOnesPresent) {
  FakeEnvironment env;
  env.files["/c"] = kCloudSecret;
  S3Config config;
  config.credentials_file = "/c";
  config.profile = "prod";
  auto creds = ResolveCredentials(config, env);
  EXPECT_EQ(creds.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(creds.status().message(),
              HasSubstr("no profile 'prod' in /c (profiles there: default, backup, shared)"));

  env.files["/half"] = "[default]\naws_access_key_id = A\n";
  config.credentials_file = "/half";
  config.profile = "";
  EXPECT_EQ(ResolveCredentials(config, env).status().code(), StatusCode::kInvalidArgument);

  config.credentials_file = "/absent";
  EXPECT_EQ(ResolveCredentials(config, env).status().code(), StatusCode::kNotFound);
}

TEST(CredentialsTest, EnvironmentThenSharedFile) {
  FakeEnvironment env;
  env.vars["AWS_ACCESS_KEY_ID"] = "FROMENV";
  env.vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env.vars["AWS_SESSION_TOKEN"] = "envtoken";
  S3Config config;
  auto creds = ResolveCredentials(config, env);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->access_key_id, "FROMENV");
  EXPECT_EQ(creds->session_token, "envtoken");
  EXPECT_THAT(creds->source, HasSubstr("AWS_ACCESS_KEY_ID"));

  FakeEnvironment shared;
  shared.vars["AWS_SHARED_CREDENTIALS_FILE"] = "/home/u/creds";
  shared.vars["AWS_PROFILE"] = "backup";
  shared.files["/home/u/creds"] = kCloudSecret;
  EXPECT_EQ(ResolveCredentials(config, shared)->access_key_id, "AKIDBACKUP");

  FakeEnvironment home;
  home.vars["HOME"] = "/home/v";
  home.files["/home/v/.aws/credentials"] = kCloudSecret;
  EXPECT_EQ(ResolveCredentials(config, home)->access_key_id, "AKIDDEFAULT");

  FakeEnvironment none;
  auto missing = ResolveCredentials(config, none);
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("no S3 credentials found"));
}

TEST(CredentialsTest, CustomerKeyMustBe32Bytes) {
  FakeEnvironment env;
  env.files["/key"] = std::string(32, 'k');
  env.files["/short"] = "short";
  S3Config config;
  config.customer_key_encryption_file = "/key";
  ASSERT_TRUE(LoadCustomerKey(config, env).ok());
  EXPECT_EQ(config.customer_key, std::string(32, 'k'));
  config.customer_key_encryption_file = "/short";
  Status s = LoadCustomerKey(config, env);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("holds 5 bytes"));
}

}  // namespace
}  // namespace arca::objstore
