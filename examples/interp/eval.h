/*
 * eval.h - the evaluator: walks the syntax tree, one frame per running
 * function or module top level. Fires function__entry/return, line and
 * instance__new__start/done.
 */
#ifndef PINT_EVAL_H
#define PINT_EVAL_H

#include "value.h"

/* Runs a module's top level (the probes call it "<module>", line 1). */
void eval_module(ObjModule *module, const Node *statements);

/* Calls a function, method, class or builtin with the argc arguments that
 * sit on the root stack from index `args` on. */
Value call_value(Value callee, int argc, int args, int line);

/* The module whose code is running: errors are reported in its file. */
ObjModule *current_module(void);

/* `file:line: message` in the running module's file, then exit(1). */
_Noreturn void runtime_error(int line, const char *fmt, ...) PINT_PRINTF(2, 3);

/* Marks every frame's variables, for the collector. */
void eval_mark_roots(void);

/* builtins.c: the builtin function of that name, or NULL. */
const Builtin *find_builtin(const char *name);

#endif
