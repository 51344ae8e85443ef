/*
** lpyprobe.h - pyprobe's probes in Lua 5.4: what Lua's sources call.
**
** examples/lua/build copies this file and lpyprobe.c into Lua's src/ and
** applies hooks.patch, which calls the macros below at the places
** README.md (next to this file) walks through. The provider is pyprobe's
** python provider built as `lua` (-DPYPROBE_PROVIDER=lua): CPython's 12
** probes, names and argument types.
**
** Every hook is a guard, a compare and a branch while nobody traces, in the
** hot path; what a probe's arguments need (debug information, names,
** copies) lives in lpyprobe.c, in functions that are never inlined.
**
** How a Lua state follows the tracers, without a check per instruction:
** Lua already tests L->hookmask on every call and return, and runs
** luaG_traceexec before each instruction while a frame's 'trap' is set
** (debug.sethook's machinery). Two bits of hookmask that the debug library
** never uses belong to the probes:
**   PYPROBE_LUA_MASKCALLS  function__entry or __return is traced: returns
**                          take Lua's hook path (rethook), which fires them;
**   PYPROBE_LUA_MASKLINE   line is traced: frames get 'trap' and
**                          luaG_traceexec fires `line` where Lua's own
**                          line hook would run.
** They are set (pyprobe_lua_sync) at the cheap points where Lua starts a
** function (luaV_execute's startfunc, precallC), resumes a coroutine or
** runs a GC step, when PYPROBE_LUA_CODE_TRACED() says a tracer came; they
** are cleared on the hook paths themselves once the tracer is gone. While
** nobody traces, the bits are zero and the only cost is that one guard per
** call: no instruction, loop or return pays anything.
*/
#ifndef lpyprobe_h
#define lpyprobe_h

#include <pyprobe.h>

#include "lua.h"


/* ---- the hookmask bits and the frame marks ---- */

#define PYPROBE_LUA_MASKCALLS  (1 << 6)
#define PYPROBE_LUA_MASKLINE   (1 << 7)
#define PYPROBE_LUA_MASK       (PYPROBE_LUA_MASKCALLS | PYPROBE_LUA_MASKLINE)

/* CallInfo.callstatus bits Lua leaves free (it uses 0 to 13):
**   CIST_PYPROBE_CALL    function__entry fired for this frame, and its
**                        function__return is owed: whatever ends the frame
**                        (a return, a tail call, an error, a yield) fires
**                        it, once. So entries and returns pair even when a
**                        tracer attaches mid-run.
**   CIST_PYPROBE_IMPORT  this is require's frame and import__find__load__
**                        start fired: the matching done is owed, with
**                        found 0 if an error unwinds the frame. */
#define CIST_PYPROBE_CALL    (1 << 14)
#define CIST_PYPROBE_IMPORT  (1 << 15)

/* GCObject.marked bit 7 (TESTBIT, used only by Lua's internal test build,
** ltests.h): the object was announced by instance__new__*, so freeing it
** fires instance__delete__*. */
#define PYPROBE_LUA_INSTANCEBIT  7

/* gc__start's generation: what kind of collection it is. */
#define PYPROBE_LUA_GC_YOUNG  0  /* a generational minor collection */
#define PYPROBE_LUA_GC_CYCLE  1  /* an incremental cycle */
#define PYPROBE_LUA_GC_FULL   2  /* collectgarbage(), an emergency, a major one */


/* ---- the guards ---- */

/* pyprobe keeps the 12 semaphores side by side, in probes/python.d's order,
** from a 4-byte boundary (cmake/PyprobeProvider.cmake; examples/lua/build
** checks it in the built files). So one 64-bit compare tests four probes:
**   PYPROBE_LUA_CODE_TRACED()       function__entry, line, function__return
**                                   (and instance__new__start, the fourth)
**   PYPROBE_LUA_INSTANCES_TRACED()  instance__new__start, __new__done,
**                                   __delete__start, __delete__done
** N.B. pyprobe.h's PYPROBE__ names are the library's own; this file uses
** them as include/pyprobe/cpython/pydtrace_probes.h does. */
#ifdef PYPROBE__COMPILED_OUT
#define PYPROBE_LUA_CODE_TRACED()       0
#define PYPROBE_LUA_INSTANCES_TRACED()  0
#else
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__) && !defined(PYPROBE__SEMAPHORE_VIA_GOT)
/* The semaphores are in this executable: cmpq $0, sym(%rip), written out
** (given the address as an operand, GCC puts it in a register first, in
** luaV_execute) and volatile (the kernel changes the word). */
#define pyprobe_lua_traced(probe,dname) (__builtin_expect(__extension__ ({ \
  int nonzero_; \
  __asm__ __volatile__("cmpq $0, " PYPROBE__SEMAPHORE_SYMBOL(dname) "(%%rip)" \
                       : "=@ccnz"(nonzero_)); \
  nonzero_; }), 0))
#elif defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
/* In libpyprobe.so: its address from the GOT (pyprobe.h), then the same
** compare through it. */
typedef unsigned long long __attribute__((__may_alias__)) pyprobe_lua_word;
#define pyprobe_lua_traced(probe,dname) (__builtin_expect(__extension__ ({ \
  int nonzero_; \
  __asm__ __volatile__("cmpq $0, %1" : "=@ccnz"(nonzero_) \
                       : "m"(*(const pyprobe_lua_word *)(const void *)PYPROBE__SEMAPHORE_ADDRESS(probe))); \
  nonzero_; }), 0))
#else
typedef unsigned long long __attribute__((__may_alias__)) pyprobe_lua_word;
#define pyprobe_lua_traced(probe,dname) (__builtin_expect(*(const volatile pyprobe_lua_word *) \
  (const volatile void *)PYPROBE__SEMAPHORE_ADDRESS(probe) != 0, 0))
#endif
#define PYPROBE_LUA_CODE_TRACED() \
  pyprobe_lua_traced(function_entry, "function__entry")
#define PYPROBE_LUA_INSTANCES_TRACED() \
  pyprobe_lua_traced(instance_new_start, "instance__new__start")
#endif


/* ---- the hooks (lpyprobe.c) ---- */

struct CallInfo;
struct GCObject;
struct Table;

#define PYPROBE_LUA_FUNC  LUAI_FUNC __attribute__((cold, noinline))

/* Calls: a frame starts (a C function, or a Lua function at its first
** instruction), returns (Lua's rethook), is left by a tail call. */
PYPROBE_LUA_FUNC void pyprobe_lua_enter (lua_State *L, struct CallInfo *ci);
PYPROBE_LUA_FUNC void pyprobe_lua_leave (lua_State *L, struct CallInfo *ci);
/* Errors and yields: the frames above 'stop' are left. */
PYPROBE_LUA_FUNC void pyprobe_lua_unwind (lua_State *L, struct CallInfo *stop);
/* A suspended coroutine runs again: its frames are entered again. */
PYPROBE_LUA_FUNC void pyprobe_lua_resume (lua_State *L);
/* The hookmask bits follow the semaphores; returns the new hookmask. */
PYPROBE_LUA_FUNC int pyprobe_lua_sync (lua_State *L);
PYPROBE_LUA_FUNC void pyprobe_lua_line (lua_State *L, struct CallInfo *ci, int line);

/* A collection starts (returns whether it opened one: a collection inside
** another opens none), sweeps, and ends. */
PYPROBE_LUA_FUNC int pyprobe_lua_gcstart (lua_State *L, int kind);
PYPROBE_LUA_FUNC void pyprobe_lua_swept (lua_State *L, ptrdiff_t bytes);
PYPROBE_LUA_FUNC void pyprobe_lua_gcdone (lua_State *L);

PYPROBE_LUA_FUNC void pyprobe_lua_setmetatable (lua_State *L, struct GCObject *o,
                                                struct Table *mt);
PYPROBE_LUA_FUNC void pyprobe_lua_free (lua_State *L, struct GCObject *o);
LUAI_FUNC void pyprobe_lua_close (lua_State *L);

PYPROBE_LUA_FUNC void pyprobe_lua_import (lua_State *L, const char *name);
PYPROBE_LUA_FUNC void pyprobe_lua_imported (lua_State *L, const char *name);
PYPROBE_LUA_FUNC void pyprobe_lua_audit (const char *event, const char *arg);


/* ---- what the patched sources call ---- */

/* lvm.c (startfunc), ldo.c (precallC, lua_resume), lgc.c (luaC_step). */
#define pyprobe_lua_start(L,ci) \
  { if (PYPROBE_LUA_CODE_TRACED()) pyprobe_lua_enter(L, ci); }
#define pyprobe_lua_check(L) \
  { if (PYPROBE_LUA_CODE_TRACED()) pyprobe_lua_sync(L); }

/* lgc.c, freeobj: whether an object being freed was announced as an
** instance; the sweeps: whether a collection is open, whose bytes they
** report. (Tests of Lua's own bytes, not of semaphores: gone too when the
** probes are compiled out.) */
#ifdef PYPROBE__COMPILED_OUT
#define pyprobe_lua_announced(o)  0
#define pyprobe_lua_collecting(g)  0
#else
#define pyprobe_lua_announced(o)  l_unlikely(testbit((o)->marked, PYPROBE_LUA_INSTANCEBIT))
#define pyprobe_lua_collecting(g)  l_unlikely((g)->pyprobe_gc)
#endif

/* lgc.c: a collection of a kind, and its end (incremental cycles end
** where they reach the pause, lgc.c's singlestep). */
#define pyprobe_lua_gcbegin(L,kind) \
  ((PYPROBE_GC_START_ENABLED() || PYPROBE_GC_DONE_ENABLED()) ? pyprobe_lua_gcstart(L, kind) : 0)
#define pyprobe_lua_gcend(L,opened) \
  { if (opened) pyprobe_lua_gcdone(L); }

/* ldo.c: error recovery; only frames marked while traced need work. */
#define pyprobe_lua_unwinding(L,stop) \
  { if ((L->hookmask & PYPROBE_LUA_MASKCALLS) || PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED()) \
      pyprobe_lua_unwind(L, stop); }

/* loadlib.c, ll_require: a module not loaded yet is looked for, then
** loaded. */
#define pyprobe_lua_requiring(L,name) \
  { if (PYPROBE_IMPORT_FIND_LOAD_START_ENABLED() || PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED()) \
      pyprobe_lua_import(L, name); }
#define pyprobe_lua_required(L,name) \
  { if (PYPROBE_IMPORT_FIND_LOAD_DONE_ENABLED()) pyprobe_lua_imported(L, name); }

/* The libraries: event names are "io.open", "os.execute", ...; the pointer
** is the call's first string argument (a path, a command, a chunk name). */
#define pyprobe_lua_auditing(event,arg) \
  { if (PYPROBE_AUDIT_ENABLED()) pyprobe_lua_audit(event, arg); }

#endif
