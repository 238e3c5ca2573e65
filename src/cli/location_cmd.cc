#include "cli/location_cmd.h"

namespace arca::cli {

void AddLocationCommands(CLI::App& /*app*/, CommandContext& /*ctx*/) {}

}  // namespace arca::cli
