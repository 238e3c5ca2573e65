// File: cli/completion_cmd.h
//
// Shell completion: `arca completion bash|zsh|fish` prints a script that asks the binary itself
// for candidates (`arca __complete WORD... PREFIX`), so completion always matches the commands
// and flags this build has.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <span>
#include <string>

#include "cli/common.h"

namespace arca::cli {

void AddCompletionCommand(CLI::App& app, CommandContext& ctx);

// Prints the candidates for the last of `words` (the words typed after `arca`, the last one
// being the partial word), one per line: subcommands, or flags when it starts with '-'.
void Complete(const CLI::App& app, std::span<const std::string> words, std::ostream& out);

}  // namespace arca::cli
