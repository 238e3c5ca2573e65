#include "objstore/s3_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "http/uri.h"

namespace arca::objstore {
namespace {

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> kKeys = {
      "bucket",
      "prefix",
      "region",
      "s3ForcePathStyle",
      "s3Url",
      "publicUrl",
      "insecureSkipTLSVerify",
      "caCert",
      "profile",
      "credentialsFile",
      "serverSideEncryption",
      "kmsKeyId",
      "customerKeyEncryptionFile",
      "customerKeyEncryptionSecret",
      "tagging",
      "checksumAlgorithm",
      "signatureVersion",
      "enableSharedConfig",
  };
  return kKeys;
}

// Go's strconv.ParseBool, which Velero's plugin uses.
Result<bool> ParseBool(const std::string& key, const std::string& value) {
  static const std::set<std::string> kTrueValues = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> kFalseValues = {"0", "f", "F", "FALSE", "false", "False"};
  if (kTrueValues.contains(value)) {
    return true;
  }
  if (kFalseValues.contains(value)) {
    return false;
  }
  return InvalidArgumentError("config key " + key + ": '" + value +
                              "' is not a boolean (use \"true\" or \"false\")");
}

Status CheckUrl(const std::string& key, const std::string& value) {
  if (!value.starts_with("http://") && !value.starts_with("https://")) {
    return InvalidArgumentError("config key " + key + ": '" + value +
                                "' must start with http:// or https://");
  }
  const std::string rest = value.substr(value.find("://") + 3);
  if (rest.empty() || rest.front() == '/' || rest.find_first_of(" ?#") != std::string::npos) {
    return InvalidArgumentError("config key " + key + ": '" + value + "' has no valid host");
  }
  return OkStatus();
}

Status CheckTagging(const std::string& tagging) {
  size_t start = 0;
  while (start <= tagging.size()) {
    const size_t amp = std::min(tagging.find('&', start), tagging.size());
    const std::string pair = tagging.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (pair.empty() || eq == 0) {
      return InvalidArgumentError("config key tagging: '" + tagging +
                                  "' is not of the form K1=V1&K2=V2");
    }
    RETURN_IF_ERROR(http::UriDecode(pair, true).status().WithContext("config key tagging"));
    start = amp + 1;
  }
  return OkStatus();
}

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) {
    return "";
  }
  const size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

class SystemEnvironmentImpl : public Environment {
 public:
  std::optional<std::string> Get(const std::string& name) override {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return NotFoundError("cannot read " + path);
    }
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
};

}  // namespace

Environment& SystemEnvironment() {
  static SystemEnvironmentImpl env;
  return env;
}

Result<S3Config> ParseS3Config(const std::map<std::string, std::string>& config) {
  for (const auto& [key, value] : config) {
    if (!KnownKeys().contains(key)) {
      std::string known;
      for (const std::string& k : KnownKeys()) {
        known += (known.empty() ? "" : ", ") + k;
      }
      std::string message = "unknown config key '" + key;
      message += "' for the aws object store; known keys: ";
      message += known;
      return InvalidArgumentError(std::move(message));
    }
  }
  const auto get = [&config](const std::string& key) -> std::string {
    auto it = config.find(key);
    return it == config.end() ? "" : it->second;
  };
  S3Config out;
  const std::string bucket = get("bucket");
  if (bucket.empty()) {
    return InvalidArgumentError("config key bucket is required");
  }
  if (bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("config key bucket: '" + bucket +
                                "' contains '/'; put the path in prefix instead");
  }
  out.bucket = BucketName(bucket);
  out.prefix = get("prefix");
  out.region = get("region");
  if (config.contains("s3ForcePathStyle")) {
    ASSIGN_OR_RETURN(out.force_path_style, ParseBool("s3ForcePathStyle", get("s3ForcePathStyle")));
  }
  if (config.contains("insecureSkipTLSVerify")) {
    ASSIGN_OR_RETURN(out.insecure_skip_tls_verify,
                     ParseBool("insecureSkipTLSVerify", get("insecureSkipTLSVerify")));
  }
  if (config.contains("enableSharedConfig")) {
    ASSIGN_OR_RETURN(out.enable_shared_config,
                     ParseBool("enableSharedConfig", get("enableSharedConfig")));
  }
  out.s3_url = get("s3Url");
  if (!out.s3_url.empty()) {
    RETURN_IF_ERROR(CheckUrl("s3Url", out.s3_url));
    while (out.s3_url.ends_with('/')) {
      out.s3_url.pop_back();
    }
  }
  out.public_url = get("publicUrl");
  if (!out.public_url.empty()) {
    RETURN_IF_ERROR(CheckUrl("publicUrl", out.public_url));
    while (out.public_url.ends_with('/')) {
      out.public_url.pop_back();
    }
  }
  out.ca_cert = get("caCert");
  out.profile = get("profile");
  out.credentials_file = get("credentialsFile");
  out.server_side_encryption = get("serverSideEncryption");
  out.kms_key_id = get("kmsKeyId");
  if (!out.server_side_encryption.empty() && out.server_side_encryption != "AES256" &&
      out.server_side_encryption != "aws:kms") {
    return InvalidArgumentError("config key serverSideEncryption: '" + out.server_side_encryption +
                                "' is not AES256 or aws:kms");
  }
  out.customer_key_encryption_file = get("customerKeyEncryptionFile");
  out.customer_key_encryption_secret = get("customerKeyEncryptionSecret");
  const bool sse_c =
      !out.customer_key_encryption_file.empty() || !out.customer_key_encryption_secret.empty();
  if (!out.customer_key_encryption_file.empty() && !out.customer_key_encryption_secret.empty()) {
    return InvalidArgumentError(
        "config keys customerKeyEncryptionFile and customerKeyEncryptionSecret are both set; "
        "only one SSE-C key source is allowed");
  }
  if (sse_c && (!out.kms_key_id.empty() || !out.server_side_encryption.empty())) {
    return InvalidArgumentError(
        "customer-provided keys (SSE-C) cannot be combined with kmsKeyId or "
        "serverSideEncryption; choose one encryption method");
  }
  if (!out.customer_key_encryption_secret.empty() &&
      std::count(out.customer_key_encryption_secret.begin(),
                 out.customer_key_encryption_secret.end(), '/') != 1) {
    return InvalidArgumentError("config key customerKeyEncryptionSecret: '" +
                                out.customer_key_encryption_secret +
                                "' is not of the form secretName/key");
  }
  out.tagging = get("tagging");
  if (!out.tagging.empty()) {
    RETURN_IF_ERROR(CheckTagging(out.tagging));
  }
  if (config.contains("checksumAlgorithm")) {
    ASSIGN_OR_RETURN(out.checksum_algorithm, ParseChecksumAlgorithm(get("checksumAlgorithm")));
  }
  out.signature_version = get("signatureVersion");
  if (!out.signature_version.empty() && out.signature_version != "1" &&
      out.signature_version != "4") {
    return InvalidArgumentError("config key signatureVersion: '" + out.signature_version +
                                "' is not \"1\" or \"4\"");
  }
  return out;
}

Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                           std::string_view source) {
  std::istringstream in{std::string(text)};
  std::string line;
  std::string section;
  std::vector<std::string> profiles;
  std::map<std::string, std::string> values;
  bool found = false;
  while (std::getline(in, line)) {
    const std::string t = Trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') {
      continue;
    }
    if (t.front() == '[' && t.back() == ']') {
      section = Trim(t.substr(1, t.size() - 2));
      if (section.starts_with("profile ")) {
        section = Trim(section.substr(8));
      }
      profiles.push_back(section);
      found = found || section == profile;
      continue;
    }
    if (section != profile) {
      continue;
    }
    const size_t eq = t.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string key = Trim(t.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    values[key] = Trim(t.substr(eq + 1));
  }
  const std::string where = "profile '" + std::string(profile) + "' in " + std::string(source);
  if (!found) {
    std::string list;
    for (const std::string& p : profiles) {
      list += (list.empty() ? "" : ", ") + p;
    }
    return NotFoundError("no " + where + " (profiles there: " + (list.empty() ? "none" : list) +
                         ")");
  }
  Credentials creds;
  creds.access_key_id = values["aws_access_key_id"];
  creds.secret_access_key = values["aws_secret_access_key"];
  creds.session_token = values["aws_session_token"];
  creds.source = where;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return InvalidArgumentError(where + " needs both aws_access_key_id and aws_secret_access_key");
  }
  return creds;
}

Result<Credentials> ResolveCredentials(const S3Config& config, Environment& env) {
  std::string profile = config.profile;
  if (profile.empty()) {
    profile = env.Get("AWS_PROFILE").value_or("default");
  }
  if (!config.credentials_file.empty()) {
    ASSIGN_OR_RETURN(std::string text, env.ReadFile(config.credentials_file));
    return ParseSharedCredentials(text, profile, config.credentials_file);
  }
  const std::optional<std::string> id = env.Get("AWS_ACCESS_KEY_ID");
  const std::optional<std::string> secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (id && secret && !id->empty() && !secret->empty()) {
    Credentials creds;
    creds.access_key_id = *id;
    creds.secret_access_key = *secret;
    creds.session_token = env.Get("AWS_SESSION_TOKEN").value_or("");
    creds.source = "the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables";
    return creds;
  }
  std::string file = env.Get("AWS_SHARED_CREDENTIALS_FILE").value_or("");
  if (file.empty()) {
    const std::optional<std::string> home = env.Get("HOME");
    if (home) {
      file = *home + "/.aws/credentials";
    }
  }
  if (!file.empty()) {
    Result<std::string> text = env.ReadFile(file);
    if (text.ok()) {
      return ParseSharedCredentials(*text, profile, file);
    }
  }
  return FailedPreconditionError(
      "no S3 credentials found: give the BackupStorageLocation a credential (credentialsFile), "
      "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_SHARED_CREDENTIALS_FILE");
}

Status LoadCustomerKey(S3Config& config, Environment& env) {
  if (config.customer_key_encryption_file.empty()) {
    return OkStatus();
  }
  ASSIGN_OR_RETURN(std::string key, env.ReadFile(config.customer_key_encryption_file));
  if (key.size() != 32) {
    return InvalidArgumentError("customerKeyEncryptionFile " + config.customer_key_encryption_file +
                                " holds " + std::to_string(key.size()) +
                                " bytes; an SSE-C key is 32 bytes");
  }
  config.customer_key = std::move(key);
  return OkStatus();
}

}  // namespace arca::objstore
