/*
 * rt_image.h - the ELF shared object a runtime provider loads, built with
 * libelf (x86-64 only).
 *
 * The object has three loadable segments and no relocations:
 *
 *   R    ELF header, program headers, .hash, .dynsym, .dynstr, .stapsdt.base
 *   R X  .text: per probe a 16-byte slot holding its site function,
 *        a 5-byte nop (the probe site, as the static sites' PYPROBE_NOP5)
 *        and a ret, padded with int3
 *   RW   .dynamic, .probes: per probe a 16-bit semaphore
 *
 * plus PT_DYNAMIC and a non-executable PT_GNU_STACK, and two sections that
 * are not loaded: .note.stapsdt (one note per probe, with its semaphore)
 * and .note.pyprobe (the argument types, for `pyprobe -l -v`). The dynamic
 * symbols name each site function PROVIDER_PROBE_site and each semaphore
 * PROVIDER_PROBE_semaphore, as systemtap's dtrace -G does.
 *
 * A site function is called with the twelve 64-bit values of the probe's
 * arguments (SysV: rdi, rsi, rdx, rcx, r8, r9, then the stack), so at the
 * nop the first six are in registers and the others at 8(%rsp) to
 * 48(%rsp), above the return address; the note's argument description says
 * so, with each argument's declared size and sign ("-4@%rsi 8@16(%rsp)").
 */
#ifndef PYPROBE_RT_IMAGE_H
#define PYPROBE_RT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* One probe as the image needs it. */
struct pyprobe__rt_image_probe {
    const char *name;
    unsigned arg_count;
    const uint8_t *types; /* enum pyprobe_arg_type, arg_count of them */
};

/* Where the image put things, as addresses in the object (add the load
 * bias for run-time addresses). */
struct pyprobe__rt_image_layout {
    uint64_t site_base;      /* probe i's site is at site_base + i * site_stride */
    uint64_t site_stride;
    uint64_t semaphore_base; /* probe i's semaphore is at semaphore_base + 2 * i */
};

/* Whether this build can generate an object for the machine it runs on. */
int pyprobe__rt_image_supported(void);

/* The argument description of a probe's note, into `out` (at least
 * PYPROBE__RT_IMAGE_ARGS_MAX bytes): "" for no arguments. */
#define PYPROBE__RT_IMAGE_ARGS_MAX 256
void pyprobe__rt_image_args(const uint8_t *types, unsigned count, char *out);

/* Writes the object of `provider` with its `count` probes to `fd` (an empty
 * file open for writing) and fills `layout`: 0, -ENOMEM, or -EIO when
 * libelf fails (its message in `message`, of `message_size` bytes). */
int pyprobe__rt_image_write(int fd, const char *provider, const struct pyprobe__rt_image_probe *probes, size_t count,
                   struct pyprobe__rt_image_layout *layout, char *message, size_t message_size);

#endif /* PYPROBE_RT_IMAGE_H */
