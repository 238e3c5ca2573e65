// File: api/duration.h
//
// Go's time.Duration as Kubernetes and Velero serialize it ("720h0m0s", "10m", "1.5s", "300ms"):
// parsing with Go's grammar and formatting exactly as Go's Duration.String() does, so values
// written by Arca read back identically in Velero and kubectl.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::api {

using Duration = std::chrono::nanoseconds;

// Parses a Go duration: an optional sign, then one or more decimal numbers each with a unit
// (ns, us, µs, ms, s, m, h), e.g. "1h30m", "-2.5s". "0" alone is allowed. kInvalidArgument with the
// offending text otherwise, and on overflow.
Result<Duration> ParseDuration(std::string_view text);

// Formats like Go's Duration.String(): "720h0m0s", "1m30s", "1.5s", "300ms", "0s".
std::string FormatDuration(Duration d);

}  // namespace arca::api
