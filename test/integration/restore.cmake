# Integration tests of the restore engine and `arca restore create` against the real test
# environment (helper area: restore). Included from test/integration/CMakeLists.txt, so they share
# the testenv fixture.
add_executable(restore_integration_test ${CMAKE_CURRENT_SOURCE_DIR}/restore_test.cc)
target_link_libraries(restore_integration_test PRIVATE arca::restore arca::backup arca::kube
                                                       arca::objstore GTest::gmock GTest::gtest_main)
arca_copts(restore_integration_test)
foreach(case RoundTripRestoresEveryObjectFaithfully NamespaceMappingWhileTheSourceStillExists
             FiltersAndExistingResourcePolicies HostileTarballIsRefusedAndNothingIsRestored
             ManagedFieldsKeepTheirOwners)
  arca_integration_test(
    NAME restore.${case}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/with-testenv.sh $<TARGET_FILE:restore_integration_test>
            --gtest_filter=RestoreIntegrationTest.${case})
endforeach()
# `arca restore create --standalone` through the real binary (no server).
arca_integration_test(NAME restore.cli
                      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/restore_standalone_cli_test.sh $<TARGET_FILE:arca>)

# The restore benchmark's driver (bench/restore runs it; it is not a test), and its smoke test.
add_executable(restore_bench ${PROJECT_SOURCE_DIR}/bench/restore_bench.cc ${PROJECT_SOURCE_DIR}/bench/child_process.cc
                             ${PROJECT_SOURCE_DIR}/bench/request_replay.cc)
target_link_libraries(restore_bench PRIVATE arca::restore arca::backup arca::kube arca::objstore)
target_include_directories(restore_bench PRIVATE ${PROJECT_SOURCE_DIR}/test)
arca_copts(restore_bench)
arca_integration_test(NAME bench.restore_smoke
                      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_restore_smoke.sh
                              ${PROJECT_BINARY_DIR})
# Restore init-container and exec hooks through the real binary (pods on the kwok node).
arca_integration_test(NAME restore.hooks
                      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/restore_hooks_test.sh $<TARGET_FILE:arca>)
