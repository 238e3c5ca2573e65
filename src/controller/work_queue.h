// File: controller/work_queue.h
//
// WorkQueue: the rate-limited queue of object keys that feeds a controller's workers, with
// client-go's guarantees:
//   - a key is queued at most once however often it is added (dedup);
//   - a key is handed to one worker at a time: added again while a worker holds it, it is queued
//     again when that worker calls Done, so no change is lost and no two workers race on it;
//   - AddRateLimited delays a key by base * 2^(failures) (capped), per key, until Forget;
//   - AddAfter delays a key (a periodic recheck); an earlier due time wins over a later one;
//   - ShutDown wakes every waiting worker; Get then returns false.
// Time is read from the injected Clock. Waiting workers re-check the due times at least every
// `poll` of real time, so a SimulatedClock advanced by a test is noticed without a notification.
//
// Thread-safe.
//
// Example (a worker):
//   std::string key;
//   while (queue.Get(key)) {
//     Status s = Reconcile(key);
//     if (s.ok()) queue.Forget(key); else queue.AddRateLimited(key);
//     queue.Done(key);
//   }
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/clock.h"

namespace arca::controller {

struct WorkQueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{300'000};
  // The longest a waiting worker sleeps (in real time) before re-reading the clock.
  std::chrono::milliseconds poll{50};
};

class WorkQueue {
 public:
  // `clock` must outlive the queue.
  explicit WorkQueue(Clock& clock, WorkQueueOptions options = {});

  // Queues `key` now (no-op if already queued).
  void Add(const std::string& key);
  // Queues `key` once `delay` has passed on the clock; a key already queued stays queued.
  void AddAfter(const std::string& key, std::chrono::nanoseconds delay);
  // AddAfter with the key's next backoff delay; counts a failure.
  void AddRateLimited(const std::string& key);
  // Forgets the key's failures (its next backoff starts again at base_delay).
  void Forget(const std::string& key);
  // How many failures are counted for `key`.
  int Failures(const std::string& key);
  // The backoff AddRateLimited would use next for `key`.
  std::chrono::nanoseconds NextBackoff(const std::string& key);

  // Blocks until a key is ready (true, key in `key`) or the queue is shut down (false).
  // REQUIRES: the caller calls Done(key) when finished with it.
  bool Get(std::string& key);
  // Non-blocking: a ready key or false.
  bool TryGet(std::string& key);
  void Done(const std::string& key);

  void ShutDown();
  bool ShuttingDown();
  // Keys ready to be handed out (not the delayed ones, not those being processed).
  size_t Len();
  // Keys waiting for their delay.
  size_t DelayedLen();

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked();
  std::chrono::nanoseconds BackoffLocked(const std::string& key) const;

  Clock& clock_;
  const WorkQueueOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;     // GUARDED_BY(mu_)
  std::set<std::string> dirty_;       // GUARDED_BY(mu_): queued or to be re-queued on Done
  std::set<std::string> processing_;  // GUARDED_BY(mu_)
  std::map<std::string, std::chrono::system_clock::time_point> due_;  // GUARDED_BY(mu_)
  std::map<std::string, int> failures_;                               // GUARDED_BY(mu_)
  bool shutting_down_ = false;                                        // GUARDED_BY(mu_)
};

}  // namespace arca::controller
