# cmake -DD_FILE=provider.d -DOUTPUT=signatures.c [-DANCHOR=symbol] -P PyprobeSignatures.cmake
#
# Writes a C file whose object carries the C argument types of every probe of
# the D provider file, for listers (`pyprobe -l -v` prints them as dtrace's
# "Argument Types"): one `.note.pyprobe` note per probe, in the format that
# <pyprobe/notes.h> defines (the C file includes it).
#
# Types are written the way dtrace prints them ("const char *", "char **");
# a parameter name after a type is dropped ("const char *file"). ANCHOR names
# a global symbol in the object, which a static link can require (-u) so that
# the object, and with it the note, is linked in.
cmake_minimum_required(VERSION 3.18)
if(NOT D_FILE OR NOT OUTPUT)
  message(FATAL_ERROR "PyprobeSignatures.cmake: D_FILE and OUTPUT are required")
endif()

set(qualifiers const volatile restrict)
set(keywords ${qualifiers} void char short int long float double signed unsigned _Bool)

# The type of one parameter, from its tokens (identifiers and '*').
function(parameter_type tokens out)
  list(LENGTH tokens count)
  if(count GREATER 1)
    # A trailing identifier that is no keyword, after a part that is more
    # than qualifiers and not "struct"/"union"/"enum", is the parameter's name.
    list(GET tokens -1 last)
    math(EXPR before "${count} - 2")
    list(GET tokens ${before} previous)
    set(typed FALSE)
    foreach(token IN LISTS tokens)
      if(NOT token STREQUAL last AND NOT token IN_LIST qualifiers)
        set(typed TRUE)
      endif()
    endforeach()
    if(last MATCHES "^[A-Za-z_]" AND NOT last IN_LIST keywords AND typed
       AND NOT previous MATCHES "^(struct|union|enum)$")
      list(REMOVE_AT tokens -1)
    endif()
  endif()
  set(text "")
  set(previous "")
  foreach(token IN LISTS tokens)
    if(token STREQUAL "*" AND NOT previous STREQUAL "*")
      string(APPEND text " *")
    elseif(token STREQUAL "*" OR previous STREQUAL "*" OR text STREQUAL "")
      string(APPEND text "${token}")
    else()
      string(APPEND text " ${token}")
    endif()
    set(previous "${token}")
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# One note's asm statement: its descriptor is the strings in `strings`.
function(note_lines strings out)
  set(lines "__asm__(PYPROBE_SIGNATURE_NOTE_BEGIN\n")
  foreach(string IN LISTS strings)
    string(APPEND lines "        PYPROBE_SIGNATURE_NOTE_STRING(\"\\\"${string}\\\"\")\n")
  endforeach()
  string(APPEND lines "        PYPROBE_SIGNATURE_NOTE_END);\n")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

file(READ "${D_FILE}" text)
# Comments, preprocessor lines (#pragma D attributes), then whitespace runs.
string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " text "${text}")
string(REGEX REPLACE "//[^\n]*" " " text "${text}")
string(REGEX REPLACE "(^|\n)[ \t]*#[^\n]*" "\n" text "${text}")
# Semicolons end declarations in D but separate items in CMake lists.
string(REPLACE ";" " " text "${text}")
string(REGEX REPLACE "[ \t\r\n]+" " " text "${text}")

set(notes "")
set(count 0)
string(REGEX MATCHALL "provider [A-Za-z_][A-Za-z0-9_]* ?{[^}]*}" providers "${text}")
foreach(block IN LISTS providers)
  string(REGEX REPLACE "^provider ([A-Za-z_][A-Za-z0-9_]*).*" "\\1" provider "${block}")
  string(REGEX MATCHALL "probe [A-Za-z_][A-Za-z0-9_]* ?\\([^)]*\\)" probes "${block}")
  foreach(probe IN LISTS probes)
    string(REGEX REPLACE "^probe ([A-Za-z_][A-Za-z0-9_]*).*" "\\1" name "${probe}")
    string(REGEX REPLACE "^[^(]*\\(([^)]*)\\)$" "\\1" parameters "${probe}")
    string(STRIP "${parameters}" parameters)
    set(strings "${provider}" "${name}")
    if(NOT parameters STREQUAL "" AND NOT parameters STREQUAL "void")
      string(REPLACE "," ";" parameters "${parameters}")
      foreach(parameter IN LISTS parameters)
        string(REGEX MATCHALL "[A-Za-z_][A-Za-z0-9_]*|\\*" tokens "${parameter}")
        if(NOT tokens)
          message(FATAL_ERROR "${D_FILE}: ${provider}:${name}: an empty parameter")
        endif()
        parameter_type("${tokens}" type)
        list(APPEND strings "${type}")
      endforeach()
    endif()
    note_lines("${strings}" lines)
    string(APPEND notes "${lines}")
    math(EXPR count "${count} + 1")
  endforeach()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${D_FILE}: no provider with probes found")
endif()

get_filename_component(source_name "${D_FILE}" NAME)
set(anchor_text "")
if(ANCHOR)
  set(anchor_text "
/* Required with -u by programs that link the static library, so that this
 * object and its note are linked in though no code refers to it. */
__attribute__((visibility(\"hidden\"), used)) const char ${ANCHOR} = 1;
")
endif()
file(WRITE "${OUTPUT}.tmp" "/* Generated from ${source_name} by PyprobeSignatures.cmake: the C argument
 * types of its ${count} probes, for listers. */
#include <pyprobe/notes.h>

${notes}${anchor_text}")
# Unchanged output keeps its time stamp: nothing to rebuild.
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
