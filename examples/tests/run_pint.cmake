# Runs pint on one program and compares its output with an expected file:
#
#   cmake -DPINT=path/to/pint -DDIR=dir -DPROGRAM=file.pint -DEXPECTED=file
#         -DSTREAM=stdout|stderr -DEXIT_CODE=n -P run_pint.cmake
#
# The program runs in DIR, so the file names in error messages are as short
# as PROGRAM. STREAM says which output EXPECTED holds; with stdout, stderr
# must stay empty (a sanitizer's report, say, fails the test).
foreach(var PINT DIR PROGRAM EXPECTED STREAM EXIT_CODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_pint.cmake: -D${var}=... is missing")
  endif()
endforeach()

execute_process(COMMAND "${PINT}" "${PROGRAM}" WORKING_DIRECTORY "${DIR}"
  OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr RESULT_VARIABLE exit_code)
file(READ "${EXPECTED}" expected)

if(NOT exit_code STREQUAL EXIT_CODE)
  message(FATAL_ERROR "pint ${PROGRAM}: exit ${exit_code}, expected ${EXIT_CODE}\n"
                      "--- stdout\n${stdout}--- stderr\n${stderr}")
endif()
if(STREAM STREQUAL "stdout" AND NOT stderr STREQUAL "")
  message(FATAL_ERROR "pint ${PROGRAM}: unexpected stderr:\n${stderr}")
endif()
if(NOT ${STREAM} STREQUAL expected)
  message(FATAL_ERROR "pint ${PROGRAM}: ${STREAM} differs from ${EXPECTED}\n"
                      "--- expected\n${expected}--- got\n${${STREAM}}")
endif()
