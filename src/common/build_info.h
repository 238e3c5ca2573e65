// File: common/build_info.h
//
// What `arca version` reports: the release version, the git commit the binary was built from
// ("-dirty" when tracked files had uncommitted changes) and the UTC time of that build.
#pragma once

#include <string_view>

namespace arca {

struct BuildInfo {
  std::string_view version;     // e.g. "0.1.0"
  std::string_view git_commit;  // 12 hex digits, optionally "-dirty"; "unknown" outside git
  std::string_view build_date;  // RFC 3339 UTC, e.g. "2026-11-26T12:00:00Z"
};

// Defined in a file generated at build time (cmake/GenerateBuildInfo.cmake).
BuildInfo GetBuildInfo();

}  // namespace arca
