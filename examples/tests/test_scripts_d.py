#!/usr/bin/env python3
"""The D scripts of examples/scripts against their bpftrace twins.

    test_scripts_d.py --scripts DIR --provider-file probes/python.d

No DTrace runs here, so this checks what can be checked without one, for
every NAME.bt and NAME.d (each must have its twin):

- both start with their interpreter line and a header comment that names
  the file and says how to run it; a .bt that reads strings (str()) sets
  the BPFTRACE_STRLEN it needs in its first line (`#!/usr/bin/env -S
  BPFTRACE_STRLEN=N bpftrace`) and says why in its header, one that reads
  none sets none and says so;
- every probe is one of probes/python.d, with D's `-` for `__`; the
  provider is the script's argument, never a name of its own: D's first
  macro argument (`$1*:::function-entry`, $1 python or lua), bpftrace's
  second positional parameter after its module, never a path
  (`usdt:$1:$2:function__entry`);
- both use the same probes, and each probe's arguments the same way: a
  string argument read as a string (copyinstr(argN) / str(argN), or in a
  .bt from an offset or byte by byte), a number as a number, never an
  argument the probe does not have.
"""
import argparse
import os
import re
import sys

from common import check, fail


def provider_signatures(path):
    """{probe: 'ssi'...} from the provider file: s = string, n = number."""
    with open(path) as f:
        text = f.read()
    probes = {}
    for name, args in re.findall(r"probe\s+(\w+)\s*\(([^)]*)\)\s*;", text):
        kinds = ""
        for arg in filter(None, (a.strip() for a in args.split(","))):
            kinds += "s" if re.fullmatch(r"(const\s+)?char\s*\*", arg) else "n"
        probes[name] = kinds
    check(len(probes) == 12, f"{path}: {len(probes)} probes, expected 12")
    return probes


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"(^|\s)//[^\n]*", r"\1", text)
    return re.sub(r"^#[^\n]*", "", text, flags=re.M)  # #! and #pragma lines


def clauses(text, where):
    """[(probe descriptions, predicate and body)] of a D or bpftrace
    program: every `probe, probe /predicate/ { ... }` at the top level."""
    text = strip_comments(text)
    result, pos = [], 0
    while True:
        brace = text.find("{", pos)
        if brace < 0:
            check(not text[pos:].strip(), f"{where}: text after the last clause: {text[pos:].strip()!r}")
            return result
        header = text[pos:brace]
        depth, end = 0, brace
        for end in range(brace, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        check(depth == 0, f"{where}: unbalanced braces")
        slash = re.search(r"\s/", header)  # a predicate, not a path's slash
        probes = header if not slash else header[:slash.start()]
        predicate = "" if not slash else header[slash.start():]
        names = [p for p in re.split(r"[\s,]+", probes) if p]
        check(names, f"{where}: a clause without a probe near {header.strip()!r}")
        result.append((names, predicate + text[brace:end + 1]))
        pos = end + 1


def argument_uses(code, string_reader):
    """{(index, 's' or 'n')}: arguments read as strings by string_reader
    (copyinstr or str: `str(arg0)`, or from an offset, `str(arg0 + $i)`) or
    byte by byte (`*(uint8 *)(arg0 + $i)`), and used in any other way (as
    numbers)."""
    as_string = rf"\b{string_reader}\(\s*arg(\d+)\s*[)+]|\*\(uint8 \*\)\(arg(\d+)\s*[)+]"
    uses = {(int(a or b), "s") for a, b in re.findall(as_string, code)}
    rest = re.sub(as_string, "", code)
    return uses | {(int(n), "n") for n in re.findall(r"\barg(\d+)\b", rest)}


def probe_uses(path, signatures):
    """{probe: set of argument uses} of a .bt or .d file, checked against
    the provider, and the file's text."""
    with open(path) as f:
        text = f.read()
    name = os.path.basename(path)
    bt = name.endswith(".bt")
    first = text.splitlines()[0]
    header = text[:text.find("\n\n", text.find("\n") + 1)] if "\n\n" in text else text
    check(f"{name}:" in header and "usage:" in header,
          f"{name}: no header comment naming it with a usage line")
    if bt:
        strlen = re.fullmatch(r"#!/usr/bin/env -S BPFTRACE_STRLEN=(\d+) bpftrace", first)
        reads_strings = re.search(r"\bstr\(", strip_comments(text))
        check(first == "#!/usr/bin/env bpftrace" or strlen, f"{name}: first line {first!r}")
        check(bool(strlen) == bool(reads_strings),
              f"{name}: " + ("reads strings but sets no BPFTRACE_STRLEN in its first line" if reads_strings
                             else "sets a BPFTRACE_STRLEN but reads no strings"))
        comment = header.partition("\n")[2]
        check(f"BPFTRACE_STRLEN={strlen.group(1)} " in comment if strlen else "Reads no strings" in comment,
              f"{name}: the header does not say which BPFTRACE_STRLEN it needs, and why")
    else:
        check(first.startswith("#!/usr/sbin/dtrace -Z"), f"{name}: first line {first!r}")
    check(os.access(path, os.X_OK), f"{name}: not executable")
    uses = {}
    for probes, code in clauses(text, name):
        for probe in probes:
            if bt:
                m = re.fullmatch(r"usdt:\$1:\$2:(\w+)", probe)
                if probe.startswith("usdt") and not m:
                    fail(f"{name}: {probe}: the module must be $1 and the provider $2")
                other = probe in ("BEGIN", "END") or probe.startswith(("tracepoint:", "interval:"))
            else:
                m = re.fullmatch(r"\$1\*:::([\w-]+)", probe)
                check(m or probe in ("dtrace:::BEGIN", "dtrace:::END", "BEGIN", "END"),
                      f"{name}: {probe}: expected $1*:::NAME or BEGIN/END")
                other = not m
            if other:
                check(not re.search(r"\barg\d+\b", code), f"{name}: {probe} reads probe arguments")
                continue
            probe_name = m.group(1) if bt else m.group(1).replace("-", "__")
            check(bt or "__" not in m.group(1), f"{name}: {probe}: D names use '-', not '__'")
            check(probe_name in signatures, f"{name}: {probe}: no such probe in python.d")
            kinds = signatures[probe_name]
            used = argument_uses(code, "str" if bt else "copyinstr")
            for index, kind in sorted(used):
                check(index < len(kinds),
                      f"{name}: {probe} has {len(kinds)} arguments, the script reads arg{index}")
                check(kind == kinds[index], f"{name}: {probe}: arg{index} is a "
                      f"{'string' if kinds[index] == 's' else 'number'}, the script uses it as a "
                      f"{'string' if kind == 's' else 'number'}")
            uses.setdefault(probe_name, set()).update(used)
    check(uses, f"{name}: no probe of the provider")
    return uses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripts", required=True)
    parser.add_argument("--provider-file", required=True, help="probes/python.d")
    opts = parser.parse_args()
    signatures = provider_signatures(opts.provider_file)
    files = os.listdir(opts.scripts)
    bts = sorted(f[:-3] for f in files if f.endswith(".bt"))
    ds = sorted(f[:-2] for f in files if f.endswith(".d"))
    check(bts == ds, f"without a twin: {sorted(set(bts) ^ set(ds))}")
    check(len(bts) >= 14, f"only {len(bts)} scripts")
    for name in bts:
        bt = probe_uses(os.path.join(opts.scripts, name + ".bt"), signatures)
        d = probe_uses(os.path.join(opts.scripts, name + ".d"), signatures)
        if bt != d:
            fail(f"{name}: the twins differ:\n" + "\n".join(
                f"  {p}: .bt {sorted(bt.get(p, ()))}, .d {sorted(d.get(p, ()))}"
                for p in sorted(set(bt) | set(d)) if bt.get(p) != d.get(p)))
        print(f"ok: {name}.bt / {name}.d: " + ", ".join(
            f"{p}({' '.join(f'arg{i}:{k}' for i, k in sorted(u))})" for p, u in sorted(bt.items())))


if __name__ == "__main__":
    main()
