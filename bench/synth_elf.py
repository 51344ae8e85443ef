#!/usr/bin/env python3
"""A synthetic ELF shared object with N USDT probe sites, for the lister.

    bench/synth_elf.py --sites 100000 --output synth.so [--probes 1000]

Writes assembly and links it with the C compiler (`cc -shared -nostdlib`):
N functions site_0 ... site_{N-1}, each holding one probe site (a 5-byte
nop) with its .note.stapsdt entry, as sys/sdt.h would emit it. Site i is
probe `probe_{i mod P}` of provider `bench`, with arguments
`-4@%edi 8@%rsi`; every probe has a semaphore in `.probes`, so each probe
has N/P sites (OpenJDK's libjvm.so has 531 sites of 513 probes). The object
also has .stapsdt.base, a symbol table of N functions and P semaphores.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HEADER = """\
\t.pushsection .stapsdt.base,"aG","progbits",.stapsdt.base,comdat
\t.weak _.stapsdt.base
\t.hidden _.stapsdt.base
_.stapsdt.base:
\t.space 1
\t.size _.stapsdt.base, 1
\t.popsection
\t.text
"""

SITE = """\
\t.globl site_{i}
\t.type site_{i}, @function
site_{i}:
990:\t.nops 5
\t.pushsection .note.stapsdt,"","note"
\t.balign 4
\t.4byte 992f-991f, 994f-993f, 3
991:\t.asciz "stapsdt"
992:\t.balign 4
993:\t.8byte 990b
\t.8byte _.stapsdt.base
\t.8byte bench_probe_{p}_semaphore
\t.asciz "bench"
\t.asciz "probe_{p}"
\t.asciz "-4@%edi 8@%rsi"
994:\t.balign 4
\t.popsection
\tret
\t.size site_{i}, .-site_{i}
"""

SEMAPHORE = """\
\t.globl bench_probe_{p}_semaphore
\t.hidden bench_probe_{p}_semaphore
\t.type bench_probe_{p}_semaphore, @object
\t.size bench_probe_{p}_semaphore, 2
bench_probe_{p}_semaphore:
\t.2byte 0
"""


def generate(sites, probes, output, cc="cc"):
    probes = max(1, min(probes, sites))
    with tempfile.TemporaryDirectory(prefix="pyprobe-synth-") as tmp:
        source = os.path.join(tmp, "synth.s")
        with open(source, "w") as f:
            f.write(HEADER)
            for i in range(sites):
                f.write(SITE.format(i=i, p=i % probes))
            f.write('\t.section .probes,"aw","progbits"\n\t.balign 2\n')
            for p in range(probes):
                f.write(SEMAPHORE.format(p=p))
            f.write('\t.section .note.GNU-stack,"","progbits"\n')
        proc = subprocess.run([cc, "-shared", "-nostdlib", "-Wl,--hash-style=gnu", "-o", output, source],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{cc} could not link the synthetic ELF: {proc.stderr.strip()}")
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=100000)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--output", required=True)
    opts = parser.parse_args()
    try:
        generate(opts.sites, opts.probes, opts.output)
    except RuntimeError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
