# The argument types of the provider, recorded in libpyprobe (both kinds) as
# a `.note.pyprobe` for `pyprobe -l -v`. Included at the end of
# src/CMakeLists.txt; the lister's library is src/lister, the command
# tools/pyprobe. One generated file per target: a custom command's output
# must not be shared by targets that build in parallel.
if(PYPROBE_HAVE_PROBES)
  set(pyprobe_signature_anchor pyprobe_signature_note)
  foreach(target pyprobe pyprobe_static)
    set(source "${CMAKE_CURRENT_BINARY_DIR}/pyprobe_signatures/${target}.c")
    add_custom_command(OUTPUT "${source}"
      COMMAND "${CMAKE_COMMAND}" "-DD_FILE=${PYPROBE_PROVIDER_FILE}" "-DOUTPUT=${source}"
              "-DANCHOR=${pyprobe_signature_anchor}" -P "${CMAKE_CURRENT_SOURCE_DIR}/lister/signatures.cmake"
      DEPENDS "${PYPROBE_PROVIDER_FILE}" "${CMAKE_CURRENT_SOURCE_DIR}/lister/signatures.cmake"
      COMMENT "Argument types of ${PYPROBE_PROVIDER}.d for ${target}"
      VERBATIM)
    target_sources(${target} PRIVATE "${source}")
  endforeach()
  # Nothing refers to the note's object: a static link would leave it out of
  # the archive's members it takes.
  target_link_options(pyprobe_static INTERFACE "LINKER:--undefined=${pyprobe_signature_anchor}")
endif()
