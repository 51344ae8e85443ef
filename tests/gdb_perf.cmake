# gdb and perf tracer tests on fire_all, linked both ways.
pyprobe_fire_all_test(gdb test_gdb.py)
pyprobe_fire_all_test(perf test_perf.py)
# perf's uprobe events (sdt_python:*) and build-id cache are global: one
# perf test at a time.
set_tests_properties(perf_shared perf_static PROPERTIES RESOURCE_LOCK perf)
