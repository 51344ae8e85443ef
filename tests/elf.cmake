# The ELF reader's unit tests, and through the reader the probes the build
# puts into files. Included from tests/CMakeLists.txt only when the build
# has probes.
add_executable(test_elf_notes "${CMAKE_CURRENT_SOURCE_DIR}/test_elf_notes.c")
target_link_libraries(test_elf_notes PRIVATE pyprobe_lister PkgConfig::CHECK)
target_include_directories(test_elf_notes PRIVATE "${PYPROBE_TEST_LIB}")
# The same readelf as the toolchain's, for the cross-check of the notes.
if(CMAKE_READELF)
  target_compile_definitions(test_elf_notes PRIVATE "READELF_COMMAND=\"${CMAKE_READELF}\"")
endif()

add_test(NAME elf_reader COMMAND test_elf_notes)
add_test(NAME elf_probes_shared
  COMMAND test_elf_notes probes "${PYPROBE_PROVIDER}" "$<TARGET_FILE:pyprobe>")
add_test(NAME elf_probes_static
  COMMAND test_elf_notes probes "${PYPROBE_PROVIDER}" "$<TARGET_FILE:fire_all_static>")
# The GOT-reading guard in pyprobe.h is x86-64's; elsewhere a PIE may copy.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_test(NAME elf_no_copy_relocation
    COMMAND test_elf_notes relocations "${PYPROBE_PROVIDER}" "$<TARGET_FILE:fire_all_shared>")
endif()
