"""What tests/fire_all.c fires, written out independently of it, and how
the fire_all tests take their options and decode a tracer's event lines.

Each entry: probe name, hit count, argument values as a tracer reports them
(strings decoded, integers sign-extended to the note's size).
"""
import argparse

EVENTS = [
    ("function__entry", 1, ("entry.py", "entry_fn", 101)),
    ("function__return", 2, ("return.py", "return_fn", 102)),
    ("instance__new__start", 3, ("NewStart", "new.py")),
    ("instance__new__done", 4, ("NewDone", "new.py")),
    ("instance__delete__start", 5, ("DeleteStart", "delete.py")),
    ("instance__delete__done", 6, ("DeleteDone", "delete.py")),
    ("line", 7, ("line.py", "line_fn", -107)),
    ("gc__start", 8, (2,)),
    ("gc__done", 9, (-5000000009,)),
    ("import__find__load__start", 10, ("mod_start",)),
    ("import__find__load__start", 1, ("",)),  # fired with NULL
    ("import__find__load__done", 11, ("mod_done", 1)),
    ("audit", 12, ("open", 0x1234ABCD)),
]

# Argument kinds per probe, in python.d order: s = string, i = integer.
SIGNATURES = {
    "function__entry": "ssi", "function__return": "ssi",
    "instance__new__start": "ss", "instance__new__done": "ss",
    "instance__delete__start": "ss", "instance__delete__done": "ss",
    "line": "ssi", "gc__start": "i", "gc__done": "i",
    "import__find__load__start": "s", "import__find__load__done": "si",
    "audit": "si",
}
PROBES = list(SIGNATURES)


def fire_all_options(description):
    """--program (fire_all), --module (the file holding the probes) and
    --provider, as every fire_all test takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--program", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--provider", default="python")
    return parser.parse_args()


def decode_event(probe, fields):
    """(probe, typed arguments) from the text fields a tracer printed, or
    None when they do not fit the probe's signature."""
    kinds = SIGNATURES.get(probe)
    if kinds is None or len(fields) != len(kinds):
        return None
    try:
        return probe, tuple(int(f) if k == "i" else f for f, k in zip(fields, kinds))
    except ValueError:
        return None


def expected_counts():
    """{(probe, args): hits} for the whole run of fire_all."""
    return {(probe, args): hits for probe, hits, args in EVENTS}


def hits_per_probe():
    counts = {}
    for probe, hits, _ in EVENTS:
        counts[probe] = counts.get(probe, 0) + hits
    return counts
