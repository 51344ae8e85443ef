# Allocation-heavy: many short-lived instances (young collections), some
# kept in lists and dicts that grow (older generations).
import sys


class Node:
    def __init__(self, value, next):
        self.value = value
        self.next = next


def run(count):
    keep, table = [], {}
    for i in range(count):
        t = Node(i, None)
        u = Node(t, [t, i])
        if i % 10 == 0:
            keep.append(Node(i, u))
            table[i] = (u, str(i))
    return len(keep), len(table)


print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 60000))
