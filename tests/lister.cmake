# The lister's tests (ctest names lister_*), in every build: most need no
# probes.
set(lister_tests_dir "${PROJECT_SOURCE_DIR}/tests")
set(lister_build_dir "${PROJECT_BINARY_DIR}/tests/lister")
set(lister_cli "$<TARGET_FILE:pyprobe_cli>")
if(PYPROBE_HAVE_PROBES)
  set(lister_library "$<TARGET_FILE:pyprobe>")
endif()

# A Python test script of tests/tracers, given the pyprobe command.
function(lister_script_test name script)
  pyprobe_script_test(${name} "${lister_tests_dir}/tracers/${script}" LABELS lister
    ARGS --pyprobe "${lister_cli}" ${ARGN})
endfunction()

# Unit tests of the library code, on hand-made files that make_inputs.py
# writes first (a fixture).
add_executable(test_lister "${lister_tests_dir}/lister/test_lister.c")
target_link_libraries(test_lister PRIVATE pyprobe_lister PkgConfig::CHECK)
target_include_directories(test_lister PRIVATE "${PYPROBE_TEST_LIB}")
set_target_properties(test_lister PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${lister_build_dir}")
add_test(NAME lister_inputs COMMAND "${Python3_EXECUTABLE}" "${lister_tests_dir}/lister/make_inputs.py"
  "${lister_build_dir}/inputs")
set_tests_properties(lister_inputs PROPERTIES FIXTURES_SETUP lister_inputs LABELS lister)
add_test(NAME lister_unit COMMAND test_lister "${lister_build_dir}/inputs" ${lister_library})
set_tests_properties(lister_unit PROPERTIES FIXTURES_REQUIRED lister_inputs LABELS lister)

# The command on hand-made files: layout, filters, -v, --json, errors.
lister_script_test(lister_cli test_lister_cli.py)

# bin/pyprobe and share/man/man1/pyprobe.1 once installed.
lister_script_test(lister_install test_lister_install.py
  --cmake "${CMAKE_COMMAND}" --build-dir "${PROJECT_BINARY_DIR}" "--config=$<CONFIG>")

# The command against readelf -n and bpftrace -l on real programs: the
# system's well-known files with stapsdt notes, and this build's.
set(lister_real_args --readelf "${CMAKE_READELF}")
if(NOT CMAKE_READELF)
  set(lister_real_args --readelf readelf)
endif()
if(PYPROBE_HAVE_PROBES)
  list(APPEND lister_real_args --file "$<TARGET_FILE:pyprobe>" --file "$<TARGET_FILE:fire_all_static>")
endif()
lister_script_test(lister_readelf test_lister_real.py ${lister_real_args})
lister_script_test(lister_bpftrace_list test_lister_real.py ${lister_real_args} --bpftrace)
set_tests_properties(lister_bpftrace_list PROPERTIES LABELS "lister;tracer")

# -p: a process that loads a library with dlopen (by path, memfd, deleted
# file, from another mount namespace). The library is libpyprobe; with the
# probes compiled out, libstdc++ (its libstdcxx probes have no semaphores).
add_executable(dlopen_target "${lister_tests_dir}/lister/dlopen_target.c")
target_link_libraries(dlopen_target PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(dlopen_target PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${lister_build_dir}")
if(PYPROBE_HAVE_PROBES)
  set(lister_pid_args --library "$<TARGET_FILE:pyprobe>" --provider "${PYPROBE_PROVIDER}")
else()
  find_library(PYPROBE_LISTER_LIBSTDCXX NAMES libstdc++.so.6 DOC "a library with stapsdt notes for lister_pid")
  set(lister_pid_args --library "${PYPROBE_LISTER_LIBSTDCXX}" --provider libstdcxx)
endif()
if(PYPROBE_HAVE_PROBES OR PYPROBE_LISTER_LIBSTDCXX)
  lister_script_test(lister_pid test_lister_pid.py --target "$<TARGET_FILE:dlopen_target>" ${lister_pid_args})
  set_tests_properties(lister_pid PROPERTIES LABELS "lister;tracer")
endif()
if(PYPROBE_HAVE_PROBES)
  lister_script_test(lister_semaphore test_lister_pid.py --target "$<TARGET_FILE:dlopen_target>"
    ${lister_pid_args} --semaphore)
  set_tests_properties(lister_semaphore PROPERTIES LABELS "lister;tracer")
endif()

# The argument types recorded in .note.pyprobe, and their generator.
if(PYPROBE_HAVE_PROBES)
  lister_script_test(lister_types test_lister_types.py
    --library "$<TARGET_FILE:pyprobe>" --static-program "$<TARGET_FILE:fire_all_static>"
    --provider-file "${PYPROBE_PROVIDER_FILE}" --signatures-script "${PYPROBE_SIGNATURES_SCRIPT}" --include "${PYPROBE_INCLUDE_DIR}"
    --cmake "${CMAKE_COMMAND}" --cc "${CMAKE_C_COMPILER}" --strip "${CMAKE_STRIP}")
endif()

# The fuzz target: libFuzzer with clang, always under ASan and UBSan, built
# when clang's libFuzzer works here (tests/run installs clang and its
# runtime). lister_fuzz runs it from fuzz/corpus for PYPROBE_FUZZ_SECONDS:
# a minute in a sanitizer build, a short run elsewhere.
find_program(PYPROBE_FUZZ_CLANG NAMES clang clang-16 clang-15 clang-14 DOC "clang, for the libFuzzer target")
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
set(PYPROBE_FUZZ_SECONDS ${fuzz_seconds} CACHE STRING "How long lister_fuzz fuzzes")
if(PYPROBE_FUZZ_WORKS)
  pkg_check_modules(LISTER_LIBELF REQUIRED libelf)
  set(fuzzer "${lister_build_dir}/fuzz_elf_notes")
  set(fuzz_sources "${PROJECT_SOURCE_DIR}/fuzz/fuzz_elf_notes.c")
  foreach(library pyprobe_elf pyprobe_lister)
    get_target_property(library_dir ${library} SOURCE_DIR)
    get_target_property(library_sources ${library} SOURCES)
    list(TRANSFORM library_sources PREPEND "${library_dir}/")
    list(APPEND fuzz_sources ${library_sources})
  endforeach()
  file(GLOB fuzz_headers "${PROJECT_SOURCE_DIR}/src/elf/*.h" "${PROJECT_SOURCE_DIR}/src/lister/*.h")
  list(TRANSFORM LISTER_LIBELF_INCLUDE_DIRS PREPEND "-I" OUTPUT_VARIABLE fuzz_includes)
  add_custom_command(OUTPUT "${fuzzer}"
    COMMAND "${PYPROBE_FUZZ_CLANG}" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
            -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror
            "-I${PROJECT_SOURCE_DIR}/src/elf" "-I${PROJECT_SOURCE_DIR}/src/lister" "-I${PROJECT_SOURCE_DIR}/include" "-I${PROJECT_SOURCE_DIR}/src/common" ${fuzz_includes}
            ${fuzz_sources} ${LISTER_LIBELF_LINK_LIBRARIES} -o "${fuzzer}"
    DEPENDS ${fuzz_sources} ${fuzz_headers}
    COMMENT "libFuzzer target fuzz_elf_notes (clang, ASan, UBSan)"
    VERBATIM)
  add_custom_target(fuzz_elf_notes ALL DEPENDS "${fuzzer}")
  pyprobe_script_test(lister_fuzz "${lister_tests_dir}/tracers/test_lister_fuzz.py" ARGS
    --fuzzer "${fuzzer}" --seeds "${PROJECT_SOURCE_DIR}/fuzz/corpus" --work "${lister_build_dir}/fuzz"
    --seconds ${PYPROBE_FUZZ_SECONDS})
  set_tests_properties(lister_fuzz PROPERTIES LABELS "lister;fuzz" TIMEOUT 600)
else()
  message(STATUS "pyprobe: no lister_fuzz: clang with libFuzzer not found (apt-get install clang libclang-rt-dev)")
endif()
