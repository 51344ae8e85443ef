# CPython built with pyprobe: include/pyprobe/cpython/pydtrace_probes.h and
# examples/cpython/build. Included at the end of tests/CMakeLists.txt; all of
# it needs the probes compiled in.
if(NOT PYPROBE_HAVE_PROBES)
  return()
endif()

# The header on its own, in every suite (seconds): CPython's calls and types,
# the guards, and 3.11's dispatch logic, with the gh-98894 answer and, as a
# control, with the exact line guard (CPython's own behaviour).
foreach(variant cpython_header cpython_header_exact_guard)
  pyprobe_check_test(${variant} "${CMAKE_CURRENT_SOURCE_DIR}/cpython/unit_pydtrace.c"
    pyprobe::pyprobe_static)
  target_include_directories(${variant} PRIVATE "${PROJECT_SOURCE_DIR}/include/pyprobe/cpython")
endforeach()
target_compile_definitions(cpython_header_exact_guard PRIVATE PYPROBE_CPYTHON_EXACT_LINE_GUARD)

# CPython 3.11 itself (label cpython, a few minutes, network and root): built
# by examples/cpython/build against this tree into cpython/ of the build
# tree (kept there: a second run only reruns make), then
# CPython's dtrace scenarios side by side with Debian's python3.11, the
# gh-98894 check, import and audit arguments, the probe list and some of
# CPython's regression tests. The steps skip (77) unless PYPROBE_CPYTHON=1;
# tests/run runs the label in its release suite only. CPython is not built
# against a sanitized library or a renamed provider.
if(PYPROBE_PROVIDER STREQUAL "python" AND NOT PYPROBE_SANITIZE)
  set(cpython_work "${PROJECT_BINARY_DIR}/cpython")
  set(cpython_test "${CMAKE_CURRENT_SOURCE_DIR}/cpython/test_cpython.py")
  find_program(PYPROBE_READELF NAMES readelf DOC "readelf, for the cpython_probes test")
  set(cpython_lister "")
  if(TARGET pyprobe_cli)
    set(cpython_lister --pyprobe "$<TARGET_FILE:pyprobe_cli>")
  endif()

  add_test(NAME cpython_build COMMAND Python3::Interpreter "${cpython_test}" build
    --work "${cpython_work}" --build-script "${PROJECT_SOURCE_DIR}/examples/cpython/build"
    --pyprobe-build "${PROJECT_BINARY_DIR}")
  set_tests_properties(cpython_build PROPERTIES FIXTURES_SETUP cpython TIMEOUT 1800)

  add_test(NAME cpython_probes COMMAND Python3::Interpreter "${cpython_test}" probes
    --work "${cpython_work}" ${cpython_lister} --readelf "${PYPROBE_READELF}")
  foreach(step scenarios entry-only imports-audit regrtest)
    string(REPLACE "-" "_" name "cpython_${step}")
    add_test(NAME ${name} COMMAND Python3::Interpreter "${cpython_test}" ${step} --work "${cpython_work}")
  endforeach()
  set_tests_properties(cpython_probes cpython_scenarios cpython_entry_only cpython_imports_audit
    cpython_regrtest PROPERTIES FIXTURES_REQUIRED cpython TIMEOUT 900)
  set_tests_properties(cpython_build cpython_probes cpython_scenarios cpython_entry_only
    cpython_imports_audit cpython_regrtest PROPERTIES LABELS "cpython;tracer" SKIP_RETURN_CODE 77)
  set_tests_properties(cpython_build cpython_probes PROPERTIES LABELS cpython)

  # The option: CPython linked with libpyprobe.so (the probes then live in
  # the library), built after the static one (same download and prefix).
  add_test(NAME cpython_build_shared COMMAND Python3::Interpreter "${cpython_test}" build --shared
    --work "${cpython_work}" --build-script "${PROJECT_SOURCE_DIR}/examples/cpython/build"
    --pyprobe-build "${PROJECT_BINARY_DIR}")
  add_test(NAME cpython_scenarios_shared COMMAND Python3::Interpreter "${cpython_test}" scenarios --shared
    --work "${cpython_work}")
  set_tests_properties(cpython_build_shared PROPERTIES FIXTURES_SETUP cpython_shared DEPENDS cpython_build
    TIMEOUT 1800 LABELS cpython SKIP_RETURN_CODE 77)
  set_tests_properties(cpython_scenarios_shared PROPERTIES FIXTURES_REQUIRED cpython_shared TIMEOUT 900
    LABELS "cpython;tracer" SKIP_RETURN_CODE 77)
endif()
