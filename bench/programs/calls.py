# Call-heavy: doubly recursive Fibonacci, one call per node of the tree.
import sys


def fib(k):
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)


print(fib(int(sys.argv[1]) if len(sys.argv) > 1 else 22))
