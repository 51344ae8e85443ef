# site_code: the machine code at the probe sites of this build
# (test_site_code.py): the nop of the configured kind at every site, every
# site in a pyprobe_fire_* function, none of which touches memory below
# %rsp, and probe_sites.c compiled -mno-red-zone. In the shared library and
# in a program linked with the static one. x86-64 builds with probes only;
# needs the targets pyprobe and fire_all_static.
if(PYPROBE_HAVE_PROBES AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  pyprobe_script_test(site_code "${CMAKE_CURRENT_LIST_DIR}/test_site_code.py" LABELS sites
    ARGS --library "$<TARGET_FILE:pyprobe>" --static-program "$<TARGET_FILE:fire_all_static>"
         --nop5 "$<BOOL:${PYPROBE_NOP5}>" --provider "${PYPROBE_PROVIDER}"
         --readelf "${CMAKE_READELF}" --objdump "${CMAKE_OBJDUMP}")
endif()
