"""Ordinary calls for the gh-98894 check: callee() runs CALLS times."""
CALLS = 100


def callee():
    return 1


def caller():
    total = 0
    for _ in range(CALLS):
        total += callee()
    return total


if __name__ == "__main__":
    assert caller() == CALLS
