# `arca backup ...` through the Backup resources of a real `arca server` (backup_cli_test.sh).
foreach(case lifecycle_fs lifecycle_minio logs_fallback from_schedule errors)
  arca_integration_test(NAME backup_cli.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/backup_cli_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
