#!/usr/bin/env python3
"""pyprobe -l against readelf -n (and bpftrace -l) on real programs.

For every ELF file with stapsdt notes among the well-known places below
(CPython, OpenJDK's libjvm.so, PostgreSQL, libstdc++, glibc; those absent
are skipped) and every --file: each probe site that readelf prints, in
order, is one row of pyprobe's with the same provider, name, location,
base, semaphore and arguments; the addresses follow the .stapsdt.base rule
from readelf's section table; the FUNCTION is the first FUNC symbol of
.symtab, else .dynsym, whose range holds the site, as readelf -s lists them.

With --bpftrace, compares the set of provider:name with what
`bpftrace -l 'usdt:FILE:*'` lists instead.
"""
import argparse
import bisect
import glob
import json
import os
import re
import subprocess

from common import bpftrace_usable, check, fail, run

WELL_KNOWN = [
    "/usr/bin/python3.11", "/usr/bin/python3.*[0-9]",
    "/usr/lib/jvm/*/lib/server/libjvm.so",
    "/usr/lib/postgresql/*/bin/postgres",
    "/usr/lib/*-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6",
    "/usr/lib/*-linux-gnu/libc.so.6", "/usr/lib/*-linux-gnu/ld-linux*.so.2",
]

# With --wide readelf starts "Provider:" on the note's own line, after a tab.
NOTE = re.compile(r"\sProvider: (?P<provider>.*)\n\s+Name: (?P<name>.*)\n"
                  r"\s+Location: (?P<pc>0x[0-9a-f]+), Base: (?P<base>0x[0-9a-f]+), "
                  r"Semaphore: (?P<semaphore>0x[0-9a-f]+)\n(?:\s+Arguments: (?P<args>.*)\n)?", re.M)


def well_known_files(extra):
    seen, files = set(), []
    for pattern in WELL_KNOWN:
        for path in sorted(glob.glob(pattern)):
            real = os.path.realpath(path)
            if real not in seen and os.path.isfile(real):
                seen.add(real)
                files.append(path)
    return files + extra


def readelf_notes(readelf, path):
    out = run([readelf, "-n", "--wide", path]).stdout
    stapsdt = out.count("NT_STAPSDT")
    notes = [m.groupdict() for m in NOTE.finditer(out)]
    check(len(notes) == stapsdt, f"{path}: parsed {len(notes)} of readelf's {stapsdt} stapsdt notes")
    return notes


def base_address(readelf, path):
    for line in run([readelf, "-S", "--wide", path]).stdout.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 3 and fields[1] == ".stapsdt.base":
            return int(fields[3], 16)
    return None


class Functions:
    """The FUNC symbols of readelf -s, to find the one holding an address."""

    def __init__(self, readelf, path):
        self.tables = []  # per table, in file order: sorted [(start, index, end, name)]
        table = None
        for line in run([readelf, "-s", "--wide", path]).stdout.splitlines():
            if line.startswith("Symbol table "):
                table = [] if "'.symtab'" in line or "'.dynsym'" in line else None
                if table is not None:
                    self.tables.append(("'.symtab'" in line, table))
                continue
            fields = line.split()
            if table is None or len(fields) < 8 or fields[3] not in ("FUNC", "IFUNC") or fields[6] == "UND":
                continue
            size = int(fields[2], 16) if fields[2].startswith("0x") else int(fields[2])
            if size > 0:
                start = int(fields[1], 16)
                table.append((start, len(table), start + size, fields[7].split("@")[0]))
        # .symtab first, as the lister does.
        self.tables = [sorted(t) for _, t in sorted(self.tables, key=lambda t: not t[0])]
        self.longest = [max((end - start for start, _, end, _ in t), default=0) for t in self.tables]

    def at(self, address):
        for table, longest in zip(self.tables, self.longest):
            best = None
            i = bisect.bisect_right(table, (address, float("inf")))
            while i > 0 and table[i - 1][0] >= address - longest:
                i -= 1
                start, index, end, name = table[i]
                if start <= address < end and (best is None or index < best[0]):
                    best = (index, name)
            if best:
                return best[1]
        return None


def moved(address, base, note_base, bits64):
    if base is None or address == 0:
        return address
    return (address + base - note_base) % (1 << (64 if bits64 else 32))


def compare_with_readelf(pyprobe, readelf, path):
    notes = readelf_notes(readelf, path)
    listing = run([pyprobe, "-l", "--json", "--raw-names", path], check_exit=False)
    check(listing.returncode == 0 and listing.stderr == "", f"{path}: pyprobe exit {listing.returncode}: {listing.stderr}")
    probes = json.loads(listing.stdout)["probes"]
    check(len(probes) == len(notes), f"{path}: pyprobe lists {len(probes)} sites, readelf {len(notes)}")
    base = base_address(readelf, path)
    functions = Functions(readelf, path)
    bits64 = open(path, "rb").read(5)[4] == 2
    for i, (note, probe) in enumerate(zip(notes, probes)):
        pc, note_base, semaphore = (int(note[k], 16) for k in ("pc", "base", "semaphore"))
        want = {"provider": note["provider"], "note_name": note["name"], "name": note["name"],
                "arguments_text": (note["args"] or "").rstrip(), "module": os.path.basename(path),
                "note": {"pc": pc, "base": note_base, "semaphore": semaphore},
                "address": moved(pc, base, note_base, bits64),
                "semaphore": moved(semaphore, base, note_base, bits64) or None,
                "function": functions.at(moved(pc, base, note_base, bits64))}
        for key, value in want.items():
            check(probe[key] == value, f"{path}: site {i + 1} {key}: pyprobe {probe[key]!r}, readelf {value!r}")
        check(probe["arguments"] is not None or not want["arguments_text"],
              f"{path}: site {i + 1}: pyprobe cannot parse {want['arguments_text']!r}")
    table = run([pyprobe, "-l", path]).stdout.splitlines()
    check(len(table) == len(notes) + 1, f"{path}: {len(table) - 1} table rows for {len(notes)} notes")
    return len(notes)


def compare_with_bpftrace(pyprobe, bpftrace, path):
    # Quoted: bpftrace's parser stops at "++" in libstdc++.so.6.
    listed = run([bpftrace, "-l", f'usdt:"{path}":*']).stdout.splitlines()
    prefix = f"usdt:{path}:"
    theirs = {line[len(prefix):] for line in listed if line.startswith(prefix)}
    check(len(theirs) == len(listed), f"{path}: unexpected bpftrace -l lines: {listed}")
    probes = json.loads(run([pyprobe, "-l", "--json", path]).stdout)["probes"]
    ours = {f"{p['provider']}:{p['note_name']}" for p in probes}
    check(ours == theirs, f"{path}: only pyprobe: {sorted(ours - theirs)}; only bpftrace: {sorted(theirs - ours)}")
    return len(ours)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--readelf", default="readelf")
    parser.add_argument("--file", action="append", default=[], help="one more file to compare")
    parser.add_argument("--bpftrace", action="store_true", help="compare with bpftrace -l, not readelf")
    opts = parser.parse_args()

    bpftrace = bpftrace_usable() if opts.bpftrace else None
    total = 0
    for path in well_known_files(opts.file):
        try:
            if bpftrace:
                count = compare_with_bpftrace(opts.pyprobe, bpftrace, path)
                print(f"ok: {path}: the same {count} probes as bpftrace -l")
            else:
                count = compare_with_readelf(opts.pyprobe, opts.readelf, path)
                print(f"ok: {path}: {count} sites as readelf -n shows them")
        except subprocess.SubprocessError as e:
            fail(f"{path}: {e}")
        total += count
    check(total > 0, "no file with stapsdt notes to compare")
    print(f"ok: {total} in all")


if __name__ == "__main__":
    main()
