// objstore_bench: upload and download throughput of S3Store against the AWS CLI, side by side in
// one run, on the S3 endpoint in AWS_ENDPOINT_URL (run it through `bench/run objstore`).
//
//   objstore_bench --n N --big-mib M --workdir DIR
//
// Phases, each timed for Arca and then for `aws s3 cp` on the same files:
//   big-up, big-down       one object of M MiB
//   small-up, small-down   N objects of 4 KiB (Arca with 10 threads, as many as aws uses)
// Prints a table, then one JSON object with every figure as the last line.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "objstore/s3_store.h"
#include "support/peak_rss.h"

namespace fs = std::filesystem;

namespace arca::bench {
namespace {

constexpr size_t kSmallSize = 4096;
constexpr int kThreads = 10;

std::string Env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v == nullptr ? "" : v;
}

void Die(const std::string& message) {
  std::fprintf(stderr, "objstore_bench: %s\n", message.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe)
}

using arca::test_support::PeakRssKiB;
using arca::test_support::ResetPeakRss;

struct Figure {
  double seconds = 0;
  long peak_rss_kib = 0;
};

// Runs `command` with sh; returns its time and peak RSS.
Figure RunShell(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Figure f;
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.peak_rss_kib = usage.ru_maxrss;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Die("command failed: " + command);
  }
  return f;
}

template <typename Fn>
Figure RunArca(Fn&& fn) {
  ResetPeakRss();
  const long before = PeakRssKiB();
  const auto start = std::chrono::steady_clock::now();
  fn();
  Figure f;
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.peak_rss_kib = std::max(0L, PeakRssKiB() - before);
  return f;
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) {
    Die(what + ": " + s.ToString());
  }
}

// An ObjectReader over a file.
objstore::ObjectReader FileReader(std::FILE* file) {
  return [file](std::span<char> buffer) -> Result<size_t> {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file);
    if (n == 0 && std::ferror(file) != 0) {
      return DataLossError("read failed");
    }
    return n;
  };
}

void PutFile(objstore::S3Store& store, const fs::path& path, const std::string& key) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    Die("cannot open " + path.string());
  }
  objstore::PutOptions options;
  options.size_hint = static_cast<int64_t>(fs::file_size(path));
  Check(store.Put(objstore::ObjectKey(key), FileReader(file), options), "put " + key);
  std::fclose(file);
}

void GetFile(objstore::S3Store& store, const std::string& key, const fs::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    Die("cannot create " + path.string());
  }
  auto info = store.Get(objstore::ObjectKey(key), [file](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size()) {
      return DataLossError("write failed");
    }
    return OkStatus();
  });
  Check(info.status(), "get " + key);
  std::fclose(file);
}

// Runs fn(i) for i in [0, n) on kThreads threads.
template <typename Fn>
void Parallel(int n, Fn&& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        fn(i);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

void WriteRandomFile(const fs::path& path, uint64_t size, uint64_t seed) {
  std::ofstream out(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  uint64_t state = seed;
  for (uint64_t written = 0; written < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - written));
    for (size_t i = 0; i < n; i += 8) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      std::memcpy(buffer.data() + i, &state, std::min<size_t>(8, n - i));
    }
    out.write(buffer.data(), static_cast<std::streamsize>(n));
    written += n;
  }
}

int Main(int argc, char** argv) {
  int n = 10000;
  int big_mib = 1024;
  fs::path workdir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--n") {
      n = std::atoi(argv[i + 1]);
    } else if (flag == "--big-mib") {
      big_mib = std::atoi(argv[i + 1]);
    } else if (flag == "--workdir") {
      workdir = argv[i + 1];
    } else {
      Die("unknown flag " + flag);
    }
  }
  if (workdir.empty() || n <= 0 || big_mib <= 0) {
    Die("usage: objstore_bench --n N --big-mib M --workdir DIR");
  }
  const std::string endpoint = Env("AWS_ENDPOINT_URL");
  const std::string bucket = Env("S3_BUCKET");
  const std::string region = Env("AWS_REGION").empty() ? "us-east-1" : Env("AWS_REGION");
  if (endpoint.empty() || bucket.empty()) {
    Die("AWS_ENDPOINT_URL and S3_BUCKET must point at an S3 endpoint");
  }
  std::map<std::string, std::string> config = {
      {"bucket", bucket}, {"region", region}, {"s3Url", endpoint}, {"s3ForcePathStyle", "true"}};
  if (!Env("AWS_SHARED_CREDENTIALS_FILE").empty()) {
    config["credentialsFile"] = Env("AWS_SHARED_CREDENTIALS_FILE");
  }
  auto created = objstore::S3Store::Create(config, objstore::S3Settings{},
                                           objstore::SystemEnvironment(), RealClock());
  Check(created.status(), "create store");
  objstore::S3Store& store = **created;

  // Inputs, shared by both tools.
  const std::string run = "bench-" + std::to_string(::getpid());
  const fs::path big = workdir / "big.bin";
  const fs::path small_dir = workdir / "small";
  fs::create_directories(small_dir);
  WriteRandomFile(big, static_cast<uint64_t>(big_mib) << 20, 42);
  for (int i = 0; i < n; ++i) {
    WriteRandomFile(small_dir / ("obj-" + std::to_string(i)), kSmallSize, 1000 + i);
  }
  const std::string aws =
      "aws --only-show-errors --endpoint-url '" + endpoint + "' --region '" + region + "' s3 cp ";
  const std::string s3 = "s3://" + bucket + "/" + run;

  struct Row {
    std::string phase;
    double mib;
    int objects;
    Figure arca;
    Figure aws;
  };
  std::vector<Row> rows;
  const double big_size = big_mib;
  const double small_total = static_cast<double>(n) * kSmallSize / (1 << 20);

  rows.push_back({"big-up", big_size, 1, RunArca([&] { PutFile(store, big, run + "/arca/big"); }),
                  RunShell(aws + "'" + big.string() + "' '" + s3 + "/aws/big'")});
  rows.push_back({"big-down", big_size, 1,
                  RunArca([&] { GetFile(store, run + "/arca/big", workdir / "big.arca"); }),
                  RunShell(aws + "'" + s3 + "/aws/big' '" + (workdir / "big.aws").string() + "'")});
  if (fs::file_size(workdir / "big.arca") != fs::file_size(big) ||
      fs::file_size(workdir / "big.aws") != fs::file_size(big)) {
    Die("a downloaded copy of the big object has the wrong size");
  }
  fs::remove(workdir / "big.arca");
  fs::remove(workdir / "big.aws");
  rows.push_back(
      {"small-up", small_total, n, RunArca([&] {
         Parallel(n, [&](int i) {
           const std::string name = "obj-" + std::to_string(i);
           PutFile(store, small_dir / name, run + "/arca/small/" + name);
         });
       }),
       RunShell(aws + "--recursive '" + small_dir.string() + "' '" + s3 + "/aws/small'")});
  const fs::path down_arca = workdir / "down-arca";
  const fs::path down_aws = workdir / "down-aws";
  fs::create_directories(down_arca);
  rows.push_back(
      {"small-down", small_total, n, RunArca([&] {
         Parallel(n, [&](int i) {
           const std::string name = "obj-" + std::to_string(i);
           GetFile(store, run + "/arca/small/" + name, down_arca / name);
         });
       }),
       RunShell(aws + "--recursive '" + s3 + "/aws/small' '" + down_aws.string() + "'")});

  // Clean up the bucket.
  auto all = store.ListAll(run + "/", "");
  Check(all.status(), "list");
  std::vector<objstore::ObjectKey> keys;
  for (const auto& o : all->objects) {
    keys.push_back(o.key);
  }
  Check(store.DeleteMany(keys), "delete");

  std::printf("objstore benchmark: %d MiB object, %d x %zu B objects, endpoint %s\n", big_mib, n,
              kSmallSize, endpoint.c_str());
  std::printf("%-11s %10s %10s %10s %10s %8s %12s %12s\n", "phase", "arca s", "aws s", "arca MiB/s",
              "aws MiB/s", "speedup", "arca RSS MiB", "aws RSS MiB");
  std::string json = "{\"benchmark\":\"objstore\",\"n\":" + std::to_string(n) +
                     ",\"big_mib\":" + std::to_string(big_mib) +
                     ",\"small_bytes\":" + std::to_string(kSmallSize) + ",\"phases\":{";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const double arca_rate = r.mib / r.arca.seconds;
    const double aws_rate = r.mib / r.aws.seconds;
    std::printf("%-11s %10.2f %10.2f %10.1f %10.1f %7.2fx %12.1f %12.1f\n", r.phase.c_str(),
                r.arca.seconds, r.aws.seconds, arca_rate, aws_rate, r.aws.seconds / r.arca.seconds,
                r.arca.peak_rss_kib / 1024.0, r.aws.peak_rss_kib / 1024.0);
    char buffer[512];
    std::snprintf(buffer, sizeof(buffer),
                  "%s\"%s\":{\"arca_seconds\":%.3f,\"aws_seconds\":%.3f,\"arca_mib_s\":%.2f,"
                  "\"aws_mib_s\":%.2f,\"arca_objects_s\":%.1f,\"aws_objects_s\":%.1f,\"speedup\":%."
                  "3f,\"arca_peak_rss_growth_kib\":%ld,"
                  "\"aws_peak_rss_kib\":%ld}",
                  i == 0 ? "" : ",", r.phase.c_str(), r.arca.seconds, r.aws.seconds, arca_rate,
                  aws_rate, r.objects / r.arca.seconds, r.objects / r.aws.seconds,
                  r.aws.seconds / r.arca.seconds, r.arca.peak_rss_kib, r.aws.peak_rss_kib);
    json += buffer;
  }
  json += "}}";
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace arca::bench

int main(int argc, char** argv) { return arca::bench::Main(argc, argv); }
