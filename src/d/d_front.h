/*
 * d_front.h - the D front end: D source in, a bpftrace 0.17 program and its
 * plan (d_data.h) out. Library code: it never prints, returns 0 or -errno,
 * and reports what is wrong with a script in a struct pyprobe__d_error.
 *
 * The steps, as the CLI takes them:
 *
 *   pyprobe__d_parse(), pyprobe__d_program_append()   every -s FILE and -n TEXT
 *   pyprobe__d_pragma_at(), pyprobe__d_option_set()    -x and #pragma D option
 *   pyprobe__d_program_bind()                          $1..$9, $$1, $target, $pid
 *   pyprobe__d_description_at()                        what to resolve: files, pids
 *   pyprobe__d_translate()                             the bpftrace program + plan
 *
 * Parsing also checks everything that does not depend on the macro
 * arguments or the probes found (names, types, arities, and whatever the
 * translation refuses, by translating for made-up probes), so that a
 * broken script fails before any process is started; translation checks
 * again with the arguments bound.
 */
#ifndef PYPROBE_D_FRONT_H
#define PYPROBE_D_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include "d_data.h"

/* What is wrong, and where: the CLI prints "FILE:LINE:COLUMN: MESSAGE".
 * line and column count from 1; 0 when the error has no place in a script
 * (an option given with -x, a resolved probe). */
struct pyprobe__d_error {
    char file[256];
    int line, column;
    char message[256];
};

struct pyprobe__d_program;

/* Parses one script (`file` names it in errors: "-n" for -n text) into a
 * new program: 0, -EINVAL (the error says why), -ENOMEM. */
int pyprobe__d_parse(const char *file, const char *source, size_t length, struct pyprobe__d_program **out,
                     struct pyprobe__d_error *error);
/* Adds another script's clauses after the program's (several -n and -s make
 * one program, in command-line order). On error the program is unchanged. */
int pyprobe__d_program_append(struct pyprobe__d_program *program, const char *file, const char *source,
                              size_t length, struct pyprobe__d_error *error);
void pyprobe__d_program_free(struct pyprobe__d_program *program);

/* `#pragma D option NAME[=VALUE]` lines, in program order (value NULL when
 * absent). The CLI applies them with pyprobe__d_option_set() after -x, so
 * that the script's own pragmas win, as in dtrace. */
struct pyprobe__d_pragma {
    const char *name, *value;
    const char *file;
    int line, column;
};
size_t pyprobe__d_pragma_count(const struct pyprobe__d_program *program);
const struct pyprobe__d_pragma *pyprobe__d_pragma_at(const struct pyprobe__d_program *program, size_t index);

/* The macro arguments of `pyprobe -s FILE ARG...`: $1..$9 (integers or
 * identifiers), $$1..$$9 (strings), $target (-p or -c), $pid. */
struct pyprobe__d_macros {
    const char *const *args;    /* args[0] is $1 */
    size_t count;
    int target_pid;             /* 0: none (yet): "$target" stays in descriptions */
    int dtrace_pid;             /* $pid; 0: this process's */
};

/* Options (-q, -F, -Z, -x NAME=VALUE, #pragma D option). Zero is dtrace's
 * default for each. */
struct pyprobe__d_translate_options {
    struct pyprobe__d_output_options output; /* quiet, flowindent, aggsort*: copied to the plan */
    struct pyprobe__d_macros macros;
    int zdefs;                  /* -Z: a description may match no probe */
    int defaultargs;            /* a missing $N is 0, a missing $$N "" */
    int destructive;            /* -w: accepted; no destructive action is translated */
    int64_t strsize;            /* bytes of a traced string: BPFTRACE_STRLEN (0: bpftrace's 64).
                                   bpftrace 0.17 keeps strings on the 512-byte BPF stack, so a
                                   program loads only up to a size that depends on its blocks
                                   (measured: 200 for audit.d, 168 for calls.d, 72 for
                                   calltime.d); `bpftrace --emit-elf` fails above it ("BPF
                                   stack limit of 512 bytes is exceeded") */
    int64_t walltime_offset_ns; /* walltimestamp - timestamp; 0: measured at translation */
};

/* Sets option `name` (value NULL for a flag such as quiet): 0 when set,
 * 1 when accepted but without effect here (error->message says why, for
 * the CLI to show), -EINVAL for an unknown option or a bad value. */
int pyprobe__d_option_set(struct pyprobe__d_translate_options *options, const char *name, const char *value,
                          struct pyprobe__d_error *error);

/* Expands the macro arguments in the probe descriptions and checks every
 * macro the program uses: 0, or -EINVAL ("$2 is not defined", at its line).
 * May be called again (e.g. once the -c command's pid is known). */
int pyprobe__d_program_bind(struct pyprobe__d_program *program, const struct pyprobe__d_translate_options *options,
                            struct pyprobe__d_error *error);

/* The probe descriptions of every clause, in program order. */
enum pyprobe__d_probe_kind {
    PYPROBE__D_PROBE_USDT,      /* provider:module:function:name of a USDT provider */
    PYPROBE__D_PROBE_BEGIN,
    PYPROBE__D_PROBE_END,
    PYPROBE__D_PROBE_TICK,      /* tick-N[unit]: one CPU */
    PYPROBE__D_PROBE_PROFILE,   /* profile-N[unit]: every CPU */
    PYPROBE__D_PROBE_SYSCALL,   /* syscall::NAME:entry|return */
    PYPROBE__D_PROBE_PID,       /* pidPID:MODULE:FUNCTION:entry|return */
    PYPROBE__D_PROBE_PROC       /* proc:::exec-success, proc:::exit */
};

struct pyprobe__d_description {
    enum pyprobe__d_probe_kind kind;
    /* The four fields after macro expansion, "" when empty (any). USDT:
     * the provider may be a glob (python*), python$target (when no target
     * is bound yet) or python4242; the name is in D form (function-entry). */
    const char *provider, *module, *function, *name;
    const char *text;           /* as written */
    const char *file;
    int line, column;
    size_t clause;              /* which clause: descriptions of one clause share it */
    int64_t period_ns;          /* TICK, PROFILE: the period, or 0 when given as a rate: */
    int64_t rate_hz;
};
size_t pyprobe__d_description_count(const struct pyprobe__d_program *program);
const struct pyprobe__d_description *pyprobe__d_description_at(const struct pyprobe__d_program *program,
                                                               size_t index);

/*
 * One probe a description matched, as the resolver found it. USDT and PID
 * descriptions need at least one each (none: "does not match any probe",
 * unless zdefs, when the description is dropped); for the other kinds an
 * entry is optional and only gives the id (else BEGIN 1, END 2, others 0).
 */
struct pyprobe__d_resolved {
    size_t description;         /* index for pyprobe__d_description_at() */
    const char *path;           /* USDT, PID: the ELF file that holds the probe or function */
    const char *provider;       /* USDT: as in the note: python */
    const char *name;           /* USDT: as in the note: function__entry */
    const char *function;       /* USDT: the C function of the site (-F, probefunc); PID: the function */
    unsigned id;                /* the probe's id in the default CPU/ID/FUNCTION:NAME prefix */
    int pid;                    /* 0: every process that maps path */
};

/* Translates the program for these probes: 0 and *out, or -EINVAL with the
 * error (a refused feature names itself and its line), -ENOMEM. */
int pyprobe__d_translate(struct pyprobe__d_program *program, const struct pyprobe__d_resolved *resolved,
                         size_t resolved_count, const struct pyprobe__d_translate_options *options,
                         struct pyprobe__d_plan **out, struct pyprobe__d_error *error);
void pyprobe__d_plan_free(struct pyprobe__d_plan *plan);

#endif /* PYPROBE_D_FRONT_H */
