#!/usr/bin/env python3
"""The event reader (src/d/d_events.h) on what bpftrace 0.17 really
prints with -f json, produced here: every kind of event the D consumer
reads, with the strings that bpftrace escapes its own way (control bytes,
bytes of 0x80 and more, quotes, commas inside map keys).

    test_d_events.py --dump D_EVENTS_DUMP
"""
import argparse
import subprocess

from common import bpftrace_usable, check, fail

PROGRAM = r'''
BEGIN {
  printf("\x1e3 -4\n");
  printf("tab\there \"q\" \\ \x01 %s|\n", "\xc3\xa9");
  printf("no newline");
  @c["a,b", 1] = count(); @c["a,b", 1] = count(); @c["c", -2] = count();
  @s = sum(40); @s = sum(2);
  @h = hist(5); @h = hist(100); @h = hist(0);
  @hk["x"] = hist(3);
  @l = lhist(5, 0, 10, 2); @l = lhist(50, 0, 10, 2); @l = lhist(-1, 0, 10, 2);
  @st = stats(3); @st = stats(5);
  print(@c); print(@s); print(@h); print(@hk); print(@l); print(@st);
  clear(@c); clear(@s); clear(@h); clear(@hk); clear(@l); clear(@st);
  exit();
}
'''


def hexed(text):
    return text.encode("utf-8").hex() if isinstance(text, str) else text.hex()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", required=True)
    args = parser.parse_args()
    bpftrace = bpftrace_usable()
    try:
        traced = subprocess.run([bpftrace, "-f", "json", "-e", PROGRAM], capture_output=True, timeout=120)
        dumped = subprocess.run([args.dump], input=traced.stdout, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        fail(f"timed out: {e.cmd}")
    check(traced.returncode == 0, f"bpftrace exit {traced.returncode}: {traced.stderr.decode(errors='replace')}")
    check(dumped.returncode == 0, f"d_events_dump exit {dumped.returncode}")
    lines = dumped.stdout.decode().splitlines()
    check(not [l for l in lines if l.startswith("refused")],
          "lines bpftrace printed were refused:\n" + "\n".join(l for l in lines if l.startswith("refused")))

    def after(head):
        """The lines of the map event `head` ("map @c"): its entries."""
        check(head in lines, f"no {head!r} in:\n" + "\n".join(lines))
        i = lines.index(head) + 1
        entries = []
        while i < len(lines) and lines[i].startswith("entry "):
            entries.append(lines[i])
            i += 1
        return sorted(entries)

    expect = [
        ("attached", lines[0] == "attached 1"),
        ("a control record", "printf " + hexed("\x1e" "3 -4\n") in lines),
        ("escapes and bytes of 0x80 and more", "printf " + hexed('tab\there "q" \\ \x01 é|\n') in lines),
        ("text without a newline", "printf " + hexed("no newline") in lines),
        ("a key with a comma", after("map @c") == sorted([f"entry {hexed('a,b,1')} int 2",
                                                         f"entry {hexed('c,-2')} int 1"])),
        ("a map without key", after("map @s") == ["entry - int 42"]),
        ("hist buckets", after("map @h") == ["entry - hist 0:0:1,1:1:0,2:3:0,4:7:1,8:15:0,16:31:0,32:63:0,64:127:1"]),
        ("a keyed hist", after("map @hk") == [f"entry {hexed('x')} hist 2:3:1"]),
        ("lhist's open ends",
         after("map @l") == ["entry - hist %d:-1:1,0:1:0,2:3:0,4:5:1,6:7:0,8:9:0,10:%d:1" % (-2**63, 2**63 - 1)]),
        ("stats", after("map @st") == ["entry - stats 2 4 8"]),
    ]
    for what, ok in expect:
        check(ok, f"{what}: not as expected in:\n" + "\n".join(lines))
    print(f"ok: {len(expect)} kinds of events read from bpftrace's own output ({len(lines)} lines)")


if __name__ == "__main__":
    main()
