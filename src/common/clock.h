// File: common/clock.h
//
// Clock: the one place Arca reads the wall clock or sleeps. Classes that need the time or a
// backoff take a `Clock&` through their constructor, so tests can pass a SimulatedClock and run
// instantly and deterministically.
//
// Example:
//   Status WaitAndRetry(Clock& clock) {
//     clock.SleepFor(std::chrono::milliseconds(100));  // returns at once under SimulatedClock
//     ...
//   }
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

namespace arca {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current wall-clock time.
  virtual std::chrono::system_clock::time_point Now() = 0;

  // Blocks the calling thread for `duration` (a SimulatedClock only advances its time).
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;
};

// The process-wide real clock. Thread-safe; lives for the whole program.
Clock& RealClock();

// A clock that only moves when slept on or told to. Thread-safe.
class SimulatedClock : public Clock {
 public:
  explicit SimulatedClock(std::chrono::system_clock::time_point start) : now_(start) {}

  std::chrono::system_clock::time_point Now() override;
  void SleepFor(std::chrono::nanoseconds duration) override;

  void Advance(std::chrono::nanoseconds duration);
  // Every duration passed to SleepFor so far, in order.
  std::vector<std::chrono::nanoseconds> Sleeps();

 private:
  std::mutex mu_;
  std::chrono::system_clock::time_point now_;
  std::vector<std::chrono::nanoseconds> sleeps_;
};

}  // namespace arca
