#!/usr/bin/env bash
# fuzz/make_seeds.sh [PYPROBE-PROVIDER]: (re)writes fuzz_elf_notes's seed
# corpus, fuzz/corpus. PYPROBE-PROVIDER is a built tools/pyprobe-provider
# (default: build/tests-release's). fuzz_provider's seeds, fuzz/provider-corpus,
# are written by hand.
#
# Small files, so that the fuzzer spends its time on the structure: two
# linker-made ELF files with stapsdt notes, semaphores, .stapsdt.base,
# symbols and a .note.pyprobe (a static program and a shared library, gcc),
# and the hand-made ones of the lister's unit tests (32-bit, big-endian,
# broken notes, a cut symbol table). Needs gcc, sys/sdt.h, python3.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
provider_tool=${1:-$root/build/tests-release/tools/pyprobe-provider/pyprobe-provider}
[ -x "$provider_tool" ] || { echo "make_seeds.sh: no pyprobe-provider at $provider_tool (build first)" >&2; exit 1; }
out="$here/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/seed.d" <<'D'
provider seed { probe tick(int, long, const char *); probe plain(); };
D
cat >"$tmp/seed.c" <<'C'
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
__extension__ unsigned short seed_tick_semaphore __attribute__((unused, section(".probes")));
__extension__ unsigned short seed_plain_semaphore __attribute__((unused, section(".probes")));
void fire(int x, long y, const char *s)
{
    STAP_PROBE3(seed, tick, x, y, s);
    DTRACE_PROBE(seed, plain);
}
void _start(void) { fire(1, 2, "x"); for (;;); }
C
"$provider_tool" notes "$tmp/seed.d" "$tmp/signatures.c"
mkdir -p "$out"
rm -f "$out"/*
flags=(-O1 -nostdlib -I"$root/include" -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
gcc "${flags[@]}" -static -Wl,-N -o "$out/static.elf" "$tmp/seed.c" "$tmp/signatures.c"
gcc "${flags[@]}" -shared -fPIC -Wl,-z,noseparate-code -Wl,-z,max-page-size=0x40 \
    -o "$out/shared.so" "$tmp/seed.c" "$tmp/signatures.c"
PYTHONPATH="$root/tests/lib" python3 "$root/tests/lister/make_inputs.py" "$out"
PYTHONPATH="$root/tests/lib" python3 - "$out" <<'PY'
import os, sys
import elfgen
out = sys.argv[1]
for bits in (32, 64):
    for msb in (False, True):
        image = elfgen.Image(bits=bits, msb=msb)
        image.probe("python", "line", "8@%rdi -4@%esi 8f@%xmm0 -8@-16(%rbp) 4@$5", 0x1010, elfgen.PROBES)
        image.probe("python", "gc__done", "-8@[sp, 16]", 0x1020, 0, base=elfgen.BASE - 0x100)
        image.function("hook", 0x1000, 0x40)
        image.signature("python", "line", ["const char *", "int"])
        with open(os.path.join(out, f"hand{bits}{'msb' if msb else 'lsb'}.elf"), "wb") as f:
            f.write(image.build())
PY
ls -l "$out"
