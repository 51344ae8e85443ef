# The installed library, used by other projects: this build tree is installed
# into a fresh prefix and tests/install is built against it with pkg-config
# and with find_package(pyprobe), with this build's compiler and sanitizers.
foreach(path pkgconfig find_package)
  pyprobe_script_test(install_${path} test_install.py --path ${path}
    --build-dir "${PROJECT_BINARY_DIR}" "--config=$<CONFIG>"
    --consumer "${CMAKE_CURRENT_SOURCE_DIR}/install" --libdir "${CMAKE_INSTALL_LIBDIR}"
    --cmake "${CMAKE_COMMAND}" --generator "${CMAKE_GENERATOR}"
    --cc "${CMAKE_C_COMPILER}" "--sanitize=${PYPROBE_SANITIZE}" --provider "${PYPROBE_PROVIDER}")
endforeach()
