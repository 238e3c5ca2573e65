// File: cli/version.h
//
// `arca version`: prints the client's version, git commit and build date, in Velero's layout.
#pragma once

#include <ostream>

#include "common/build_info.h"

namespace arca::cli {

void PrintVersion(const BuildInfo& info, std::ostream& out);

}  // namespace arca::cli
