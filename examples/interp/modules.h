/*
 * modules.h - loading source files as modules. Fires import__find__load
 * start/done around finding and running an imported module, and the audit
 * events "import" and "open".
 *
 * `import name` looks for name.pint in the importing file's directory, then
 * in each directory of PINT_PATH (colon-separated). A module runs once: a
 * second import of the same name gets the loaded module back.
 */
#ifndef PINT_MODULES_H
#define PINT_MODULES_H

#include <stdbool.h>

#include "value.h"

/* Runs the program's main file, as the module "__main__". */
void modules_run_main(const char *path);

/* `import name` on `line` of `importer`: fails with "no module named". */
ObjModule *import_module(const char *name, ObjModule *importer, int line);
/* The same, but NULL when there is no such module. */
ObjModule *try_import_module(const char *name, ObjModule *importer);

void modules_mark_roots(void);  /* every loaded module: they live for the run */
void modules_free(void);        /* at exit, after gc_free_everything() */

#endif
