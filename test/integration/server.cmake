# `arca server` as a real process against the environment (server_test.sh).
foreach(case ssr_processed bsl_validation download_request delete_backup_request leader_election
             metrics_and_flags backup_lifecycle
             restore_lifecycle backup_survives_sigkill schedule gc
             backup_sync backup_queue restore_concurrency)
  arca_integration_test(NAME server.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/server_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
