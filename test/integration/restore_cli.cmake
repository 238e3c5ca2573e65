# `arca restore ...` through the Restore resources of a real `arca server` (restore_cli_test.sh).
foreach(case lifecycle from_schedule errors)
  arca_integration_test(NAME restore_cli.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/restore_cli_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
