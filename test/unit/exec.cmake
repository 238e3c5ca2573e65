# pods/exec: WebSocket framing (pure) and the exec client against a loopback TLS WebSocket server.
arca_cc_test(NAME exec_test
             SRCS ${CMAKE_CURRENT_LIST_DIR}/http/websocket_test.cc
                  ${CMAKE_CURRENT_LIST_DIR}/kube/exec_test.cc
             DEPS arca::kube OpenSSL::SSL)

# Running exec hooks (hooks/executor.h) with a fake executor and scripted pod states.
arca_cc_test(NAME hooks_executor_test SRCS ${CMAKE_CURRENT_LIST_DIR}/hooks/executor_test.cc
             DEPS arca::hooks)
