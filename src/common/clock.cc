#include "common/clock.h"

#include <thread>

namespace arca {
namespace {

class RealClockImpl : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  void SleepFor(std::chrono::nanoseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

}  // namespace

Clock& RealClock() {
  static RealClockImpl clock;
  return clock;
}

std::chrono::system_clock::time_point SimulatedClock::Now() {
  const std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

void SimulatedClock::SleepFor(std::chrono::nanoseconds duration) {
  const std::lock_guard<std::mutex> lock(mu_);
  sleeps_.push_back(duration);
  now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
}

void SimulatedClock::Advance(std::chrono::nanoseconds duration) {
  const std::lock_guard<std::mutex> lock(mu_);
  now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
}

std::vector<std::chrono::nanoseconds> SimulatedClock::Sleeps() {
  const std::lock_guard<std::mutex> lock(mu_);
  return sleeps_;
}

}  // namespace arca
