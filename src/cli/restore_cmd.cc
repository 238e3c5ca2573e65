#include "cli/restore_cmd.h"

namespace arca::cli {

void AddRestoreCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* restore = app.add_subcommand("restore", "Work with restores");
  restore->require_subcommand(1);
  (void)ctx;
}

}  // namespace arca::cli
