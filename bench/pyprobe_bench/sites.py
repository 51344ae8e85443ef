"""Part 4, the probe sites of both site kinds: tests/sites/test_site_code.py's
checks (ctest runs them on the build being tested, whose site kind is one of
the two) on the default tree and the -DPYPROBE_NOP5=OFF one."""
import importlib.util
import os
import shutil

from . import ROOT
from .shell import Failure

TEST_SCRIPT = os.path.join(ROOT, "tests", "sites", "test_site_code.py")


def load_checks():
    """tests/sites/test_site_code.py as a module (its name is not an import path)."""
    spec = importlib.util.spec_from_file_location("test_site_code", TEST_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(builds, opts, scratch, report):
    report.emit("## 4. Probe sites and the red zone")
    report.emit()
    checks = load_checks()
    tools = checks.Tools(shutil.which("readelf"), shutil.which("objdump"))
    rows, failed = [], []
    for kind, nop5 in (("nop5", True), ("nop1", False)):
        files = ((f"libpyprobe.so.1 ({kind})", builds.library(kind)),
                 (f"fire_loop_static ({kind}, libpyprobe.a)", os.path.join(builds.consumer(kind), "fire_loop_static")))
        for label, path in files:
            try:
                checked, failures = checks.check_file(path, nop5, "python", tools)
            except checks.ToolError as e:
                raise Failure(str(e)) from e
            failed += [f"{label}: {failure}" for failure in failures]
            rows.append([label, str(checked.sites), ", ".join(checked.site_bytes),
                         f"{checked.in_fire}/{checked.sites}", f"{checked.fire_clean}/{checked.fire}",
                         checked.no_red_zone])
    report.table(["file", "sites", "bytes at the sites", "in a fire function",
                  "fire functions, no access below %rsp", "-mno-red-zone"], rows, ["l", "r", "l", "r", "r", "l"])
    for failure in failed:
        report.fail(failure)
    if failed:
        report.emit()
