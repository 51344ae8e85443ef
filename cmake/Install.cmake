# Installation: headers, both libraries, the provider file, pyprobe.pc and a
# relocatable CMake package (find_package(pyprobe) gives pyprobe::pyprobe,
# pyprobe::pyprobe_static and pyprobe_add_provider()).
include(CMakePackageConfigHelpers)
set(PYPROBE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pyprobe")
set(PYPROBE_PROVIDER_TOOL_DIR "${CMAKE_INSTALL_LIBEXECDIR}/pyprobe")

install(FILES include/pyprobe.h "${PYPROBE_GENERATED_INCLUDE}/pyprobe_config.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES include/pyprobe/notes.h DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/pyprobe")
# The provider as built (python.d, or the renamed provider).
install(FILES "${PYPROBE_PROVIDER_FILE}" DESTINATION "${CMAKE_INSTALL_DATADIR}/pyprobe")
install(TARGETS pyprobe pyprobe_static EXPORT pyprobeTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")

install(EXPORT pyprobeTargets NAMESPACE pyprobe:: DESTINATION "${PYPROBE_CMAKE_DIR}")
# Where the Python package goes (relative: to the prefix), or "" without it:
# pyprobe.pc's pythondir and the CMake package's pyprobe_PYTHON_DIR.
set(PYPROBE_CONFIG_PYTHON_DIR "")
if(TARGET pyprobe_python)
  set(PYPROBE_CONFIG_PYTHON_DIR "${PYPROBE_PYTHON_INSTALL_DIR}")
endif()
configure_package_config_file(cmake/pyprobeConfig.cmake.in
  "${PROJECT_BINARY_DIR}/pyprobeConfig.cmake" INSTALL_DESTINATION "${PYPROBE_CMAKE_DIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR PYPROBE_PROVIDER_TOOL_DIR)
# 0.x: a new minor version may change the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/pyprobeConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/pyprobeConfig.cmake"
  "${PROJECT_BINARY_DIR}/pyprobeConfigVersion.cmake" cmake/PyprobeProvider.cmake
  DESTINATION "${PYPROBE_CMAKE_DIR}")
# pyprobe_add_provider()'s program (tools/pyprobe-provider), which no one
# types: not on PATH.
install(PROGRAMS "${PYPROBE_PROVIDER_TOOL}" DESTINATION "${PYPROBE_PROVIDER_TOOL_DIR}")

# pyprobe.pc is written at install time so that it names the prefix really
# installed to (cmake --install --prefix P); the CMake package is relocatable.
install(CODE "set(pyprobe_pc_in \"${CMAKE_CURRENT_LIST_DIR}/pyprobe.pc.in\")
  set(pyprobe_pc_version ${PROJECT_VERSION})
  set(pyprobe_pc_libdir \"${CMAKE_INSTALL_LIBDIR}\")
  set(pyprobe_pc_includedir \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(pyprobe_pc_pythondir \"${PYPROBE_CONFIG_PYTHON_DIR}\")
  set(pyprobe_pc_anchor ${PYPROBE_SIGNATURE_ANCHOR})")
install(CODE [[
  get_filename_component(pc_dir "${pyprobe_pc_libdir}/pkgconfig" ABSOLUTE BASE_DIR "${CMAKE_INSTALL_PREFIX}")
  foreach(dir pyprobe_pc_libdir pyprobe_pc_includedir pyprobe_pc_pythondir)
    if(${dir} AND NOT IS_ABSOLUTE "${${dir}}")
      set(${dir} "\${prefix}/${${dir}}")
    endif()
  endforeach()
  message(STATUS "Installing: $ENV{DESTDIR}${pc_dir}/pyprobe.pc")
  configure_file("${pyprobe_pc_in}" "$ENV{DESTDIR}${pc_dir}/pyprobe.pc" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${pc_dir}/pyprobe.pc")
]])

# CPython's probe header on top of libpyprobe (include/pyprobe/cpython, for
# a CPython build: -DWITH_DTRACE -I<prefix>/include/pyprobe/cpython).
install(DIRECTORY include/pyprobe/cpython/ DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/pyprobe/cpython"
  FILES_MATCHING PATTERN "*.h")

# Probes defined at run time: their header. The Python package when it was
# built (python/CMakeLists.txt: PYPROBE_PYTHON_INSTALL_DIR), with the
# PYPROBE_AUTO=1 start-up hook: component python, which python/install
# installs alone into an interpreter.
install(FILES include/pyprobe_runtime.h DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
if(TARGET pyprobe_python)
  install(TARGETS pyprobe_python LIBRARY DESTINATION "${PYPROBE_PYTHON_INSTALL_DIR}/pyprobe" COMPONENT python)
  install(DIRECTORY "${PROJECT_BINARY_DIR}/python/pyprobe/" DESTINATION "${PYPROBE_PYTHON_INSTALL_DIR}/pyprobe"
    COMPONENT python FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
  install(FILES python/pyprobe-auto.pth DESTINATION "${PYPROBE_PYTHON_INSTALL_DIR}" COMPONENT python)
endif()

# The ready tracing scripts (bpftrace and D), for the installed command's
# users; executable, as their #! lines ask.
install(DIRECTORY examples/scripts/ DESTINATION "${CMAKE_INSTALL_DATADIR}/pyprobe/scripts" USE_SOURCE_PERMISSIONS
  FILES_MATCHING PATTERN "*.bt" PATTERN "*.d" PATTERN "README.md")
