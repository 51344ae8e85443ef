# pyprobe_d_consumer: the consumer half of pyprobe's D front end (see
# d_data.h, its contract with the translation in pyprobe_d): bpftrace's
# `-f json` events (d_events), DTrace's output formats (d_render,
# d_aggstate, d_aggprint), the events of a plan turned into output
# (d_consume), bpftrace run and supervised (d_run), and the probes that D
# descriptions name (d_resolve). Included from src/CMakeLists.txt.
set(d_dir "${CMAKE_CURRENT_LIST_DIR}")
add_library(pyprobe_d_consumer STATIC
  "${d_dir}/d_events.c" "${d_dir}/d_render.c" "${d_dir}/d_aggstate.c" "${d_dir}/d_aggprint.c"
  "${d_dir}/d_consume.c" "${d_dir}/d_child.c" "${d_dir}/d_run.c"
  "${d_dir}/d_resolve.c" "${d_dir}/d_needed.c" "${d_dir}/d_python.c" "${d_dir}/d_session.c")
# The front end (d_front.h) is pyprobe_d, the translation half.
target_link_libraries(pyprobe_d_consumer PUBLIC pyprobe_d)
target_include_directories(pyprobe_d_consumer PUBLIC "${d_dir}" PRIVATE "${PROJECT_SOURCE_DIR}/src/common")
target_link_libraries(pyprobe_d_consumer PUBLIC pyprobe_lister PRIVATE PkgConfig::JSONC PkgConfig::LIBELF)
