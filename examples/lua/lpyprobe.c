/*
** lpyprobe.c - pyprobe's probes in Lua 5.4: what the hooks do once a
** guard says that a tracer is there (lpyprobe.h). Nothing here runs while
** nobody traces, except pyprobe_lua_close at lua_close.
*/

#define lpyprobe_c
#define LUA_CORE

#include "lprefix.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"

#include "lpyprobe.h"

#include "ldebug.h"
#include "lgc.h"
#include "lobject.h"
#include "lstate.h"
#include "lstring.h"
#include "ltable.h"


/* {======================================================
** What the probes keep for a Lua state while traced
** ======================================================= */

/*
** Not in Lua's global_State: a field there would make every state bigger,
** and Lua collects by the bytes it has allocated, so even an untraced run
** would collect at other moments than the unpatched Lua. (g->pyprobe_gc,
** the one the hot paths read, sits in what was padding.) Records are made
** when first needed, while traced, with malloc, and freed by lua_close;
** the lock is for states that live in different threads.
*/
typedef struct Instances Instances;

typedef struct State {
  struct State *next;
  const global_State *g;
  lu_mem freed;  /* bytes swept since gc__start */
  Instances *instances;
} State;

static State *states;
static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;


/* g's record; a new one if 'make' (NULL when out of memory), else NULL
** when there is none. */
static State *state_of (const global_State *g, int make) {
  State *s;
  pthread_mutex_lock(&states_lock);
  for (s = states; s != NULL && s->g != g; s = s->next)
    ;
  if (s == NULL && make && (s = (State *)calloc(1, sizeof(State))) != NULL) {
    s->g = g;
    s->next = states;
    states = s;
  }
  pthread_mutex_unlock(&states_lock);
  return s;
}

/* }====================================================== */


/* Tracers read strings without faulting pages in: a literal on a page the
** process never touched reads as "". So what a probe passes is in Lua's
** heap (chunk names, function and class names), in malloc's (copies) or
** on this stack (copies of literals). */
static void copy (char *to, size_t size, const char *from) {
  size_t n = strlen(from);
  if (n >= size)
    n = size - 1;
  memcpy(to, from, n);
  to[n] = '\0';
}


/* {======================================================
** Running code: function__entry, function__return, line
** ======================================================= */

/* What function__entry, __return and line pass: the chunk ("prog.lua"
** for a file, "[C]", "stdin", '[string "..."]'), the function's name as
** Lua's debug information gives it (a global, a method, a field; "?" when
** unknown: a tail call, a call from C, the main chunk), and the line where
** the function is defined (0 for a main chunk, -1 for C). */
typedef struct Where {
  lua_Debug ar;
  const char *file;
  char name[128];
} Where;

static void where (lua_State *L, CallInfo *ci, Where *w) {
  w->ar.i_ci = ci;
  lua_getinfo(L, "Sn", &w->ar);
  /* a file's name is in its chunk name, in Lua's heap; other chunk names
     are in short_src, on this stack */
  w->file = (w->ar.source[0] == '@') ? w->ar.source + 1 : w->ar.short_src;
  copy(w->name, sizeof(w->name), w->ar.name ? w->ar.name : "?");
}


/* The frame starts: its return is owed from now on. */
static void entered (lua_State *L, CallInfo *ci) {
  ci->callstatus |= CIST_PYPROBE_CALL;
  if (PYPROBE_FUNCTION_ENTRY_ENABLED()) {
    Where w;
    where(L, ci, &w);
    PYPROBE_FUNCTION_ENTRY(w.file, w.name, w.ar.linedefined);
  }
}


static void returned (lua_State *L, CallInfo *ci) {
  ci->callstatus &= ~CIST_PYPROBE_CALL;
  if (PYPROBE_FUNCTION_RETURN_ENABLED()) {
    Where w;
    where(L, ci, &w);
    PYPROBE_FUNCTION_RETURN(w.file, w.name, w.ar.linedefined);
  }
}


/*
** The probe bits of L's hookmask follow the semaphores. Turning line on
** sets 'trap' in every Lua frame of L, as lua_sethook does, so that the
** frames running now trace their lines too; turning calls off forgets the
** returns owed, so that a later tracer sees no return without its entry.
*/
int pyprobe_lua_sync (lua_State *L) {
  int want = 0;
  if (PYPROBE_FUNCTION_ENTRY_ENABLED() || PYPROBE_FUNCTION_RETURN_ENABLED())
    want |= PYPROBE_LUA_MASKCALLS;
  if (PYPROBE_LINE_ENABLED())
    want |= PYPROBE_LUA_MASKLINE;
  if ((L->hookmask & PYPROBE_LUA_MASK) != want) {
    CallInfo *ci;
    L->hookmask = (L->hookmask & ~PYPROBE_LUA_MASK) | want;
    for (ci = L->ci; ci != NULL; ci = ci->previous) {
      if ((want & PYPROBE_LUA_MASKLINE) && isLua(ci))
        ci->u.l.trap = 1;
      if (!(want & PYPROBE_LUA_MASKCALLS))
        ci->callstatus &= ~CIST_PYPROBE_CALL;
    }
  }
  return L->hookmask;
}


/*
** A frame starts (precallC; luaV_execute for a Lua function, which it also
** runs again for frames of a resumed coroutine: those are not new).
*/
void pyprobe_lua_enter (lua_State *L, CallInfo *ci) {
  if (!(pyprobe_lua_sync(L) & PYPROBE_LUA_MASKCALLS))
    return;
  if (isLua(ci) && ci->u.l.savedpc != ci_func(ci)->p->code)
    return;  /* not at its first instruction: it is running again */
  entered(L, ci);
}


/*
** A frame ends: Lua's rethook (a return, while hookmask is not zero) or a
** tail call (luaD_pretailcall). Also where the calls' bits go off once the
** tracer is gone.
*/
void pyprobe_lua_leave (lua_State *L, CallInfo *ci) {
  if (ci->callstatus & CIST_PYPROBE_CALL)
    returned(L, ci);
  if (!PYPROBE_LUA_CODE_TRACED())
    pyprobe_lua_sync(L);
}


/* require's frame is left by an error: the module was not loaded. Its name
** is the frame's first argument (ll_require keeps it there). */
static void import_failed (CallInfo *ci) {
  const TValue *name = s2v(ci->func + 1);
  char unknown[2] = "?";
  ci->callstatus &= ~CIST_PYPROBE_IMPORT;
  PYPROBE_IMPORT_FIND_LOAD_DONE(ttisstring(name) ? getstr(tsvalue(name)) : unknown, 0);
}


/*
** The frames above 'stop' are left without returning: an error unwinds
** them (luaD_pcall, luaD_closeprotected, a coroutine's pcall), a coroutine
** yields or dies (lua_resume), or lua_close discards them (os.exit).
** Each fires what it owes, innermost first.
*/
void pyprobe_lua_unwind (lua_State *L, CallInfo *stop) {
  CallInfo *ci;
  for (ci = L->ci; ci != NULL && ci != stop; ci = ci->previous) {
    if (ci->callstatus & CIST_PYPROBE_IMPORT)
      import_failed(ci);
    if (ci->callstatus & CIST_PYPROBE_CALL)
      returned(L, ci);
  }
}


/*
** A yielded coroutine is resumed: its frames are entered again, outermost
** first (its yield returned them all). Not the function that yielded,
** when it is a C function without a continuation (coroutine.yield): it
** only returns now.
*/
void pyprobe_lua_resume (lua_State *L) {
  CallInfo *top = L->ci;
  CallInfo *ci;
  if (!(pyprobe_lua_sync(L) & PYPROBE_LUA_MASKCALLS))
    return;
  for (ci = L->base_ci.next; ci != NULL; ci = ci->next) {
    if (ci == top && !isLua(ci) && ci->u.c.k == NULL)
      break;
    entered(L, ci);
    if (ci == top)
      break;
  }
}


/* luaG_traceexec: a new line (or a jump back), where Lua's line hook
** would be called. */
void pyprobe_lua_line (lua_State *L, CallInfo *ci, int line) {
  if (PYPROBE_LINE_ENABLED()) {
    Where w;
    where(L, ci, &w);
    PYPROBE_LINE(w.file, w.name, line);
  }
  else
    pyprobe_lua_sync(L);  /* the tracer is gone: no more tracing */
}

/* }====================================================== */


/* {======================================================
** Collections: gc__start, gc__done
** ======================================================= */

/*
** A collection starts: an incremental cycle (singlestep leaves the pause),
** a young one, a full one. g->pyprobe_gc is the kind of the one open, plus
** 1. Collections do not overlap in the events: a full collection (or a
** generational one) that finishes an incremental cycle ends that cycle
** first, and the collections a full one runs inside it open none.
** gc__done passes the bytes that sweeping freed since gc__start: the
** objects found dead (the sweeps report them while one is open).
*/
int pyprobe_lua_gcstart (lua_State *L, int kind) {
  global_State *g = G(L);
  State *s;
  if (g->pyprobe_gc == PYPROBE_LUA_GC_CYCLE + 1 && kind != PYPROBE_LUA_GC_CYCLE)
    pyprobe_lua_gcdone(L);
  if (g->pyprobe_gc != 0 || (s = state_of(g, 1)) == NULL)
    return 0;
  g->pyprobe_gc = cast_byte(kind + 1);
  s->freed = 0;
  PYPROBE_GC_START(kind);
  return 1;
}


void pyprobe_lua_swept (lua_State *L, ptrdiff_t bytes) {
  State *s = state_of(G(L), 0);
  if (s != NULL)
    s->freed += cast(lu_mem, bytes);
}


void pyprobe_lua_gcdone (lua_State *L) {
  State *s = state_of(G(L), 0);
  G(L)->pyprobe_gc = 0;
  PYPROBE_GC_DONE(s != NULL ? cast(long, s->freed) : 0L);
}

/* }====================================================== */


/* {======================================================
** Instances: instance__new__*, instance__delete__*
** ======================================================= */

/*
** A table or full userdata that gets a metatable with a string __name is
** an instance of that class, announced at setmetatable while the instance
** probes are traced: marked (PYPROBE_LUA_INSTANCEBIT) and remembered here
** with its class and the chunk that made it. When the collector (or
** lua_close) frees a marked object, instance__delete__* fires with the
** same class and file. They are copies: by then the metatable may be gone.
** This memory is malloc's, not Lua's, so that tracing does not change
** when Lua collects.
*/

typedef struct Class {  /* a class name and a file, as the probes pass them */
  struct Class *next;
  char *name;
  char *file;
} Class;

typedef struct Slot {
  const GCObject *obj;
  Class *cls;
} Slot;

struct Instances {
  Class *classes;
  Slot *slots;  /* open addressing, linear probing; size a power of 2 */
  size_t size;
  size_t count;
};


static size_t slotof (const Instances *in, const GCObject *o) {
  return (size_t)(((uintptr_t)o >> 4) * 0x9E3779B97F4A7C15ull) & (in->size - 1);
}


static Slot *find (Instances *in, const GCObject *o) {
  size_t i;
  for (i = slotof(in, o); in->slots[i].obj != NULL; i = (i + 1) & (in->size - 1))
    if (in->slots[i].obj == o)
      return &in->slots[i];
  return &in->slots[i];  /* the free slot where it would go */
}


static int grow (Instances *in) {
  Instances bigger = *in;
  size_t i;
  bigger.size = in->size ? in->size * 2 : 64;
  bigger.slots = (Slot *)calloc(bigger.size, sizeof(Slot));
  if (bigger.slots == NULL)
    return 0;
  for (i = 0; i < in->size; i++)
    if (in->slots[i].obj != NULL)
      *find(&bigger, in->slots[i].obj) = in->slots[i];
  free(in->slots);
  *in = bigger;
  return 1;
}


static int remember (Instances *in, const GCObject *o, Class *cls) {
  Slot *slot;
  if (2 * (in->count + 1) > in->size && !grow(in))
    return 0;
  slot = find(in, o);
  slot->obj = o;
  slot->cls = cls;
  in->count++;
  return 1;
}


/* Removes o and returns its class (NULL if o is unknown), moving back the
** entries after it that would no longer be found. */
static Class *forget (Instances *in, const GCObject *o) {
  Slot *slot;
  Class *cls;
  size_t i, j;
  if (in == NULL || in->size == 0 || (slot = find(in, o))->obj == NULL)
    return NULL;
  cls = slot->cls;
  i = (size_t)(slot - in->slots);
  for (j = (i + 1) & (in->size - 1); in->slots[j].obj != NULL; j = (j + 1) & (in->size - 1)) {
    size_t home = slotof(in, in->slots[j].obj);
    /* j's entry may move to i unless its home lies cyclically in (i, j] */
    if ((j > i) ? (home <= i || home > j) : (home <= i && home > j)) {
      in->slots[i] = in->slots[j];
      i = j;
    }
  }
  in->slots[i].obj = NULL;
  in->count--;
  return cls;
}


static char *duplicate (const char *s) {
  size_t n = strlen(s) + 1;
  char *d = (char *)malloc(n);
  return d ? (char *)memcpy(d, s, n) : NULL;
}


static Class *classof (Instances *in, const char *name, const char *file) {
  Class *c;
  for (c = in->classes; c != NULL; c = c->next)
    if (strcmp(c->name, name) == 0 && strcmp(c->file, file) == 0)
      return c;
  c = (Class *)malloc(sizeof(Class));
  if (c == NULL)
    return NULL;
  c->name = duplicate(name);
  c->file = duplicate(file);
  if (c->name == NULL || c->file == NULL) {
    free(c->name);
    free(c->file);
    free(c);
    return NULL;
  }
  c->next = in->classes;
  in->classes = c;
  return c;
}


/* The string "__name" if Lua has it, without making it (lua_setmetatable
** must not allocate): a metatable with a __name key keeps it alive. */
static TString *namekey (global_State *g) {
  static const char key[] = "__name";
  size_t l = sizeof(key) - 1;
  TString *ts = g->strt.hash[lmod(luaS_hash(key, l, g->seed), g->strt.size)];
  for (; ts != NULL; ts = ts->u.hnext)
    if (ts->shrlen == l && memcmp(key, getstr(ts), l) == 0)
      return isdead(g, ts) ? NULL : ts;
  return NULL;
}


/* The chunk of the innermost Lua function: where the instance was made. */
static void creator (lua_State *L, Where *w) {
  CallInfo *ci;
  for (ci = L->ci; ci != NULL && !isLua(ci); ci = ci->previous)
    ;
  if (ci != NULL)
    where(L, ci, w);
  else
    w->file = "?";
}


void pyprobe_lua_setmetatable (lua_State *L, GCObject *o, Table *mt) {
  global_State *g = G(L);
  State *s;
  Instances *in;
  TString *key;
  const TValue *name;
  Class *cls;
  Where w;
  if (testbit(o->marked, PYPROBE_LUA_INSTANCEBIT))
    return;  /* announced already: it keeps its first class */
  if ((key = namekey(g)) == NULL || !ttisstring(name = luaH_getshortstr(mt, key)))
    return;  /* no class name */
  if ((s = state_of(g, 1)) == NULL)
    return;
  if (s->instances == NULL && (s->instances = (Instances *)calloc(1, sizeof(Instances))) == NULL)
    return;
  in = s->instances;
  creator(L, &w);
  cls = classof(in, getstr(tsvalue(name)), w.file);
  if (cls == NULL || !remember(in, o, cls))
    return;  /* out of memory: this one is not traced */
  l_setbit(o->marked, PYPROBE_LUA_INSTANCEBIT);
  PYPROBE_INSTANCE_NEW_START(cls->name, cls->file);
  PYPROBE_INSTANCE_NEW_DONE(cls->name, cls->file);
}


void pyprobe_lua_free (lua_State *L, GCObject *o) {
  State *s = state_of(G(L), 0);
  Class *cls = forget(s != NULL ? s->instances : NULL, o);
  if (cls != NULL) {
    PYPROBE_INSTANCE_DELETE_START(cls->name, cls->file);
    PYPROBE_INSTANCE_DELETE_DONE(cls->name, cls->file);
  }
}


/* lua_close, once every object is freed: the state's record goes. */
void pyprobe_lua_close (lua_State *L) {
  State **p, *s = NULL;
  pthread_mutex_lock(&states_lock);
  for (p = &states; *p != NULL; p = &(*p)->next)
    if ((*p)->g == G(L)) {
      s = *p;
      *p = s->next;
      break;
    }
  pthread_mutex_unlock(&states_lock);
  if (s == NULL)
    return;
  if (s->instances != NULL) {
    Instances *in = s->instances;
    while (in->classes != NULL) {
      Class *next = in->classes->next;
      free(in->classes->name);
      free(in->classes->file);
      free(in->classes);
      in->classes = next;
    }
    free(in->slots);
    free(in);
  }
  free(s);
}

/* }====================================================== */


/* {======================================================
** require and the audited library functions
** ======================================================= */

/* ll_require: a module not loaded yet; L->ci is require's frame. */
void pyprobe_lua_import (lua_State *L, const char *name) {
  L->ci->callstatus |= CIST_PYPROBE_IMPORT;
  PYPROBE_IMPORT_FIND_LOAD_START(name);
}


/* ll_require: the loader returned. */
void pyprobe_lua_imported (lua_State *L, const char *name) {
  if (L->ci->callstatus & CIST_PYPROBE_IMPORT) {
    L->ci->callstatus &= ~CIST_PYPROBE_IMPORT;
    PYPROBE_IMPORT_FIND_LOAD_DONE(name, 1);
  }
}


void pyprobe_lua_audit (const char *event, const char *arg) {
  char name[32];
  char none[1] = "";
  copy(name, sizeof(name), event);
  PYPROBE_AUDIT(name, (void *)(arg != NULL ? arg : none));
}

/* }====================================================== */
