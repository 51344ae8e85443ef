# bench_smoke: bench/run --quick on this build tree (label `bench`, about
# 20-40 s): every part of the benchmark runs, with tiny workloads, and its
# `sites` check (the bytes at every probe site, no access below %rsp in the
# fire functions, -mno-red-zone) must pass. The figures it prints mean
# little; run bench/run for the real ones (README, "Performance").
#
# Only in a default tree (probes on, 5-byte sites, provider python, no
# sanitizer): the programs it builds against this tree are plain builds.
# The tracing part needs root (bpftrace) and says "skipped" without it.
if(NOT PYPROBE_TESTS OR NOT PYPROBE_HAVE_PROBES OR NOT PYPROBE_NOP5 OR PYPROBE_SANITIZE
   OR NOT PYPROBE_PROVIDER STREQUAL "python" OR NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  return()
endif()
find_program(PYPROBE_VALGRIND valgrind)
find_package(Python3 COMPONENTS Interpreter)
if(NOT PYPROBE_VALGRIND OR NOT Python3_Interpreter_FOUND)
  message(STATUS "pyprobe: bench_smoke left out: needs valgrind and python3")
  return()
endif()
add_test(NAME bench_smoke COMMAND Python3::Interpreter "${PROJECT_SOURCE_DIR}/bench/run" --quick
  --out "${PROJECT_BINARY_DIR}/bench-smoke" --pyprobe-build "${PROJECT_BINARY_DIR}")
set_tests_properties(bench_smoke PROPERTIES LABELS bench TIMEOUT 300 RUN_SERIAL TRUE)
