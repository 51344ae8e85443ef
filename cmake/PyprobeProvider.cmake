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
# (<pyprobe/notes.h>, PyprobeSignatures.cmake), which `pyprobe -l -v` prints.
#
# N.B. Nothing refers to the argument-type object. Where the target is a
# static library, name SIGNATURE_ANCHOR: a hidden symbol in that object,
# which the library's users must require (-Wl,--undefined=<symbol>) for the
# linker to keep the notes.
#
# systemtap's dtrace -G gives the semaphores hidden visibility: right when the
# probes and their callers are linked into one module. EXPORT_SEMAPHORES
# keeps default visibility instead (systemtap's STAP_SDT_V2 switch), for a
# shared library whose callers in other modules read the semaphores.
include_guard(GLOBAL)

find_program(PYPROBE_DTRACE_EXECUTABLE dtrace
  DOC "systemtap's dtrace wrapper (Debian: systemtap-sdt-dev)")
# The scripts that run at build time, and <pyprobe/notes.h>, which the
# generated argument-type source includes (pyprobeConfig.cmake sets
# PYPROBE_INCLUDE_DIR to the installed headers; pyprobe's own build to its
# source tree).
set(PYPROBE_SIGNATURES_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/PyprobeSignatures.cmake")

function(pyprobe_add_provider)
  cmake_parse_arguments(arg "EXPORT_SEMAPHORES" "TARGET;PROVIDER;HEADER_NAME;SIGNATURE_ANCHOR" "" ${ARGN})
  if(NOT arg_TARGET OR NOT arg_PROVIDER)
    message(FATAL_ERROR "pyprobe_add_provider: TARGET and PROVIDER are required")
  endif()
  if(NOT PYPROBE_DTRACE_EXECUTABLE)
    message(FATAL_ERROR "pyprobe_add_provider: no dtrace found (apt-get install systemtap-sdt-dev)")
  endif()
  # The semaphores' 4-byte alignment is no option: pyprobe.h's CPython line
  # guard reads two of them as one word.
  if(NOT CMAKE_OBJCOPY)
    message(FATAL_ERROR "pyprobe_add_provider: no objcopy found (apt-get install binutils)")
  endif()
  get_filename_component(provider "${arg_PROVIDER}" ABSOLUTE)
  get_filename_component(stem "${provider}" NAME_WE)
  if(NOT arg_HEADER_NAME)
    set(arg_HEADER_NAME "${stem}.h")
  endif()

  # One directory per target: dtrace -G writes temporary files into its
  # working directory, named after its inputs only.
  set(outdir "${CMAKE_CURRENT_BINARY_DIR}/pyprobe_provider/${arg_TARGET}")
  set(header "${outdir}/${arg_HEADER_NAME}")
  set(object "${outdir}/${stem}_semaphores.o")
  file(MAKE_DIRECTORY "${outdir}")
  set(visibility_flag "")
  if(arg_EXPORT_SEMAPHORES)
    set(visibility_flag "-DSTAP_SDT_V2")
  endif()

  add_custom_command(OUTPUT "${header}"
    COMMAND "${PYPROBE_DTRACE_EXECUTABLE}" -h -s "${provider}" -o "${header}"
    DEPENDS "${provider}"
    WORKING_DIRECTORY "${outdir}"
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
            "${PYPROBE_DTRACE_EXECUTABLE}" -G ${visibility_flag} -s "${provider}" -o "${object}"
    COMMAND "${CMAKE_OBJCOPY}" --set-section-alignment .probes=4 "${object}"
    DEPENDS "${provider}"
    WORKING_DIRECTORY "${outdir}"
    COMMENT "dtrace -G ${stem}.d for ${arg_TARGET}"
    VERBATIM)

  set(signatures "${outdir}/${stem}_signatures.c")
  add_custom_command(OUTPUT "${signatures}"
    COMMAND "${CMAKE_COMMAND}" "-DD_FILE=${provider}" "-DOUTPUT=${signatures}"
            "-DANCHOR=${arg_SIGNATURE_ANCHOR}" -P "${PYPROBE_SIGNATURES_SCRIPT}"
    DEPENDS "${provider}" "${PYPROBE_SIGNATURES_SCRIPT}"
    COMMENT "Argument types of ${stem}.d for ${arg_TARGET}"
    VERBATIM)

  target_sources(${arg_TARGET} PRIVATE "${header}" "${object}" "${signatures}")
  target_include_directories(${arg_TARGET} PRIVATE "${outdir}" "${PYPROBE_INCLUDE_DIR}")
endfunction()
