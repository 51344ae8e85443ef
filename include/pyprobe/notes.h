/*
 * pyprobe/notes.h - the two ELF notes that describe USDT probes, as pyprobe
 * writes and reads them. One definition for the writers (the build's
 * argument-type step, the run-time providers) and the readers (pyprobe -l).
 *
 * .note.stapsdt: systemtap's format, which every Linux tracer reads.
 *   One note per probe site, owner "stapsdt", type 3. Descriptor: three
 *   addresses of the file's word size (site, link-time address of the
 *   .stapsdt.base section, semaphore or 0), then the NUL-terminated strings
 *   provider, probe name, argument description ("8@%rdi -4@%edx").
 *
 * .note.pyprobe: pyprobe's own, not allocated, one note per probe of a
 *   provider file, owner "pyprobe", type 1. Descriptor: the NUL-terminated
 *   strings provider, probe name (as in the stapsdt note: function__entry),
 *   then one C type per argument, in order ("const char *"), which a lister
 *   prints as dtrace's "Argument Types". Readers skip other owners and
 *   types, so the section has room to grow.
 */
#ifndef PYPROBE_NOTES_H
#define PYPROBE_NOTES_H

/* A probe has at most 12 arguments: what the stapsdt convention and its
 * consumers (bpftrace, gdb's $_probe_arg0..11) allow. */
#define PYPROBE_MAX_PROBE_ARGS 12

#define PYPROBE_STAPSDT_SECTION ".note.stapsdt"
#define PYPROBE_STAPSDT_OWNER "stapsdt"
#define PYPROBE_STAPSDT_TYPE 3
#define PYPROBE_STAPSDT_BASE_SECTION ".stapsdt.base"

#define PYPROBE_SIGNATURE_SECTION ".note.pyprobe"
#define PYPROBE_SIGNATURE_OWNER "pyprobe"
#define PYPROBE_SIGNATURE_TYPE 1

/* One .note.pyprobe in assembler, for code that emits the notes at build
 * time (tools/pyprobe-provider generates these for pyprobe_add_provider()):
 *
 *     __asm__(PYPROBE_SIGNATURE_NOTE_BEGIN
 *             PYPROBE_SIGNATURE_NOTE_STRING("\"python\"")
 *             PYPROBE_SIGNATURE_NOTE_STRING("\"gc__start\"")
 *             PYPROBE_SIGNATURE_NOTE_STRING("\"int\"")
 *             PYPROBE_SIGNATURE_NOTE_END);
 *
 * Each string is an assembler string literal, emitted with its NUL. */
#define PYPROBE__STRINGIFY(x) #x
#define PYPROBE__STRING(x) PYPROBE__STRINGIFY(x)
#define PYPROBE_SIGNATURE_NOTE_STRING(s) "  .asciz " s "\n"
#define PYPROBE_SIGNATURE_NOTE_BEGIN \
    ".pushsection " PYPROBE_SIGNATURE_SECTION ", \"\", %note\n" \
    "  .balign 4\n" \
    "  .4byte 992f - 991f, 994f - 993f, " PYPROBE__STRING(PYPROBE_SIGNATURE_TYPE) "\n" \
    "991: .asciz \"" PYPROBE_SIGNATURE_OWNER "\"\n" \
    "992: .balign 4\n" \
    "993:\n"
#define PYPROBE_SIGNATURE_NOTE_END \
    "994: .balign 4\n" \
    ".popsection\n"

#endif /* PYPROBE_NOTES_H */
