# Tests of the probes defined at run time (ctest names runtime_*), in every
# build: the runtime needs no systemtap-sdt-dev, so PYPROBE_PROBES=OFF keeps
# it and its tests. Included at the end of tests/CMakeLists.txt.
# (PkgConfig::CHECK and Python3 come from tests/CMakeLists.txt.)
find_package(Threads REQUIRED)

set(runtime_tests_dir "${PROJECT_SOURCE_DIR}/tests/runtime")
set(runtime_build_dir "${PROJECT_BINARY_DIR}/tests/runtime")

function(runtime_executable name source)
  add_executable(${name} "${source}")
  target_link_libraries(${name} PRIVATE ${ARGN} Threads::Threads ${CMAKE_DL_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${runtime_build_dir}")
endfunction()

# A test script of tests/runtime run by the system's Python 3.
function(runtime_script_test name script)
  add_test(NAME ${name} COMMAND "${Python3_EXECUTABLE}" "${runtime_tests_dir}/${script}" ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS runtime)
endfunction()

# The API without a tracer, against both libraries.
runtime_executable(test_runtime_shared "${runtime_tests_dir}/test_runtime.c"
  pyprobe::pyprobe pyprobe_elf PkgConfig::CHECK)
runtime_executable(test_runtime_static "${runtime_tests_dir}/test_runtime.c"
  pyprobe::pyprobe_static pyprobe_elf PkgConfig::CHECK)
foreach(kind shared static)
  add_test(NAME runtime_unit_${kind} COMMAND test_runtime_${kind})
  set_tests_properties(runtime_unit_${kind} PROPERTIES LABELS runtime TIMEOUT 600)
endforeach()

# What tracers see of a C program's runtime providers.
runtime_executable(runtime_target "${runtime_tests_dir}/runtime_target.c" pyprobe::pyprobe)
foreach(case types enabled nopid providers threads fork tmpfile gdb)
  runtime_script_test(runtime_trace_${case} test_runtime_trace.py --case ${case}
    --target "$<TARGET_FILE:runtime_target>")
  set_tests_properties(runtime_trace_${case} PROPERTIES LABELS "runtime;tracer")
endforeach()
if(TARGET pyprobe_cli)
  runtime_script_test(runtime_trace_lister test_runtime_trace.py --case lister
    --target "$<TARGET_FILE:runtime_target>" --pyprobe "$<TARGET_FILE:pyprobe_cli>")
  set_tests_properties(runtime_trace_lister PROPERTIES LABELS "runtime;lister")
endif()

# The cost of a fire (bench/runtime_fire.c); the test only runs it briefly.
runtime_executable(runtime_fire "${PROJECT_SOURCE_DIR}/bench/runtime_fire.c" pyprobe::pyprobe)
add_test(NAME runtime_bench_smoke COMMAND runtime_fire 100000)
set_tests_properties(runtime_bench_smoke PROPERTIES LABELS runtime
  PASS_REGULAR_EXPRESSION "fire, untraced: +[0-9.]+ ns")

# The Python module (python/), when it was built. In a sanitizer build the
# module is instrumented: the interpreter gets the sanitizers' runtimes
# preloaded, and no leak check (the interpreter's own allocations at exit
# are no leaks of ours; the C tests run LeakSanitizer).
if(TARGET pyprobe_python)
  set(python_env "PYTHONPATH=$<TARGET_FILE_DIR:pyprobe_python>")
  set(python_preload "")
  foreach(sanitizer address undefined)
    if(PYPROBE_SANITIZE MATCHES "${sanitizer}")
      string(REPLACE address asan runtime "${sanitizer}")
      string(REPLACE undefined ubsan runtime "${runtime}")
      execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=lib${runtime}.so
        OUTPUT_VARIABLE library OUTPUT_STRIP_TRAILING_WHITESPACE)
      list(APPEND python_preload "${library}")
    endif()
  endforeach()
  if(python_preload)
    list(JOIN python_preload ":" python_preload)
    list(APPEND python_env "ASAN_OPTIONS=detect_leaks=0")
  endif()
  runtime_script_test(runtime_python_unit test_python_module.py)
  set_tests_properties(runtime_python_unit PROPERTIES LABELS "runtime;python" TIMEOUT 600
    ENVIRONMENT "${python_env};LD_PRELOAD=${python_preload}")
  # Only the traced Python program gets the preload (PYPROBE_TARGET_PRELOAD),
  # not bpftrace.
  runtime_script_test(runtime_python_trace test_python_trace.py)
  set_tests_properties(runtime_python_trace PROPERTIES LABELS "runtime;python;tracer"
    ENVIRONMENT "${python_env};PYPROBE_TARGET_PRELOAD=${python_preload}")
endif()
