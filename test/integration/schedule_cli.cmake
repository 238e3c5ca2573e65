# `arca schedule ...` and `arca backup-location ...` against a real `arca server`
# (schedule_cli_test.sh).
foreach(case schedule location malformed)
  arca_integration_test(NAME schedule_cli.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/schedule_cli_test.sh
                                $<TARGET_FILE:arca> ${case})
endforeach()
