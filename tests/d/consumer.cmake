# Tests of the D consumer (src/d/d_consumer.cmake; ctest names d_consumer_*):
# DTrace's layouts on hand-built plans and data, bpftrace's JSON events
# read from real bpftrace output, and bpftrace run on pint with
# hand-written programs that follow d_data.h's wire protocol.
set(d_tests "${CMAKE_CURRENT_LIST_DIR}")

pyprobe_check_test(d_consumer_render "${d_tests}/test_d_render.c" pyprobe_d_consumer)
pyprobe_check_test(d_consumer_events "${d_tests}/test_d_events.c" pyprobe_d_consumer)
pyprobe_check_test(d_consumer_consume "${d_tests}/test_d_consume.c" pyprobe_d_consumer)
pyprobe_check_test(d_consumer_run "${d_tests}/test_d_run.c" pyprobe_d_consumer)
set_tests_properties(d_consumer_render d_consumer_events d_consumer_consume d_consumer_run PROPERTIES LABELS d)

# The runner and the consumer on pint, with hand-written programs.
add_executable(d_trace_driver "${d_tests}/d_trace_driver.c")
target_link_libraries(d_trace_driver PRIVATE pyprobe_d_consumer)
if(PYPROBE_HAVE_PROBES)
  pyprobe_script_test(d_consumer_trace "${d_tests}/test_d_trace.py" LABELS d tracer TIMEOUT 900
    ARGS --driver "$<TARGET_FILE:d_trace_driver>" --pint "$<TARGET_FILE:pint>"
         --programs "${PROJECT_SOURCE_DIR}/examples/programs" --provider "${PYPROBE_PROVIDER}")
endif()

# The event reader on bpftrace's own -f json output (tracer: root only).
add_executable(d_events_dump "${d_tests}/d_events_dump.c")
target_link_libraries(d_events_dump PRIVATE pyprobe_d_consumer)
pyprobe_script_test(d_consumer_events_bpftrace "${d_tests}/test_d_events.py" LABELS d tracer
  ARGS --dump "$<TARGET_FILE:d_events_dump>")

# The command's D options: usage, errors, executable scripts, -o, -l -n.
set(d_cli_args --pyprobe "$<TARGET_FILE:pyprobe_cli>")
if(PYPROBE_HAVE_PROBES)
  list(APPEND d_cli_args --pint "$<TARGET_FILE:pint>" --fib "${PROJECT_SOURCE_DIR}/examples/programs/fib.pint"
       --provider "${PYPROBE_PROVIDER}")
endif()
pyprobe_script_test(d_consumer_cli "${d_tests}/test_d_cli.py" LABELS d ARGS ${d_cli_args})

# D scripts the whole way (front end, resolver, bpftrace, consumer) on
# pint.
if(PYPROBE_HAVE_PROBES)
  pyprobe_script_test(d_consumer_scripts "${d_tests}/test_d_scripts.py" LABELS d tracer TIMEOUT 900
    ARGS --pyprobe "$<TARGET_FILE:pyprobe_cli>" --pint "$<TARGET_FILE:pint>"
         --programs "${PROJECT_SOURCE_DIR}/examples/programs" --provider "${PYPROBE_PROVIDER}")
endif()

# The consumer's fuzz target (fuzz/fuzz_d_events.c): JSON lines in, DTrace's
# output out, from fuzz/d_events.
# libelf and json-c as the build found them (their imported targets).
set(d_fuzz_includes "")
set(d_fuzz_link "")
foreach(package PkgConfig::LIBELF PkgConfig::JSONC)
  get_target_property(package_includes ${package} INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(package_libraries ${package} INTERFACE_LINK_LIBRARIES)
  if(package_includes)
    list(APPEND d_fuzz_includes ${package_includes})
  endif()
  list(APPEND d_fuzz_link ${package_libraries})
endforeach()
pyprobe_fuzz_test(d_consumer_fuzz "${PROJECT_SOURCE_DIR}/fuzz/fuzz_d_events.c"
  LIBRARIES pyprobe_elf pyprobe_lister pyprobe_d_consumer pyprobe_d INCLUDES ${d_fuzz_includes} LINK ${d_fuzz_link}
  SEEDS "${PROJECT_SOURCE_DIR}/fuzz/d_events" LABELS d)
