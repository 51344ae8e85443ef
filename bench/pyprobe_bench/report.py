"""The benchmark's report: markdown on stdout as the parts produce it, and
the same text in a results file (bench/RESULTS.md) at the end, whole, or
(--update) in place of the same parts of the file, keeping its others."""
import re

from .shell import read_text, write_text

FOOTER = "This run took "  # the line a run ends with, after its last part


def split_parts(text):
    """(head, {part number: lines}, footer lines) of a report: the lines
    before its first "## N." heading, each part from its heading on, and
    the closing "This run took" line."""
    head, parts, footer, current = [], {}, [], None
    for line in text.rstrip("\n").split("\n"):
        m = re.match(r"## (\d+)\. ", line)
        if m:
            current = parts.setdefault(int(m.group(1)), [])
        if line.startswith(FOOTER):
            footer.append(line)
        elif current is None:
            head.append(line)
        else:
            current.append(line)
    return head, parts, footer


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

    def update(self, path, title, intro):
        """This run's parts into the results file at path, each in place of
        the same part there (or in its order among them), the file's other
        parts kept as they are. Each part this run made opens with this
        run's own lines (command, machine, date, load) and closes with how
        long it took, since the file's head describes another run."""
        old = read_text(path, "")
        if not old:
            return self.write(path, title, intro)
        head, parts, footer = split_parts(old)
        run_head, run_parts, run_footer = split_parts("\n".join(self.lines))
        own = [line for line in run_head if line.startswith("- ")]
        for number, lines in run_parts.items():
            heading, body = lines[0], "\n".join(lines[1:]).strip("\n").split("\n")
            parts[number] = [heading, "", "Updated on its own, not by the run above:", ""] + own + [""] + \
                body + [""] + [line.replace(FOOTER, "That run took ", 1) for line in run_footer] + [""]
        body = [line for number in sorted(parts) for line in parts[number]]
        write_text(path, "\n".join(head + body + footer).rstrip("\n") + "\n")
