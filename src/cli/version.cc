#include "cli/version.h"

namespace arca::cli {

void PrintVersion(const BuildInfo& info, std::ostream& out) {
  out << "Client:\n"
      << "\tVersion: v" << info.version << "\n"
      << "\tGit commit: " << info.git_commit << "\n"
      << "\tBuild date: " << info.build_date << "\n";
}

}  // namespace arca::cli
