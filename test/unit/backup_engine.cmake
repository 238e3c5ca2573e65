# The backup engine's unit tests (test/unit/backup/engine_test.cc) and the backup CLI's.
arca_cc_test(NAME backup_engine_test SRCS backup/engine_test.cc DEPS arca::backup arca::hooks)
target_include_directories(backup_engine_test PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(backup_engine_test
                           PRIVATE ARCA_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/test/testdata")

# `arca backup` in-process (create's flags and refusals, get and describe on a filesystem store).
arca_cc_test(NAME backup_cmd_test SRCS cli/backup_cmd_test.cc DEPS arca::cli arca::backup)
