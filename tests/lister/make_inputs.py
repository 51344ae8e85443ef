#!/usr/bin/env python3
"""Writes the hand-made ELF files that test_lister.c reads, into DIR:

  signatures.so   python:function__entry and python:gc__done with signature
                  notes, mylang:tick without; the .note.pyprobe section also
                  holds a malformed signature and a note of another owner
  functions.so    sites in f1, in f2 (which an alias later in .symtab also
                  covers), in no function, and in a symbol whose name runs
                  past its string table; .symtab of class 32 and 64
  broken.so       good, malformed descriptor, good, then a note whose size
                  breaks the section
  symtab-cut.so   a .symtab that runs past the end of the file

usage: make_inputs.py DIR
"""
import os
import sys

import elfgen


def signatures():
    image = elfgen.Image()
    image.probe("python", "function__entry", "8@%rdi 8@%rsi -4@%edx", 0x1010, elfgen.PROBES)
    image.probe("python", "gc__done", "-8@%rdi", 0x1020, elfgen.PROBES + 2)
    image.probe("mylang", "tick", "-4@%edi", 0x1030, 0)
    image.signature("python", "function__entry", ["const char *", "const char *", "int"])
    image.signature("python", "gc__done", [], raw=b"python\0gc__done\0long")  # no final NUL
    image.signature("python", "gc__done", ["long"])
    image.signatures += image.note("other", 1, b"python\0gc__done\0char\0")
    return image


def functions(bits):
    image = elfgen.Image(bits=bits)
    for pc in (0x1008, 0x1010, 0x1040, 0x1058, 0x1010):
        image.probe("p", "n", "", pc, 0)
    image.function("f1", 0x1000, 0x10).function("f2", 0x1010, 0x20).function("alias", 0x1000, 0x30)
    image.function("empty", 0x1040, 0)
    image.function("unnamed", 0x1050, 0x10)
    data = bytearray(image.build())
    # Point "unnamed"'s st_name past .strtab.
    entry = 24 if bits == 64 else 16
    symtab = data.find(image._symbols()[0])
    data[symtab + 5 * entry:symtab + 5 * entry + 4] = (0x7fff).to_bytes(4, "little")
    return bytes(data)


def broken():
    image = elfgen.Image()
    image.probe("p", "good1", "", 0x1010, 0)
    image.probe("p", "bad", "", 0x1010, 0, strings=b"p\0bad")
    image.probe("p", "good2", "", 0x1020, 0)
    image.probe("p", "framing", "", 0x1030, 0, descsz=0x1000)
    image.probe("p", "unread", "", 0x1040, 0)
    return image.build()


def symtab_cut():
    image = elfgen.Image().probe("p", "n", "", 0x1008, 0)
    for i in range(200):
        image.function(f"function{i}", 0x1000 + i, 1)
    data = image.build()
    # Cut inside .strtab/.symtab and move the section headers before the cut.
    symtab = data.find(image._symbols()[0])
    shoff = int.from_bytes(data[40:48], "little")
    headers = data[shoff:]
    cut = symtab + 100 * 24
    kept = data[:cut]
    shoff = len(kept) + (-len(kept)) % 8
    kept += b"\0" * (shoff - len(kept)) + headers
    return kept[:40] + shoff.to_bytes(8, "little") + kept[48:]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {"signatures.so": signatures().build(), "functions64.so": functions(64),
             "functions32.so": functions(32), "broken.so": broken(), "symtab-cut.so": symtab_cut()}
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
