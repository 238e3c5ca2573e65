# Unit tests of `arca server`'s foundation (src/controller) and the kinds it serves (src/api).
arca_cc_test(NAME controller_test
             SRCS controller/work_queue_test.cc controller/metrics_test.cc
                  controller/leader_election_test.cc controller/reconcilers_test.cc
                  controller/http_server_test.cc controller/backup_controller_test.cc
                  controller/restore_controller_test.cc controller/schedule_controller_test.cc
                  controller/gc_controller_test.cc controller/backup_sync_test.cc
                  controller/backup_queue_test.cc
             DEPS arca::controller)
target_include_directories(controller_test PRIVATE ${PROJECT_SOURCE_DIR})
arca_cc_test(NAME api_server_kinds_test
             SRCS api/backup_storage_location_test.cc api/requests_test.cc DEPS arca::api)
