# Loop-heavy: a tight loop of simple statements, no calls.
import sys


def run(count):
    a, b, i = 0, 1, 0
    while i < count:
        a = a + i
        b = b * 3 % 1000
        a = a - b
        i = i + 1
    return a, b


print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 300000))
