#include "controller/work_queue.h"

#include <algorithm>

namespace arca::controller {

WorkQueue::WorkQueue(Clock& clock, WorkQueueOptions options) : clock_(clock), options_(options) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.contains(key)) {
    return;
  }
  dirty_.insert(key);
  due_.erase(key);
  if (processing_.contains(key)) {
    return;  // queued again by Done
  }
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::nanoseconds delay) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) {
    return;
  }
  if (delay <= std::chrono::nanoseconds::zero()) {
    AddLocked(key);
    return;
  }
  if (dirty_.contains(key)) {
    return;  // already queued: it runs sooner than asked
  }
  const auto when =
      clock_.Now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(delay);
  auto [it, inserted] = due_.emplace(key, when);
  if (!inserted && when < it->second) {
    it->second = when;
  }
  cv_.notify_all();
}

std::chrono::nanoseconds WorkQueue::BackoffLocked(const std::string& key) const {
  auto it = failures_.find(key);
  const int failures = it == failures_.end() ? 0 : it->second;
  std::chrono::nanoseconds delay = options_.base_delay;
  for (int i = 0; i < failures && delay < options_.max_delay; ++i) {
    delay *= 2;
  }
  return std::min<std::chrono::nanoseconds>(delay, options_.max_delay);
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::nanoseconds delay;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    delay = BackoffLocked(key);
    ++failures_[key];
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::chrono::nanoseconds WorkQueue::NextBackoff(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  return BackoffLocked(key);
}

void WorkQueue::PromoteDueLocked() {
  if (due_.empty()) {
    return;
  }
  const auto now = clock_.Now();
  std::vector<std::pair<std::chrono::system_clock::time_point, std::string>> ready;
  for (auto it = due_.begin(); it != due_.end();) {
    if (it->second <= now) {
      ready.emplace_back(it->second, it->first);
      it = due_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(ready.begin(), ready.end());  // the earliest due first
  for (auto& [when, key] : ready) {
    AddLocked(key);
  }
}

bool WorkQueue::TryGet(std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked();
  if (queue_.empty() || shutting_down_) {
    return false;
  }
  key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return true;
}

bool WorkQueue::Get(std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shutting_down_) {
      return false;
    }
    PromoteDueLocked();
    if (!queue_.empty()) {
      break;
    }
    if (due_.empty()) {
      cv_.wait(lock);
    } else {
      auto next = std::min_element(due_.begin(), due_.end(), [](const auto& a, const auto& b) {
                    return a.second < b.second;
                  })->second;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_.Now()) +
                  std::chrono::milliseconds(1);
      cv_.wait_for(lock, std::clamp(wait, std::chrono::milliseconds(1), options_.poll));
    }
  }
  key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return true;
}

void WorkQueue::Done(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  const std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() {
  const std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() {
  const std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkQueue::DelayedLen() {
  const std::lock_guard<std::mutex> lock(mu_);
  return due_.size();
}

}  // namespace arca::controller
