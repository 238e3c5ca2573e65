#include "cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/version.h"
#include "common/clock.h"

namespace arca::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun RunArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "arca");
  std::ostringstream out;
  std::ostringstream err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(VersionTest, PrintsVeleroLayout) {
  std::ostringstream out;
  PrintVersion(BuildInfo{"1.2.3", "0123456789ab", "2026-11-26T12:00:00Z"}, out);
  EXPECT_EQ(out.str(),
            "Client:\n\tVersion: v1.2.3\n\tGit commit: 0123456789ab\n"
            "\tBuild date: 2026-11-26T12:00:00Z\n");
}

TEST(CliTest, VersionCommandPrintsThisBuild) {
  CliRun r = RunArgs({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  BuildInfo info = GetBuildInfo();
  EXPECT_THAT(r.out, HasSubstr("Version: v" + std::string(info.version)));
  EXPECT_THAT(std::string(info.build_date),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_THAT(std::string(info.git_commit), MatchesRegex("([0-9a-f]{12}(-dirty)?|unknown)"));
}

TEST(CliTest, NoCommandIsAUsageError) {
  CliRun r = RunArgs({});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("arca --help"));
}

TEST(CliTest, UnknownCommandIsAUsageError) {
  CliRun r = RunArgs({"bakup"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bakup"));
}

TEST(CliTest, HelpListsCommands) {
  CliRun r = RunArgs({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("version"));
}

TEST(CompletionTest, CompletesCommandsSubcommandsAndFlags) {
  CliRun top = RunArgs({"__complete", "ba"});
  EXPECT_EQ(top.code, 0);
  EXPECT_EQ(top.out, "backup\nbackup-location\n");
  CliRun all = RunArgs({"__complete", ""});
  EXPECT_THAT(all.out, HasSubstr("install\n"));
  EXPECT_THAT(all.out, HasSubstr("restore\n"));
  EXPECT_THAT(all.out, HasSubstr("completion\n"));
  EXPECT_THAT(all.out, ::testing::Not(HasSubstr("__complete")));
  CliRun flags = RunArgs({"__complete", "install", "--no-"});
  EXPECT_THAT(flags.out, HasSubstr("--no-secret\n"));
  EXPECT_THAT(flags.out, HasSubstr("--no-deployment\n"));
  EXPECT_THAT(flags.out, ::testing::Not(HasSubstr("--provider")));
  CliRun sub = RunArgs({"__complete", "backup", "cr"});
  EXPECT_EQ(sub.out, "create\n");
}

TEST(CompletionTest, ScriptsForEachShellCallBackIntoTheBinary) {
  for (const char* shell : {"bash", "zsh", "fish"}) {
    CliRun run = RunArgs({"completion", shell});
    EXPECT_EQ(run.code, 0) << shell;
    EXPECT_THAT(run.out, HasSubstr("arca __complete")) << shell;
  }
  CliRun bad = RunArgs({"completion", "powershell"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("powershell"));
}

TEST(ProgressDisplayTest, PlainLinesAreThrottledAndTheLastOneIsAlwaysShown) {
  SimulatedClock clock(std::chrono::system_clock::time_point{} + std::chrono::hours(1));
  std::ostringstream out;
  ProgressDisplay progress(out, /*terminal=*/false, clock);
  progress.Update("Backing up", 1, 0);
  progress.Update("Backing up", 5, 100);  // within 5 s: held back
  clock.Advance(std::chrono::seconds(6));
  progress.Update("Backing up", 50, 100);
  progress.Update("Backing up", 100, 100);  // held back, then shown by Finish
  progress.Finish();
  EXPECT_EQ(out.str(),
            "Backing up 1 items\nBacking up 50/100 items (50%)\n"
            "Backing up 100/100 items (100%)\n");
}

TEST(ProgressDisplayTest, TerminalRedrawsOneLineAndEndsIt) {
  SimulatedClock clock(std::chrono::system_clock::time_point{} + std::chrono::hours(1));
  std::ostringstream out;
  ProgressDisplay progress(out, /*terminal=*/true, clock);
  progress.Update("Restoring", 0, 4);
  clock.Advance(std::chrono::milliseconds(150));
  progress.Update("Restoring", 4, 4);
  progress.Finish();
  EXPECT_EQ(out.str(), "\r\033[KRestoring 0/4 items (0%)\r\033[KRestoring 4/4 items (100%)\n");
}

TEST(InstallCommandTest, ServerFlagsBecomeDeploymentArguments) {
  CliRun run = RunArgs({"install", "--dry-run", "-o", "json", "--provider", "filesystem",
                        "--bucket", "b", "--backup-location-config", "root=/data", "--no-secret",
                        "--concurrent-backups", "3", "--garbage-collection-frequency", "30m"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"--concurrent-backups=3\""));
  EXPECT_THAT(run.out, HasSubstr("\"--garbage-collection-frequency=30m\""));
  CliRun bad = RunArgs({"install", "--dry-run", "--garbage-collection-frequency", "often"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--garbage-collection-frequency often:"));
  CliRun zero = RunArgs({"install", "--dry-run", "--concurrent-backups", "-1"});
  EXPECT_EQ(zero.code, 1);
  EXPECT_THAT(zero.err, HasSubstr("--concurrent-backups -1: give at least 1"));
}

TEST(CliTest, VerbFirstAliasesRunTheSameCommands) {
  const std::string dir = ::testing::TempDir() + "/verb-first-store";
  std::filesystem::create_directories(dir + "/backups");
  for (const auto& [alias, command] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"get", "backups"}, {"backup", "get"}},
           {{"describe", "backup", "x"}, {"backup", "describe", "x"}}}) {
    std::vector<std::string> a = alias;
    std::vector<std::string> c = command;
    for (auto* v : {&a, &c}) {
      v->insert(v->end(), {"--storage", "file://" + dir});
    }
    CliRun via_alias = RunArgs(a);
    CliRun direct = RunArgs(c);
    EXPECT_EQ(via_alias.code, direct.code);
    EXPECT_EQ(via_alias.out, direct.out);
    EXPECT_EQ(via_alias.err, direct.err);
    EXPECT_FALSE(direct.out.empty() && direct.err.empty());
  }
  // Not a noun Velero has: left alone, so CLI11 reports it.
  CliRun unknown = RunArgs({"get", "widgets"});
  EXPECT_EQ(unknown.code, 2);
}

}  // namespace
}  // namespace arca::cli
