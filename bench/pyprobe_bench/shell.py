"""Running commands for the benchmark: progress, logs and failures."""
import os
import shlex
import subprocess
import sys


class Failure(Exception):
    """Something the benchmark needs failed; the message says what."""


def say(message):
    """Progress, on stderr (stdout carries the report)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_logged(cmd, log, cwd=None, env=None):
    """Runs cmd with its output appended to log; a Failure with the log's
    end when it fails."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "a") as out:
        out.write(f"$ {shlex.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    if proc.returncode != 0:
        with open(log, errors="replace") as f:
            tail = "".join(f.readlines()[-20:])
        raise Failure(f"{shlex.join(cmd)}: exit {proc.returncode}, see {log}\n{tail}")


def output(cmd, **kwargs):
    """cmd's standard output; a Failure when it fails (or outlives a timeout given)."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{shlex.join(cmd)}: still running after {e.timeout} s")
    if proc.returncode != 0:
        raise Failure(f"{shlex.join(cmd)}: exit {proc.returncode}\n{proc.stderr.strip()}")
    return proc.stdout


def read_text(path, default=None):
    """The contents of a file, or default when it does not exist."""
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return f.read()


def write_text(path, text):
    """Writes a file whole: a reader (or an interrupted run) never sees half."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
