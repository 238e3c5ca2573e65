# pods/exec over WebSocket against the environment's API server and kwok node (exec_test.cc).
add_executable(exec_integration_test ${CMAKE_CURRENT_LIST_DIR}/exec_test.cc)
target_link_libraries(exec_integration_test PRIVATE arca::kube GTest::gmock GTest::gtest_main)
arca_copts(exec_integration_test)
foreach(case StdoutStderrAndExitCodeOfARealCommand CommandReallyRunsAndArgumentsAreNotSplit
             StdinIsDelivered LargeOutputIsCappedWithAMarker TimeoutIsDeadlineExceeded
             UnknownContainerIsInvalidArgumentWithTheServersWords UnknownPodIsNotFound
             MissingProgramIsReported BearerTokenAuthenticates)
  arca_integration_test(
    NAME exec.${case}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/with-testenv.sh $<TARGET_FILE:exec_integration_test>
            --gtest_filter=ExecIntegrationTest.${case})
endforeach()

# Exec hooks (hooks/executor.h) on pods of the kwok node (exec_hooks_test.cc).
add_executable(hooks_integration_test ${CMAKE_CURRENT_LIST_DIR}/exec_hooks_test.cc)
target_link_libraries(hooks_integration_test PRIVATE arca::hooks GTest::gmock GTest::gtest_main)
arca_copts(hooks_integration_test)
foreach(case PreHookWritesAMarkerAndPostHookRemovesIt
             FailSkipsThePodContinueDoesNotAndTimeoutsAreFailures BadAnnotationsGiveClearErrors
             RestoreExecHookRunsOnceThePodIsRunning
             RestoreExecHookOnAPodThatNeverRunsGivesUpAfterWaitTimeout
             RestoreExecHookOnADeletedPodIsNotExecuted)
  arca_integration_test(
    NAME exec.hooks.${case}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/with-testenv.sh $<TARGET_FILE:hooks_integration_test>
            --gtest_filter=HookIntegrationTest.${case})
endforeach()

# The exec benchmark's driver (run by hand: see bench/exec_bench.cc; it is not a test).
add_executable(exec_bench ${PROJECT_SOURCE_DIR}/bench/exec_bench.cc)
target_link_libraries(exec_bench PRIVATE arca::kube)
arca_copts(exec_bench)
# Runs it once, small, so it does not rot (it checks every exec's result and byte count itself).
arca_integration_test(NAME bench.exec_smoke
                      COMMAND ${CMAKE_CURRENT_LIST_DIR}/with-testenv.sh $<TARGET_FILE:exec_bench>
                              --n 2 --mib 1)
