#include "common/pipe.h"

#include <algorithm>
#include <cstring>

namespace arca {

Status BytePipe::Write(std::string_view data) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!data.empty()) {
    if (cancelled_) {
      return cancel_status_;
    }
    if (closed_) {
      return FailedPreconditionError("write to a closed pipe");
    }
    can_write_.wait(lock, [&] { return cancelled_ || buffered_ < capacity_; });
    if (cancelled_) {
      return cancel_status_;
    }
    size_t take = std::min(data.size(), capacity_ - buffered_);
    chunks_.emplace_back(data.substr(0, take));
    buffered_ += take;
    data.remove_prefix(take);
    can_read_.notify_one();
  }
  return OkStatus();
}

void BytePipe::Close(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) {
    closed_ = true;
    close_status_ = std::move(status);
  }
  can_read_.notify_all();
}

Result<size_t> BytePipe::Read(std::span<char> buffer) {
  std::unique_lock<std::mutex> lock(mu_);
  can_read_.wait(lock, [&] { return buffered_ > 0 || closed_ || cancelled_; });
  if (cancelled_) {
    return cancel_status_;
  }
  if (buffered_ == 0) {
    // Closed and drained. An error close wins, so a consumer never takes a cut stream as whole.
    if (!close_status_.ok()) {
      return close_status_;
    }
    return size_t{0};
  }
  size_t copied = 0;
  while (copied < buffer.size() && !chunks_.empty()) {
    const std::string& front = chunks_.front();
    size_t take = std::min(buffer.size() - copied, front.size() - front_offset_);
    std::memcpy(buffer.data() + copied, front.data() + front_offset_, take);
    copied += take;
    front_offset_ += take;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
  buffered_ -= copied;
  can_write_.notify_one();
  return copied;
}

void BytePipe::Cancel(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cancelled_) {
    cancelled_ = true;
    cancel_status_ = status.ok() ? CancelledError("the reader stopped") : std::move(status);
  }
  can_write_.notify_all();
  can_read_.notify_all();
}

}  // namespace arca
