"""An import that succeeds, one that fails, and an open() of the file named
by argv[1] (for the import__find__load__* and audit probes)."""
import sys


def main(path):
    import colorsys  # noqa: F401  (not imported at start-up)
    try:
        import pyprobe_no_such_module  # noqa: F401
    except ImportError:
        pass
    with open(path, "w") as f:
        f.write("audited\n")


if __name__ == "__main__":
    main(sys.argv[1])
