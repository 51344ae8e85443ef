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

# pyprobe_fuzz_test(<test> <name> LIBRARIES <target>... [PACKAGES <imported>...]
#                   SEEDS <dir> [LABELS <label>...])
# A libFuzzer target, fuzz/<name>.c compiled by clang under ASan and UBSan
# with the sources of the LIBRARIES (and the include directories and
# libraries of the PACKAGES' imported targets), built when clang's
# libFuzzer works here (tests/run installs clang and its runtime); <test>
# runs it from SEEDS for PYPROBE_FUZZ_SECONDS: a minute in a sanitizer
# build, a short run elsewhere.
function(pyprobe_fuzz_test test name)
  cmake_parse_arguments(arg "" "SEEDS" "LIBRARIES;PACKAGES;LABELS" ${ARGN})
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
  if(NOT PYPROBE_FUZZ_WORKS)
    message(STATUS "pyprobe: no ${test}: clang with libFuzzer not found (apt-get install clang libclang-rt-dev)")
    return()
  endif()
  if(PYPROBE_SANITIZE MATCHES "address")
    set(fuzz_seconds 60)
  else()
    set(fuzz_seconds 10)
  endif()
  set(PYPROBE_FUZZ_SECONDS ${fuzz_seconds} CACHE STRING "How long each fuzz test fuzzes")
  set(fuzzer "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  set(sources "${PROJECT_SOURCE_DIR}/fuzz/${name}.c")
  set(includes "")
  set(headers "")
  foreach(library IN LISTS arg_LIBRARIES)
    get_target_property(library_dir ${library} SOURCE_DIR)
    get_target_property(library_sources ${library} SOURCES)
    foreach(source IN LISTS library_sources)
      if(NOT IS_ABSOLUTE "${source}")
        set(source "${library_dir}/${source}")
      endif()
      list(APPEND sources "${source}")
      get_filename_component(source_dir "${source}" DIRECTORY)
      list(APPEND includes "-I${source_dir}")
      file(GLOB library_headers "${source_dir}/*.h")
      list(APPEND headers ${library_headers})
    endforeach()
  endforeach()
  # The packages as the build found them (their imported targets).
  set(libraries "")
  set(package_includes "")
  foreach(package IN LISTS arg_PACKAGES)
    get_target_property(package_dirs ${package} INTERFACE_INCLUDE_DIRECTORIES)
    get_target_property(package_libraries ${package} INTERFACE_LINK_LIBRARIES)
    if(package_dirs)
      list(APPEND package_includes ${package_dirs})
    endif()
    list(APPEND libraries ${package_libraries})
  endforeach()
  foreach(dir "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/src/common" ${package_includes})
    list(APPEND includes "-I${dir}")
  endforeach()
  list(REMOVE_DUPLICATES includes)
  file(GLOB common_headers "${PROJECT_SOURCE_DIR}/src/common/*.h")
  add_custom_command(OUTPUT "${fuzzer}"
    COMMAND "${PYPROBE_FUZZ_CLANG}" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
            -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror
            ${includes} ${sources} ${libraries} -o "${fuzzer}"
    DEPENDS ${sources} ${headers} ${common_headers}
    COMMENT "libFuzzer target ${name} (clang, ASan, UBSan)"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${fuzzer}")
  pyprobe_script_test(${test} "${PYPROBE_TEST_LIB}/run_fuzzer.py" LABELS ${arg_LABELS} fuzz TIMEOUT 600
    ARGS --fuzzer "${fuzzer}" --seeds "${arg_SEEDS}" --work "${CMAKE_CURRENT_BINARY_DIR}/${name}.work"
         --seconds ${PYPROBE_FUZZ_SECONDS})
endfunction()
