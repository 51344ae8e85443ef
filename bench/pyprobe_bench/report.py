"""The benchmark's report: markdown on stdout as the parts produce it, and
the same text in a results file (bench/RESULTS.md) at the end."""
import re

from .shell import read_text, write_text

# A part's section starts with its heading, "## N. Title"; a full run's
# report ends with a line of its own ("This run took ...").
HEADING = re.compile(r"^## (\d+)\. ")
TRAILER = "This run took "


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

    def update(self, path):
        """Puts this report's part sections into the results file at path in
        place of the sections of the same parts, or after everything when
        it has none, each followed by this run's header lines (command,
        machine, date, load); the file's other sections stay as they are."""
        header, sections = sections_of(self.lines)
        lines = (read_text(path) or "").rstrip("\n").split("\n")
        for number, section in sections.items():
            section = section[:1] + [""] + [f"{line} (this part alone)" if line.startswith("- command")
                                            else line for line in header if line] + section[1:]
            start = next((i for i, line in enumerate(lines) if HEADING.match(line)
                          and HEADING.match(line).group(1) == number), None)
            if start is None:
                lines += [""] + section
                continue
            end = next((i for i in range(start + 1, len(lines))
                        if HEADING.match(lines[i]) or lines[i].startswith(TRAILER)), len(lines))
            lines[start:end] = section
        write_text(path, "\n".join(lines).rstrip("\n") + "\n")


def sections_of(lines):
    """(the lines before the first part, {part number: its lines})."""
    header, sections, current = [], {}, None
    for line in lines:
        heading = HEADING.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif line.startswith(TRAILER):
            current = None
            continue
        (header if current is None else current).append(line)
    return header, sections
