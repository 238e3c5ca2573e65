// File: common/pipe.h
//
// BytePipe: a bounded, thread-safe byte queue between one producer and one consumer, for turning
// a push-style writer (tar -> gzip -> sink) into the pull-style reader an upload wants, without
// ever holding more than `capacity` bytes.
//
// Either side can end the transfer: the producer with Close(status) (OK for a normal end, an
// error to make the consumer's next Read fail), the consumer with Cancel(status), which makes
// the producer's next Write fail with that status instead of blocking forever.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace arca {

class BytePipe {
 public:
  // REQUIRES: capacity > 0.
  explicit BytePipe(size_t capacity) : capacity_(capacity) {}

  // Producer: appends `data`, blocking while the pipe is full. Returns the consumer's Cancel
  // status if it cancelled, or kFailedPrecondition after Close.
  Status Write(std::string_view data);
  // Producer: no more data. An error status is handed to the consumer's next Read.
  void Close(Status status = OkStatus());

  // Consumer: fills `buffer` with up to its size, blocking until data or the end. Returns 0 at
  // the end of a successfully closed pipe, or the producer's error.
  Result<size_t> Read(std::span<char> buffer);
  // Consumer: stop; the producer's pending and future writes fail with `status`.
  void Cancel(Status status);

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable can_read_;
  std::condition_variable can_write_;
  std::deque<std::string> chunks_;  // guarded by mu_
  size_t front_offset_ = 0;         // consumed bytes of chunks_.front()
  size_t buffered_ = 0;             // bytes in chunks_ not yet read
  bool closed_ = false;
  Status close_status_;
  bool cancelled_ = false;
  Status cancel_status_;
};

}  // namespace arca
