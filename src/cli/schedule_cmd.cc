#include "cli/schedule_cmd.h"

namespace arca::cli {

void AddScheduleCommands(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace arca::cli
