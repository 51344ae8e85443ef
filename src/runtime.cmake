# Probes defined at run time (include/pyprobe_runtime.h, src/runtime): part
# of both libpyprobe targets, in every build. They need neither systemtap's
# dtrace nor <sys/sdt.h> (the runtime writes its ELF objects itself with
# libelf), so PYPROBE_PROBES=OFF leaves them working. Included at the end
# of src/CMakeLists.txt.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PYPROBE_RT_LIBELF REQUIRED IMPORTED_TARGET libelf)

set(pyprobe_runtime_sources
  "${CMAKE_CURRENT_SOURCE_DIR}/runtime/rt_fire.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/runtime/rt_image.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/runtime/rt_load.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/runtime/rt_provider.c")

foreach(target pyprobe pyprobe_static)
  target_sources(${target} PRIVATE ${pyprobe_runtime_sources})
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/runtime")
endforeach()
# libelf and libdl: private to the shared library; a program linking the
# static one links them too (the installed package names them plainly, as
# -lelf and -ldl, since the imported target is this build's own).
target_link_libraries(pyprobe PRIVATE PkgConfig::PYPROBE_RT_LIBELF ${CMAKE_DL_LIBS})
target_link_libraries(pyprobe_static PRIVATE
  "$<BUILD_INTERFACE:PkgConfig::PYPROBE_RT_LIBELF>" "$<INSTALL_INTERFACE:elf>" ${CMAKE_DL_LIBS})

# The Python module, when this Python 3 has its development headers (the
# system's python3 first, as the tests use it).
if(EXISTS /usr/bin/python3 AND NOT DEFINED Python3_EXECUTABLE)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module)
if(Python3_Development.Module_FOUND)
  add_subdirectory("${PROJECT_SOURCE_DIR}/python" "${PROJECT_BINARY_DIR}/python")
else()
  message(STATUS "pyprobe: no Python module: the Python 3 development headers are missing (apt-get install python3-dev)")
endif()
