"""A workload for the stock tests: calls that return, raise, unwind through
frames, generators that are closed and thrown into, coroutines and threads.
It prints, as JSON, how often each plain function is called, which it knows
by construction; generators and coroutines enter and leave more than once
per call (each resume), so for them only entries == returns is checked."""
import asyncio
import json
import threading

ROUNDS = 300   # catcher(0..299): leaf raises for every third
DEPTH = 5      # deep_raise unwinds DEPTH + 1 frames
RAISES = 10
TASKS = 50
THREADS = 4
PER_THREAD = 100


def leaf(n):
    if n % 3 == 0:
        raise ValueError(n)
    return n


def catcher(n):
    try:
        return leaf(n)
    except ValueError:
        return -1


def deep_raise(depth):
    if depth == 0:
        raise KeyError("bottom")
    deep_raise(depth - 1)


def gen(n):
    for i in range(n):
        try:
            yield i
        except ValueError:
            yield -1


def generators():
    g = gen(5)
    next(g)
    next(g)
    g.close()              # GeneratorExit thrown in at a yield
    g = gen(5)
    next(g)
    g.throw(ValueError)    # caught inside, yields again
    list(g)
    return sum(gen(10))


async def task(n):
    await asyncio.sleep(0)
    return n


async def gather():
    return await asyncio.gather(*(task(i) for i in range(TASKS)))


def worker():
    for i in range(PER_THREAD):
        catcher(i)


def main():
    for i in range(ROUNDS):
        catcher(i)
    for _ in range(RAISES):
        try:
            deep_raise(DEPTH)
        except KeyError:
            pass
    generators()
    asyncio.run(gather())
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({
        "catcher": ROUNDS + THREADS * PER_THREAD,
        "leaf": ROUNDS + THREADS * PER_THREAD,
        "deep_raise": RAISES * (DEPTH + 1),
        "generators": 1,
        "worker": THREADS,
    }))


if __name__ == "__main__":
    main()
