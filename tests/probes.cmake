# The tests that need the probe sites (included from tests/CMakeLists.txt
# when the probes are compiled in).

# The program every tracer test traces, linked both ways.
add_executable(fire_all_shared fire_all.c)
target_link_libraries(fire_all_shared PRIVATE pyprobe::pyprobe)
add_executable(fire_all_static fire_all.c)
target_link_libraries(fire_all_static PRIVATE pyprobe::pyprobe_static)

pyprobe_check_test(unit_guards_shared unit_guards.c pyprobe::pyprobe)
pyprobe_check_test(unit_guards_static unit_guards.c pyprobe::pyprobe_static)
pyprobe_check_test(unit_guards_forced_off unit_guards.c pyprobe::pyprobe)
target_compile_definitions(unit_guards_forced_off PRIVATE PYPROBE_DISABLE)

# A tracer test of fire_all, as <prefix>_shared and <prefix>_static. The
# module holding the probes is the library for the shared build and the
# program itself for the static one.
function(pyprobe_fire_all_test prefix script)
  pyprobe_script_test(${prefix}_shared ${script} --program "$<TARGET_FILE:fire_all_shared>"
    --module "$<TARGET_FILE:pyprobe>" --provider "${PYPROBE_PROVIDER}")
  pyprobe_script_test(${prefix}_static ${script} --program "$<TARGET_FILE:fire_all_static>"
    --module "$<TARGET_FILE:fire_all_static>" --provider "${PYPROBE_PROVIDER}")
endfunction()

pyprobe_fire_all_test(bpftrace test_bpftrace.py)

# The guard's machine code, in every way an interpreter can link. Built
# optimised and uninstrumented whatever the build type, as a release
# interpreter would be.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(guard_flags -O2 -fomit-frame-pointer -fcf-protection=none -fno-sanitize=all)
  function(pyprobe_guard_test name shape)
    cmake_parse_arguments(arg "CPYTHON" "" "" ${ARGN})
    add_executable(${name} guard_hook.c)
    target_compile_options(${name} PRIVATE ${guard_flags})
    target_link_libraries(${name} PRIVATE ${arg_UNPARSED_ARGUMENTS})
    set(semaphore line)
    set(width w)
    if(arg_CPYTHON)
      target_compile_definitions(${name} PRIVATE GUARD_HOOK_CPYTHON)
      target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/include/pyprobe/cpython")
      set(semaphore function__entry)
      set(width l)
    endif()
    add_test(NAME ${name} COMMAND Python3::Interpreter
      "${CMAKE_CURRENT_SOURCE_DIR}/tracers/test_guard_disasm.py"
      --program "$<TARGET_FILE:${name}>" --shape ${shape}
      --semaphore "${PYPROBE_PROVIDER}_${semaphore}_semaphore" --width ${width})
  endfunction()
  pyprobe_guard_test(guard_static static pyprobe::pyprobe_static)
  pyprobe_guard_test(guard_static_without_define static-got "$<TARGET_FILE:pyprobe_static>")
  target_include_directories(guard_static_without_define PRIVATE
    "${PROJECT_SOURCE_DIR}/include" "${PYPROBE_GENERATED_INCLUDE}")
  add_dependencies(guard_static_without_define pyprobe_static)  # linked by path
  pyprobe_guard_test(guard_shared_pie shared pyprobe::pyprobe)
  pyprobe_guard_test(guard_shared_no_pie shared pyprobe::pyprobe)
  set_target_properties(guard_shared_no_pie PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(guard_shared_no_pie PRIVATE -fno-pie)
  target_link_options(guard_shared_no_pie PRIVATE -no-pie)
  # CPython's line guard (gh-98894 fix): one compare for two semaphores.
  pyprobe_guard_test(guard_cpython_line_static static CPYTHON pyprobe::pyprobe_static)
  pyprobe_guard_test(guard_cpython_line_shared shared CPYTHON pyprobe::pyprobe)
endif()

# Many threads firing while a tracer attaches and detaches.
find_package(Threads REQUIRED)
add_executable(threads_fire threads_fire.c)
target_link_libraries(threads_fire PRIVATE pyprobe::pyprobe Threads::Threads)
pyprobe_script_test(threads_attach_detach test_threads.py
  --program "$<TARGET_FILE:threads_fire>" --module "$<TARGET_FILE:pyprobe>"
  --provider "${PYPROBE_PROVIDER}")

# Areas with their own test files.
include("${CMAKE_CURRENT_SOURCE_DIR}/elf.cmake")
include("${CMAKE_CURRENT_SOURCE_DIR}/gdb_perf.cmake")
include("${CMAKE_CURRENT_SOURCE_DIR}/install.cmake")
