# pyprobe_elf: the internal ELF and stapsdt note reader (elf_notes.h), for
# the tests and the lister. It reads any file, so it builds whether or not
# this build has probes (PYPROBE_HAVE_PROBES).
add_library(pyprobe_elf STATIC "${CMAKE_CURRENT_SOURCE_DIR}/elf_notes.c")
set_target_properties(pyprobe_elf PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(pyprobe_elf PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}" "${PROJECT_SOURCE_DIR}/include")
target_link_libraries(pyprobe_elf PUBLIC PkgConfig::LIBELF)
