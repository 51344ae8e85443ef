"""The benchmark's report: markdown on stdout as the parts produce it, and
the same text in a results file (bench/RESULTS.md) at the end."""
from .shell import write_text


def table(headers, rows, align=None):
    """A markdown table; numbers right-aligned."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values):
        return "| " + " | ".join(v.ljust(w) if a == "l" else v.rjust(w)
                                 for v, w, a in zip(values, widths, align)) + " |"
    sep = "| " + " | ".join(("-" * (w - 1) + ":") if a == "r" else "-" * w for w, a in zip(widths, align)) + " |"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def ratio(value, base):
    """value / base to three decimals, "-" without a base."""
    return f"{value / base:.3f}" if base else "-"


class Report:
    """What the parts write. Printed as it comes (whoever watches a long run
    sees each table when it is done) and kept for the results file; checks
    that fail are recorded, and make bench/run exit 1."""

    def __init__(self):
        self.lines = []
        self.failures = []

    def emit(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, headers, rows, align=None):
        """A table and the blank line after it."""
        self.emit(table(headers, rows, align))
        self.emit()

    def fail(self, message):
        self.failures.append(message)
        self.emit(f"FAILED: {message}")

    def write(self, path, title, intro):
        """The report so far as a markdown file, after a title and an intro."""
        write_text(path, f"# {title}\n\n{intro}\n\n" + "\n".join(self.lines).rstrip("\n") + "\n")
