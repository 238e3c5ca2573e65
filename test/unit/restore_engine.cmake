# Unit tests of the restore engine and its API type (helper area: restore). Included from
# test/unit/CMakeLists.txt.
arca_cc_test(NAME api_restore_test SRCS api/restore_test.cc DEPS arca::api)
arca_cc_test(NAME restore_engine_test SRCS restore/engine_test.cc
             DEPS arca::restore arca::backup arca::kube arca::objstore)
target_compile_definitions(restore_engine_test
                           PRIVATE ARCA_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/test/testdata")
arca_cc_test(NAME restore_cmd_test SRCS restore/restore_cmd_test.cc DEPS arca::cli)
