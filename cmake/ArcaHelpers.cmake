# Helpers that give every Arca target the same flags. Warning flags are defined here once and
# applied to project targets only, never to third-party code.

set(ARCA_WARNING_FLAGS
    -Wall
    -Wextra
    -Wpedantic
    -Wnon-virtual-dtor
    -Wcast-qual
    -Wformat=2
    -Wformat-security
    -Wmissing-declarations
    -Wshadow
    -Wvla
    -Wimplicit-fallthrough)

function(arca_copts target)
  target_compile_options(${target} PRIVATE ${ARCA_WARNING_FLAGS})
  if(ARCA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# arca_cc_library(NAME name SRCS ... [HDRS ...] [DEPS ...])
# Makes the static library arca_<name> with the alias arca::<name>. Includes are absolute from src/.
function(arca_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  set(target arca_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
  add_library(arca::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  arca_copts(${target})
endfunction()

# arca_cc_test(NAME name SRCS ... [DEPS ...] [LABELS ...])
# A GoogleTest binary whose tests ctest discovers one by one; labelled "unit" unless told otherwise.
function(arca_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  # Shared test helpers: #include "support/...".
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/test)
  arca_copts(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
