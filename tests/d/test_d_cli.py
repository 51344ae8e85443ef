#!/usr/bin/env python3
"""pyprobe's D options as the command takes them: usage errors (status 2,
one line and the usage), scripts that cannot be read or do not compile
(status 1, dtrace's words in one line), executable scripts started through
`#!/usr/bin/env -S pyprobe -qs` with their arguments, -o, and -l's
listing of every process that a -n description matches.

    test_d_cli.py --pyprobe PYPROBE [--pint PINT --fib FIB.PINT --provider P]
"""
import argparse
import os
import stat
import subprocess
import tempfile
import time

from common import check, run

PYPROBE = None


def pyprobe(*args, **kwargs):
    return run([PYPROBE] + list(args), check_exit=False, timeout=60, **kwargs)


def one_line(proc):
    return len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("pyprobe: ")


def test_usage():
    for args, words in ((["-s"], "option -s needs an argument"), (["-q"], "nothing to do"),
                        (["-n", "BEGIN {}", "-P", "python"], "-P, -m and -f filter"),
                        (["-n", "BEGIN {}", "-v"], "go with -l"), (["-l", "-s", "x.d"], "not with -s"),
                        (["-l", "-c", "true", "x.so"], "not with -l"), (["-n", "BEGIN {}", "-c", "a", "-c", "b"],
                                                                        "only one -c"),
                        (["-n", "BEGIN {}", "-x", "=1"], "an option name is needed"),
                        (["-n", "BEGIN {}", "-p", "x"], "not a process id")):
        proc = pyprobe(*args)
        check(proc.returncode == 2 and words in proc.stderr and "Usage:" in proc.stderr, f"{args}: {proc}")
    proc = pyprobe("--help")
    for option in ("-s SCRIPT", "-n PROGRAM", "-c CMD", "-q", "-F", "-Z", "-w", "-x OPT", "-o FILE", "-S", "$target"):
        check(option in proc.stdout, f"--help does not mention {option}")


def test_unreadable_and_broken_scripts(tmp):
    proc = pyprobe("-s", os.path.join(tmp, "nosuch.d"))
    check(proc.returncode == 1 and one_line(proc) and "failed to open" in proc.stderr, f"missing script: {proc}")
    # Whatever the front end says, it says it in dtrace's words, in one line.
    proc = pyprobe("-n", "BEGIN {")
    check(proc.returncode == 1 and one_line(proc) and proc.stderr.startswith("pyprobe: invalid probe specifier BEGIN {: "),
          f"-n: {proc}")
    script = os.path.join(tmp, "broken.d")
    with open(script, "w") as f:
        f.write("BEGIN {\n")
    proc = pyprobe("-qs", script)
    check(proc.returncode == 1 and one_line(proc) and
          proc.stderr.startswith(f"pyprobe: failed to compile script {script}: "), f"-s: {proc}")


def test_executable_script(tmp):
    """#!/usr/bin/env -S pyprobe -qs: env splits the line, the kernel adds
    the script's path and its arguments."""
    script = os.path.join(tmp, "run.d")
    with open(script, "w") as f:
        f.write(f"#!/usr/bin/env -S {PYPROBE} -qs\nBEGIN {{\n")
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
    proc = run([script, "one", "two"], check_exit=False, timeout=60)
    check(proc.returncode == 1 and one_line(proc) and
          proc.stderr.startswith(f"pyprobe: failed to compile script {script}: "), f"{script}: {proc}")


def test_output_file(tmp):
    """-o appends (dtrace's fopen "a"): what was there stays."""
    out = os.path.join(tmp, "out")
    with open(out, "w") as f:
        f.write("kept\n")
    pyprobe("-o", out, "-n", "BEGIN {")
    check(open(out).read().startswith("kept\n"), "-o truncated its file")
    proc = pyprobe("-o", os.path.join(tmp, "no", "such", "dir"), "-n", "BEGIN { }")
    check(proc.returncode == 1 and one_line(proc) and "failed to open output file" in proc.stderr, f"-o: {proc}")


def test_list_every_process(args):
    """dtrace -l -n 'python*:::function-entry': every process with the provider."""
    if not args.pint:
        return
    env = dict(os.environ, PINT_WAIT_FOR_TRACER="12", PINT_WAIT_SECONDS="60", PYPROBE_READY_FILE="/nonexistent")
    child = subprocess.Popen([args.pint, args.fib], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        time.sleep(0.3)  # its libraries mapped
        proc = pyprobe("-l", "-n", f"{args.provider}*:::function-entry")
        listed = pyprobe("-l", "-p", str(child.pid), "-n", "function-entry")
    finally:
        child.kill()
        child.wait()
    rows = [l for l in proc.stdout.splitlines()[1:] if l.split()[1] == f"{args.provider}{child.pid}"]
    check(proc.returncode == 0 and rows, f"-l -n: pint's probe not among\n{proc.stdout}{proc.stderr}")
    # The same row as -p gives, but for the id column.
    check([r.split()[1:] for r in rows] == [r.split()[1:] for r in listed.stdout.splitlines()[1:]],
          f"-l -n rows differ from -l -p's:\n{rows}\n{listed.stdout}")


def main():
    global PYPROBE
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyprobe", required=True)
    parser.add_argument("--pint")
    parser.add_argument("--fib")
    parser.add_argument("--provider", default="python")
    args = parser.parse_args()
    PYPROBE = args.pyprobe
    with tempfile.TemporaryDirectory(prefix="pyprobe-d-cli-") as tmp:
        test_usage()
        test_unreadable_and_broken_scripts(tmp)
        test_executable_script(tmp)
        test_output_file(tmp)
        test_list_every_process(args)
    print("ok")


if __name__ == "__main__":
    main()
