#include "cli/backup_cmd.h"

namespace arca::cli {

void AddBackupCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* backup = app.add_subcommand("backup", "Work with backups");
  backup->require_subcommand(1);
  (void)ctx;
}

}  // namespace arca::cli
