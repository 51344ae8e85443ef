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

# pyprobe_fuzz_test(<name> <source> LIBRARIES <target>... [INCLUDES <dir>...]
#                   [LINK <library>...] SEEDS <dir>... [LABELS <label>...])
# A libFuzzer target named after <source>, compiled by clang from <source>
# and the sources of the LIBRARIES (pyprobe's own, whatever this build's
# compiler), always under ASan and UBSan; and the test <name>, which runs
# it from the SEEDS for PYPROBE_FUZZ_SECONDS (tests/lib/run_fuzzer.py): a
# minute in a sanitizer build, a short run elsewhere. Only where clang's
# libFuzzer works (tests/run installs clang and its runtime).
find_program(PYPROBE_FUZZ_CLANG NAMES clang clang-16 clang-15 clang-14 DOC "clang, for the libFuzzer targets")
if(PYPROBE_FUZZ_CLANG AND NOT DEFINED PYPROBE_FUZZ_WORKS)
  set(probe_dir "${PROJECT_BINARY_DIR}/CMakeFiles/pyprobe_fuzz_check")
  file(WRITE "${probe_dir}/probe.c"
    "int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n"
    "int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND "${PYPROBE_FUZZ_CLANG}" -fsanitize=fuzzer,address,undefined probe.c -o probe
    WORKING_DIRECTORY "${probe_dir}" RESULT_VARIABLE fuzz_rc OUTPUT_QUIET ERROR_QUIET)
  if(fuzz_rc EQUAL 0)
    set(PYPROBE_FUZZ_WORKS ON CACHE INTERNAL "clang -fsanitize=fuzzer works")
  else()
    set(PYPROBE_FUZZ_WORKS OFF CACHE INTERNAL "clang -fsanitize=fuzzer works")
  endif()
endif()
if(PYPROBE_SANITIZE MATCHES "address")
  set(fuzz_seconds 60)
else()
  set(fuzz_seconds 10)
endif()
set(PYPROBE_FUZZ_SECONDS ${fuzz_seconds} CACHE STRING "How long each fuzz test fuzzes")
if(NOT PYPROBE_FUZZ_WORKS)
  message(STATUS "pyprobe: no fuzz tests: clang with libFuzzer not found (apt-get install clang libclang-rt-dev)")
endif()

function(pyprobe_fuzz_test name source)
  cmake_parse_arguments(arg "" "" "LIBRARIES;INCLUDES;LINK;SEEDS;LABELS" ${ARGN})
  if(NOT PYPROBE_FUZZ_WORKS)
    return()
  endif()
  get_filename_component(target "${source}" NAME_WE)
  set(fuzzer "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(sources "${source}")
  set(includes "")
  set(headers "")
  foreach(library IN LISTS arg_LIBRARIES)
    get_target_property(library_dir ${library} SOURCE_DIR)
    get_target_property(library_sources ${library} SOURCES)
    get_target_property(library_includes ${library} INCLUDE_DIRECTORIES)
    foreach(library_source IN LISTS library_sources)
      if(NOT IS_ABSOLUTE "${library_source}")
        set(library_source "${library_dir}/${library_source}")
      endif()
      list(APPEND sources "${library_source}")   # absolute: generated, or listed by path
    endforeach()
    list(APPEND includes ${library_includes})
    file(GLOB library_headers "${library_dir}/*.h")
    list(APPEND headers ${library_headers})
  endforeach()
  list(APPEND includes ${arg_INCLUDES})
  list(FILTER includes EXCLUDE REGEX "-NOTFOUND$")
  list(REMOVE_DUPLICATES includes)
  foreach(dir IN LISTS includes)
    file(GLOB dir_headers "${dir}/*.h")
    list(APPEND headers ${dir_headers})
  endforeach()
  list(TRANSFORM includes PREPEND "-I")
  add_custom_command(OUTPUT "${fuzzer}"
    COMMAND "${PYPROBE_FUZZ_CLANG}" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
            -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror
            ${includes} ${sources} ${arg_LINK} -o "${fuzzer}"
    DEPENDS ${sources} ${headers}
    COMMENT "libFuzzer target ${target} (clang, ASan, UBSan)"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS "${fuzzer}")
  set(seeds "")
  foreach(dir IN LISTS arg_SEEDS)
    list(APPEND seeds --seeds "${dir}")
  endforeach()
  pyprobe_script_test(${name} "${PYPROBE_TEST_LIB}/run_fuzzer.py" LABELS ${arg_LABELS} fuzz TIMEOUT 600
    ARGS --fuzzer "${fuzzer}" ${seeds} --work "${CMAKE_CURRENT_BINARY_DIR}/${target}_work"
         --seconds ${PYPROBE_FUZZ_SECONDS})
endfunction()
