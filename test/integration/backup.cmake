# Backup engine and `arca backup` against the real environment (backup_test.sh), and the backup
# benchmark's driver with its smoke test. Included from test/integration/CMakeLists.txt.
foreach(case namespace_with_related_items pod_pulls_in_pvc_and_pv label_selector_whole_cluster
             or_selector_and_globs scoped_filters_and_exclusions
             same_backup_to_filesystem_and_minio forbidden_resource_is_partially_failed
             cli_get_describe_and_refusals go_reader_reads_the_backup excluded_namespace)
  arca_integration_test(NAME backup.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/backup_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
set_tests_properties(backup.excluded_namespace PROPERTIES RUN_SERIAL TRUE)

# The backup benchmark's driver (bench/backup runs it; it is not a test), and its smoke test.
add_executable(backup_bench ${PROJECT_SOURCE_DIR}/bench/backup_bench.cc ${PROJECT_SOURCE_DIR}/bench/child_process.cc)
target_link_libraries(backup_bench PRIVATE arca::kube)
arca_copts(backup_bench)
arca_integration_test(NAME bench.backup_smoke
                      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_backup_smoke.sh
                              ${PROJECT_BINARY_DIR})

# Backup exec hooks through the real binary (pods on the kwok node run the commands here).
foreach(case around_the_pod fail_skips_pod continue_keeps_pod timeout server_spec_hooks)
  arca_integration_test(NAME backup.hooks.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/backup_hooks_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
