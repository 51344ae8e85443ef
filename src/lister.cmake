# The lister: `pyprobe -l`, dtrace -l for USDT probes of ELF files and
# processes. Included at the end of src/CMakeLists.txt.
#
#   pyprobe_lister   the library code (src/lister): probe sites, filters,
#                    processes, argument types; over pyprobe_elf
#   pyprobe_cli      the command, installed as bin/pyprobe with pyprobe.1

add_library(pyprobe_lister STATIC
  lister/lister_filter.c lister/lister_proc.c lister/lister_signatures.c lister/lister_sites.c)
target_include_directories(pyprobe_lister PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/lister")
target_link_libraries(pyprobe_lister PUBLIC pyprobe_elf)

set(pyprobe_tools_dir "${PROJECT_SOURCE_DIR}/tools/pyprobe")
add_executable(pyprobe_cli
  "${pyprobe_tools_dir}/main.c" "${pyprobe_tools_dir}/cli_options.c" "${pyprobe_tools_dir}/cli_list.c"
  "${pyprobe_tools_dir}/cli_table.c" "${pyprobe_tools_dir}/cli_json.c")
target_include_directories(pyprobe_cli PRIVATE "${pyprobe_tools_dir}")
target_compile_definitions(pyprobe_cli PRIVATE "PYPROBE_VERSION_STRING=\"${PROJECT_VERSION}\"")
target_link_libraries(pyprobe_cli PRIVATE pyprobe_lister)
set_target_properties(pyprobe_cli PROPERTIES OUTPUT_NAME pyprobe)

install(TARGETS pyprobe_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/man/pyprobe.1" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
