# gdb and perf tracer tests, on fire_all linked both ways (included from
# tests/CMakeLists.txt after the fire_all targets and pyprobe_script_test).
# The module holding the probes is the library for the shared build and the
# program itself for the static one.
foreach(kind shared static)
  if(kind STREQUAL "shared")
    set(module "$<TARGET_FILE:pyprobe>")
  else()
    set(module "$<TARGET_FILE:fire_all_static>")
  endif()
  pyprobe_script_test(gdb_${kind} test_gdb.py
    --program "$<TARGET_FILE:fire_all_${kind}>" --module "${module}")
  pyprobe_script_test(perf_${kind} test_perf.py
    --program "$<TARGET_FILE:fire_all_${kind}>" --module "${module}")
  # perf's uprobe events (sdt_python:*) and build-id cache are global: one
  # perf test at a time.
  set_tests_properties(perf_${kind} PROPERTIES RESOURCE_LOCK perf)
endforeach()
