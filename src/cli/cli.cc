#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "cli/backup_cmd.h"
#include "cli/common.h"
#include "cli/completion_cmd.h"
#include "cli/install_cmd.h"
#include "cli/location_cmd.h"
#include "cli/restore_cmd.h"
#include "cli/schedule_cmd.h"
#include "cli/server_cmd.h"
#include "cli/version.h"
#include "common/build_info.h"

namespace arca::cli {
namespace {

// Velero's verb-first aliases: `get backups` is `backup get`, `delete restore x` is
// `restore delete x`, and so on, for the verbs and nouns Velero accepts.
std::vector<std::string> VerbFirst(std::span<const std::string> args) {
  std::vector<std::string> out(args.begin(), args.end());
  if (out.size() < 3) {
    return out;
  }
  static const std::vector<std::string> kVerbs = {"get", "create", "delete", "describe"};
  static const std::vector<std::pair<std::string, std::string>> kNouns = {
      {"backup", "backup"},
      {"backups", "backup"},
      {"restore", "restore"},
      {"restores", "restore"},
      {"schedule", "schedule"},
      {"schedules", "schedule"},
      {"backup-location", "backup-location"},
      {"backup-locations", "backup-location"}};
  if (std::find(kVerbs.begin(), kVerbs.end(), out[1]) == kVerbs.end()) {
    return out;
  }
  for (const auto& [noun, command] : kNouns) {
    if (out[2] == noun) {
      out[2] = out[1];
      out[1] = command;
      break;
    }
  }
  return out;
}

}  // namespace

int RunCli(std::span<const std::string> raw_args, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> rewritten = VerbFirst(raw_args);
  const std::span<const std::string> args(rewritten);
  CLI::App app{"Arca: backup and restore for Kubernetes, compatible with Velero", "arca"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  CommandContext ctx{
      .out = out, .err = err, .out_is_terminal = &out == &std::cout && isatty(1) != 0};

  AddVersionCommand(app, ctx);
  AddBackupCommands(app, ctx);
  AddRestoreCommands(app, ctx);
  AddScheduleCommands(app, ctx);
  AddLocationCommands(app, ctx);
  AddInstallCommands(app, ctx);
  AddServerCommands(app, ctx);
  AddCompletionCommand(app, ctx);

  if (args.size() > 1 && args[1] == "__complete") {  // the completion scripts' callback
    Complete(app, args.subspan(2), out);
    return 0;
  }

  auto is_command = [&app](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->check_name(name)) {
        return true;
      }
    }
    return false;
  };
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' && !is_command(args[1])) {
    err << "arca: unknown command \"" << args[1] << "\"\nRun 'arca --help' for usage.\n";
    return 2;
  }

  // CLI11 parses a vector in reverse order (last argument first).
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) {  // the program name
    reversed.pop_back();
  }
  try {
    app.parse(std::move(reversed));
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "arca: " << e.what() << "\nRun 'arca --help' for usage.\n";
    return 2;
  }
  return ctx.exit_code;
}

}  // namespace arca::cli
