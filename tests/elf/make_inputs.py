#!/usr/bin/env python3
"""Writes the hand-made ELF files that test_elf_reader.c reads, into DIR:
each holds the `python:line` probe (arguments "-4@%edi") in the ways the
test needs, at elfgen's addresses (TEXT, BASE, PROBES) and the ones below,
which test_elf_reader.c repeats. Section headers come first (elfgen's
headers_first), so that a cut loses the notes' bytes and nothing else.

  line.elf                  one probe at TEXT, semaphore PROBES
  no-notes.elf              neither notes nor .stapsdt.base
  namesz.elf, descsz.elf    the note's size fields run past the section
  header-cut.elf            a note header cut by the section's end
  short-desc32/64.elf       a descriptor shorter than its three addresses
  no-nul-provider/name/args.elf   a string without its NUL
  malformed-then-good.elf   a bad descriptor, then a probe at TEXT + 8
  framing-then-good.elf     a note breaking the framing, then a probe
  other-owners.elf          notes of other owners and types, then a probe
  layout-32lsb/64lsb/32msb/64msb.elf   word size and byte order
  base-moves32/64.elf       notes written for other .stapsdt.base addresses
  no-base.elf               a probe, but no .stapsdt.base section

usage: make_inputs.py DIR
"""
import os
import sys

import elfgen
from elfgen import BASE, PROBES, TEXT

LINE = ("python", "line", "-4@%edi")
LINE_STRINGS = b"python\0line\0-4@%edi\0"

# (name, bits, msb, pc, semaphore) of the layout files.
LAYOUTS = [
    ("layout-32lsb", 32, False, 0x08041234, 0x0a0b0c0e),
    ("layout-64lsb", 64, False, 0x123456789a, 0x7f0102030406),
    ("layout-32msb", 32, True, 0x08041234, 0x0a0b0c0e),
    ("layout-64msb", 64, True, 0x123456789a, 0x7f0102030406),
]


def line(image, pc=TEXT, semaphore=PROBES, **kwargs):
    return image.probe(*LINE, pc=pc, semaphore=semaphore, **kwargs)


def header_cut():
    image = line(elfgen.Image())
    image.notes = image.notes[:8]
    return image


def short_descriptor(bits):
    image = elfgen.Image(bits=bits)
    word = bits // 8
    return image.raw_note(image.note("stapsdt", 3, bytes(3 * word - 1)))


def other_owners():
    image = elfgen.Image()
    for owner, note_type in (("GNU", 3), ("stapsdt", 1), ("stapsdtX", 3)):
        image.raw_note(image.note(owner, note_type, b"abcd"))
    return line(image)


def base_moves(bits):
    image = elfgen.Image(bits=bits)
    top = (1 << bits) - 1
    line(image, 0x1100, 0x3800, base=BASE - 0x800)
    line(image, 0x1900, 0x4800, base=BASE + 0x800)
    line(image, 0x1100, 0, base=BASE - 0x800)
    return line(image, top - 0xff, 0, base=BASE - 0x800)


def images():
    yield "line", line(elfgen.Image())
    yield "no-notes", elfgen.Image(base=None)
    yield "namesz", line(elfgen.Image(), namesz=0x10000)
    yield "descsz", line(elfgen.Image(), descsz=0x10000)
    yield "header-cut", header_cut()
    for bits in (32, 64):
        yield f"short-desc{bits}", short_descriptor(bits)
        yield f"base-moves{bits}", base_moves(bits)
    for name, length in (("provider", 6), ("name", 11), ("args", len(LINE_STRINGS) - 1)):
        yield f"no-nul-{name}", line(elfgen.Image(), strings=LINE_STRINGS[:length])
    yield "malformed-then-good", line(line(elfgen.Image(), strings=b"python"), TEXT + 8)
    yield "framing-then-good", line(line(elfgen.Image(), semaphore=0, descsz=0x10000), TEXT + 8, 0)
    yield "other-owners", other_owners()
    for name, bits, msb, pc, semaphore in LAYOUTS:
        yield name, line(elfgen.Image(bits=bits, msb=msb), pc, semaphore)
    yield "no-base", line(elfgen.Image(base=None), 0x1100, 0x3808, base=0x1800)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, image in images():
        with open(os.path.join(out, name + ".elf"), "wb") as f:
            f.write(image.build(headers_first=True))


if __name__ == "__main__":
    main()
