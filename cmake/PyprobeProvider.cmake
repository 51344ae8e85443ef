# pyprobe_add_provider(TARGET <target> PROVIDER <file.d>
#                      [EXPORT_SEMAPHORES] [HEADER_NAME <name.h>]
#                      [SIGNATURE_ANCHOR <symbol>])
#
# Compiles a DTrace provider file the way DTrace users expect: `dtrace -h`
# makes a header of PROVIDER_PROBE(...) and PROVIDER_PROBE_ENABLED() macros
# (on <sys/sdt.h>), `dtrace -G` makes an object that defines one 16-bit
# semaphore per probe in `.probes`. The header's directory is added to the
# target's private include path and the object to its sources, with a
# third: the probes' C argument types as `.note.pyprobe` notes
# (<pyprobe/notes.h>), which `pyprobe -l -v` prints.
#
# pyprobe reads the file first, with its own parser (pyprobe-provider,
# src/provider/provider_parse.h says what it accepts): a mistake is one
# line, FILE:LINE:COLUMN: what is wrong, when CMake configures if the file
# exists then, else when it is built, and dtrace never sees a bad file. A
# file made at build time must be the OUTPUT of a custom command declared
# before this call (or have its GENERATED property set); any other missing
# file is a configure error. dtrace runs for at most PYPROBE_DTRACE_TIMEOUT
# seconds, in a scratch directory of its own that is removed even when the
# build is interrupted, so that a killed run never breaks the next one.
#
# N.B. Nothing refers to the argument-type object. Where the target is a
# static library, the linker keeps the notes only for programs that
# require a symbol of that object (-Wl,--undefined=<symbol>): the target's
# CMake users get that option; others must pass it. The symbol is
# SIGNATURE_ANCHOR, or pyprobe_notes_<target>_<file name stem>.
#
# systemtap's dtrace -G gives the semaphores hidden visibility: right when the
# probes and their callers are linked into one module. EXPORT_SEMAPHORES
# keeps default visibility instead (systemtap's STAP_SDT_V2 switch), for a
# shared library whose callers in other modules read the semaphores.
#
# PYPROBE_PROVIDER_TOOL (the pyprobe-provider program) and
# PYPROBE_INCLUDE_DIR (<pyprobe/notes.h>, which the generated argument-type
# source includes) are set by pyprobeConfig.cmake for an installed pyprobe,
# and by pyprobe's own build for itself.
include_guard(GLOBAL)

find_program(PYPROBE_DTRACE_EXECUTABLE dtrace
  DOC "systemtap's dtrace wrapper (Debian: systemtap-sdt-dev)")
set(PYPROBE_DTRACE_TIMEOUT 60 CACHE STRING
  "Seconds that dtrace -h or -G may run in pyprobe_add_provider()'s build steps before it is killed")

# Fails configuring unless the provider file is good (or will be made by
# the build). pyprobe-provider's FILE:LINE:COLUMN line goes straight to
# stderr, at the start of a line, where editors look for it.
function(pyprobe__check_provider provider shown)
  if(NOT EXISTS "${provider}")
    get_source_file_property(generated "${provider}" GENERATED)
    if(NOT generated)
      message(FATAL_ERROR "pyprobe_add_provider: PROVIDER ${shown}: no such file (${provider})")
    endif()
    return()
  endif()
  execute_process(COMMAND "${PYPROBE_PROVIDER_TOOL}" check "${shown}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" TIMEOUT 60 RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pyprobe_add_provider: PROVIDER ${shown} is not a provider file that pyprobe reads "
      "(pyprobe-provider check: ${rc}; the line above says why)")
  endif()
endfunction()

function(pyprobe_add_provider)
  cmake_parse_arguments(arg "EXPORT_SEMAPHORES" "TARGET;PROVIDER;HEADER_NAME;SIGNATURE_ANCHOR" "" ${ARGN})
  if(NOT arg_TARGET OR NOT arg_PROVIDER OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pyprobe_add_provider: TARGET and PROVIDER are required; unknown: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "pyprobe_add_provider: TARGET ${arg_TARGET} is not a target (add_executable/add_library first)")
  endif()
  if(NOT PYPROBE_DTRACE_EXECUTABLE)
    message(FATAL_ERROR "pyprobe_add_provider: no dtrace found (apt-get install systemtap-sdt-dev)")
  endif()
  if(NOT EXISTS "${PYPROBE_PROVIDER_TOOL}")
    message(FATAL_ERROR "pyprobe_add_provider: pyprobe-provider not found at '${PYPROBE_PROVIDER_TOOL}' (PYPROBE_PROVIDER_TOOL)")
  endif()
  if(NOT PYPROBE_DTRACE_TIMEOUT MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "pyprobe_add_provider: PYPROBE_DTRACE_TIMEOUT='${PYPROBE_DTRACE_TIMEOUT}' is not a number of seconds")
  endif()
  # The semaphores' 4-byte alignment is no option: pyprobe.h's CPython line
  # guard reads two of them as one word.
  if(NOT CMAKE_OBJCOPY)
    message(FATAL_ERROR "pyprobe_add_provider: no objcopy found (apt-get install binutils)")
  endif()
  get_filename_component(provider "${arg_PROVIDER}" ABSOLUTE)
  get_filename_component(stem "${provider}" NAME_WE)
  # The file as messages name it: relative to the calling directory, where
  # pyprobe-provider runs, when it is in there.
  file(RELATIVE_PATH shown "${CMAKE_CURRENT_SOURCE_DIR}" "${provider}")
  if(shown MATCHES "^\\.\\./")
    set(shown "${provider}")
  endif()
  pyprobe__check_provider("${provider}" "${shown}")
  if(NOT arg_HEADER_NAME)
    set(arg_HEADER_NAME "${stem}.h")
  endif()
  get_target_property(type ${arg_TARGET} TYPE)
  set(anchor "${arg_SIGNATURE_ANCHOR}")
  if(type STREQUAL "STATIC_LIBRARY" AND NOT anchor)
    string(MAKE_C_IDENTIFIER "pyprobe_notes_${arg_TARGET}_${stem}" anchor)
  endif()

  set(outdir "${CMAKE_CURRENT_BINARY_DIR}/pyprobe_provider/${arg_TARGET}")
  set(header "${outdir}/${arg_HEADER_NAME}")
  set(object "${outdir}/${stem}_semaphores.o")
  set(notes "${outdir}/${stem}_signatures.c")
  file(MAKE_DIRECTORY "${outdir}")
  set(tool "${PYPROBE_PROVIDER_TOOL}")
  set(visibility_flag "")
  if(arg_EXPORT_SEMAPHORES)
    set(visibility_flag "-DSTAP_SDT_V2")
  endif()

  # The notes' source first: making it checks the file, and the dtrace
  # steps wait for it, so that dtrace only ever sees a file that passed.
  # The source keeps its time stamp when unchanged (nothing recompiles); the
  # stamp tells make that the step ran.
  add_custom_command(OUTPUT "${notes}.stamp" BYPRODUCTS "${notes}"
    COMMAND "${tool}" notes "${shown}" "${notes}" ${anchor}
    COMMAND "${CMAKE_COMMAND}" -E touch "${notes}.stamp"
    DEPENDS "${provider}" "${tool}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "Checking ${stem}.d and writing its argument types for ${arg_TARGET}"
    VERBATIM)
  add_custom_command(OUTPUT "${header}"
    COMMAND "${tool}" dtrace -h "${shown}" "${header}" ${PYPROBE_DTRACE_TIMEOUT} "${PYPROBE_DTRACE_EXECUTABLE}"
    DEPENDS "${provider}" "${notes}.stamp" "${tool}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "dtrace -h ${stem}.d for ${arg_TARGET}"
    VERBATIM)
  # CC and CFLAGS are set explicitly: dtrace -G reads them from the
  # environment, and sanitizer flags must not pad the semaphores. The
  # semaphores are laid out in the .d file's order (GCC would reverse it)
  # from a 4-byte boundary: pyprobe.h reads python's adjacent function__entry
  # and line semaphores as one 32-bit word.
  set(semaphore_cflags "-O2")
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    string(APPEND semaphore_cflags " -fno-toplevel-reorder")
  endif()
  add_custom_command(OUTPUT "${object}"
    COMMAND "${CMAKE_COMMAND}" -E env "CC=${CMAKE_C_COMPILER}" "CFLAGS=${semaphore_cflags}"
            "${tool}" dtrace -G "${shown}" "${object}" ${PYPROBE_DTRACE_TIMEOUT} "${PYPROBE_DTRACE_EXECUTABLE}"
            ${visibility_flag}
    COMMAND "${CMAKE_OBJCOPY}" --set-section-alignment .probes=4 "${object}"
    DEPENDS "${provider}" "${notes}.stamp" "${tool}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "dtrace -G ${stem}.d for ${arg_TARGET}"
    VERBATIM)

  target_sources(${arg_TARGET} PRIVATE "${header}" "${object}" "${notes}")
  target_include_directories(${arg_TARGET} PRIVATE "${outdir}" "${PYPROBE_INCLUDE_DIR}")
  if(type STREQUAL "STATIC_LIBRARY")
    target_link_options(${arg_TARGET} INTERFACE "LINKER:--undefined=${anchor}")
  endif()
endfunction()
