arca_cc_test(NAME install_test SRCS install/manifests_test.cc install/apply_test.cc DEPS arca::install)
# The server-mode CLI commands: schedule and backup-location (cli/schedule_cmd.cc,
# cli/location_cmd.cc) and the download helper (cli/download.cc).
arca_cc_test(NAME cli_server_cmds_test SRCS cli/server_cmds_test.cc DEPS arca::cli)
target_include_directories(cli_server_cmds_test PRIVATE ${PROJECT_SOURCE_DIR})
