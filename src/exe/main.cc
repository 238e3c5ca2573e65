// The arca binary: everything lives in libraries so tests can link it; this only adapts argv and
// is the last-resort catch for exceptions that escaped an adapter.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv, argv + argc);
    return arca::cli::RunCli(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "arca: internal error: " << e.what() << "\n";
    return 1;
  }
}
