"""PYPROBE_AUTO=1: the installed start-up hook (pyprobe-auto.pth in
site-packages, run by site.py at every start) enables the python provider
in whatever program this interpreter runs, with no change to its code."""
import sys

import pyprobe

try:
    pyprobe.enable()
except RuntimeError as e:  # this interpreter cannot: say so, run the program anyway
    print(f"pyprobe: PYPROBE_AUTO=1: {e}", file=sys.stderr)
