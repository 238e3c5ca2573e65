#include "common/pipe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace arca {
namespace {

TEST(BytePipeTest, TransfersEverythingInOrder) {
  BytePipe pipe(4096);
  std::string sent;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    sent += static_cast<char>(rng());
  }
  std::thread producer([&] {
    std::mt19937 r(9);
    for (size_t off = 0; off < sent.size();) {
      size_t n = std::min<size_t>(1 + r() % 3000, sent.size() - off);
      ASSERT_TRUE(pipe.Write(std::string_view(sent).substr(off, n)).ok());
      off += n;
    }
    pipe.Close();
  });
  std::string got;
  char buf[777];
  while (true) {
    Result<size_t> n = pipe.Read(buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) {
      break;
    }
    got.append(buf, *n);
  }
  producer.join();
  EXPECT_EQ(got, sent);
}

TEST(BytePipeTest, WriterBlocksWhenFull) {
  BytePipe pipe(10);
  std::atomic<bool> done{false};
  std::thread producer([&] {
    ASSERT_TRUE(pipe.Write(std::string(25, 'x')).ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done.load());  // 25 bytes cannot fit in 10 without a reader
  char buf[100];
  size_t total = 0;
  while (total < 25) {
    Result<size_t> n = pipe.Read(buf);
    ASSERT_TRUE(n.ok());
    EXPECT_LE(*n, 10u);  // never more than the capacity is buffered
    total += *n;
  }
  producer.join();
  EXPECT_TRUE(done.load());
}

TEST(BytePipeTest, ProducerErrorReachesReaderAfterData) {
  BytePipe pipe(100);
  ASSERT_TRUE(pipe.Write("abc").ok());
  pipe.Close(UnavailableError("cluster went away"));
  char buf[10];
  Result<size_t> first = pipe.Read(buf);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 3u);
  Result<size_t> second = pipe.Read(buf);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST(BytePipeTest, CancelUnblocksWriter) {
  BytePipe pipe(4);
  Status write_status;
  std::thread producer([&] { write_status = pipe.Write(std::string(100, 'x')); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pipe.Cancel(PermissionDeniedError("access denied: check the credentials"));
  producer.join();
  EXPECT_EQ(write_status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(pipe.Write("more").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace arca
