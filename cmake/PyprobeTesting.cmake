# How pyprobe's tests are registered: every test program and script goes
# through one of the two functions here (tests/, examples/, bench/).
# Tracer tests exit 77 (skipped) when a tracer or root is missing, and fail
# instead under PYPROBE_REQUIRE_TRACERS=1 (tests/run sets it).
include_guard(GLOBAL)

set(PYPROBE_TEST_LIB "${PROJECT_SOURCE_DIR}/tests/lib")

# pyprobe_script_test(<name> <script> [ARGS <arg>...] [LABELS <label>...]
#                     [ENVIRONMENT <VAR=value>...] [PYTHONPATH <dir>...]
#                     [TIMEOUT <seconds>])
# A Python test script, run by the tests' python3 (Python3::Interpreter)
# with tests/lib (common.py, events.py) and the PYTHONPATH dirs on its path.
function(pyprobe_script_test name script)
  cmake_parse_arguments(arg "" "TIMEOUT" "ARGS;LABELS;ENVIRONMENT;PYTHONPATH" ${ARGN})
  add_test(NAME ${name} COMMAND Python3::Interpreter "${script}" ${arg_ARGS})
  list(JOIN arg_PYTHONPATH ":" path)
  if(path)
    set(path ":${path}")
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONPATH=${PYPROBE_TEST_LIB}${path};${arg_ENVIRONMENT}")
  if(arg_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}")
  endif()
  if(arg_TIMEOUT)
    set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT})
  endif()
endfunction()

# pyprobe_check_test(<name> <source> [<library>...])
# A Check test program of one source file (tests/lib/test_run.h's main()).
function(pyprobe_check_test name source)
  add_executable(${name} ${source})
  target_include_directories(${name} PRIVATE "${PYPROBE_TEST_LIB}")
  target_link_libraries(${name} PRIVATE ${ARGN} PkgConfig::CHECK)
  add_test(NAME ${name} COMMAND ${name})
endfunction()
