# The CLI's cluster commands against the real environment (install_test.sh).
foreach(case crd_schemas_reject_malformed_resources install_twice_and_uninstall
             helm_chart_matches_install
             install_refuses_bad_flags)
  arca_integration_test(NAME install.${case}
                        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh $<TARGET_FILE:arca>
                                ${case})
endforeach()
# Uninstalling deletes the CRDs, which other tests (the server's) need: nothing runs beside it.
set_tests_properties(install.install_twice_and_uninstall PROPERTIES RUN_SERIAL TRUE)
