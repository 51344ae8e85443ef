"""pyprobe_backend: the PEP 517 build backend of the pyprobe-usdt
distribution (pyproject.toml), in the tree so that pip needs nothing from
PyPI: `python3 -m pip install .` works offline, with or without
--no-build-isolation, on any CPython 3.11+ that has pip (none needs
setuptools or wheel).

A wheel is what python/install builds for the interpreter that runs pip
(cmake, the C compiler, systemtap-sdt-dev, libelf-dev and the Python
headers; libpyprobe.a linked into the extension), zipped with its metadata.
The version is CMakeLists.txt's project version, the one the C library and
pyprobe.__version__ report.

Config settings: `pip install --config-settings build-dir=DIR .` builds in
DIR and keeps it for the next build (default: a temporary directory).
"""
import base64
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Zip and tar entries get this time (or SOURCE_DATE_EPOCH's): the same
# source gives the same archive.
DEFAULT_EPOCH = 315532800  # 1980-01-01, the earliest a zip file can say
# The [project] keys this backend writes into the metadata; any other is
# refused rather than silently dropped.
PROJECT_KEYS = {"name", "dynamic", "description", "readme", "requires-python", "license", "classifiers",
                "keywords"}


class BuildError(Exception):
    pass


def _fail_clearly(hook):
    """A BuildError reaches pip as one line, not a traceback."""
    def wrapped(*args, **kwargs):
        try:
            return hook(*args, **kwargs)
        except BuildError as e:
            print(f"pyprobe_backend: {e}", file=sys.stderr)
            sys.exit(1)
    wrapped.__name__, wrapped.__doc__ = hook.__name__, hook.__doc__
    return wrapped


def _project():
    """pyproject.toml's [project] table, with the version filled in."""
    try:
        import tomllib
    except ImportError:  # Python 3.10 and older
        raise BuildError(f"pyprobe-usdt needs Python 3.11 or later; this is {sys.version.split()[0]}") from None
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = dict(tomllib.load(f)["project"])
    unknown = set(project) - PROJECT_KEYS
    if unknown:
        raise BuildError(f"pyproject.toml: [project] keys this backend does not write: {sorted(unknown)}")
    project["version"] = project_version()
    return project


def project_version():
    """The version in CMakeLists.txt's project(), pyprobe's one source of truth."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        found = re.search(r"^project\(pyprobe VERSION ([0-9.]+)", f.read(), re.M)
    if not found:
        raise BuildError("CMakeLists.txt: no project(pyprobe VERSION ...)")
    return found.group(1)


def _normalized(name):
    """A distribution name as file names spell it (PEP 427, 625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(project):
    """Core metadata 2.1 (PKG-INFO, METADATA)."""
    lines = [("Metadata-Version", "2.1"), ("Name", project["name"]), ("Version", project["version"]),
             ("Summary", project.get("description", ""))]
    if "requires-python" in project:
        lines.append(("Requires-Python", project["requires-python"]))
    if "license" in project:
        lines.append(("License", project["license"]["text"]))
    if "keywords" in project:
        lines.append(("Keywords", ",".join(project["keywords"])))
    lines += [("Classifier", c) for c in project.get("classifiers", [])]
    text = "".join(f"{key}: {value}\n" for key, value in lines)
    if "readme" in project:
        with open(os.path.join(ROOT, project["readme"]), encoding="utf-8") as f:
            text += "Description-Content-Type: text/markdown\n\n" + f.read()
    return text


def _epoch():
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)), DEFAULT_EPOCH)


def _tag():
    """The wheel's tag for the interpreter that runs this: the extension is
    built for exactly it."""
    if sys.implementation.name != "cpython":
        raise BuildError(f"pyprobe-usdt builds for CPython only, not {sys.implementation.name}")
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return f"cp{version}-cp{version}{sys.abiflags}-{platform}"


def _build(build_dir, staging):
    """python/install into `staging`: the package, its extension and the
    PYPROBE_AUTO start-up hook, as `cmake --install` lays them out."""
    command = [os.path.join(ROOT, "python", "install"), sys.executable, "--target", staging,
               "--build-dir", build_dir]
    print("pyprobe_backend:", " ".join(command), file=sys.stderr, flush=True)
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        raise BuildError("python/install failed (its messages are above)")


def _staged_files(staging):
    for directory, subdirs, files in os.walk(staging):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(directory, name)
            yield os.path.relpath(path, staging), path


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def _write_wheel(path, staging, project, tag):
    dist_info = f"{_normalized(project['name'])}-{project['version']}.dist-info"
    date = time.gmtime(_epoch())[:6]
    record = []

    def add(archive, name, data, mode=0o644):
        info = zipfile.ZipInfo(name, date_time=date)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
        record.append(_record_line(name, data))

    with zipfile.ZipFile(path, "w") as archive:
        for name, source in _staged_files(staging):
            with open(source, "rb") as f:
                add(archive, name, f.read(), 0o755 if name.endswith(".so") else 0o644)
        add(archive, f"{dist_info}/METADATA", _metadata(project).encode())
        add(archive, f"{dist_info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: pyprobe_backend\n"
                                            f"Root-Is-Purelib: false\nTag: {tag}\n").encode())
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            add(archive, f"{dist_info}/LICENSE", f.read())
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(record + [[f"{dist_info}/RECORD", "", ""]])
        add(archive, f"{dist_info}/RECORD", text.getvalue().encode())
    return dist_info


# ---- PEP 517 hooks ----

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


@_fail_clearly
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project, tag = _project(), _tag()
    name = f"{_normalized(project['name'])}-{project['version']}-{tag}.whl"
    build_dir = (config_settings or {}).get("build-dir")
    with tempfile.TemporaryDirectory(prefix="pyprobe-wheel-") as tmp:
        staging = os.path.join(tmp, "root")
        _build(os.path.abspath(build_dir) if build_dir else os.path.join(tmp, "build"), staging)
        _write_wheel(os.path.join(wheel_directory, name), staging, project, tag)
    return name


def source_files():
    """The files of the source tree, relative to it: git's list when this
    is a checkout (tracked and new files, not ignored ones), else every file
    but build trees and caches. (The sdist's, and the tests' copies of the
    tree.)"""
    try:
        listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, check=True).stdout.decode().split("\0")
        return sorted(name for name in listed if name and os.path.isfile(os.path.join(ROOT, name)))
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for directory, subdirs, names in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in (".git", "__pycache__")
                      and not (directory == ROOT and d.startswith("build"))]  # .gitignore's /build*/
        files += [os.path.relpath(os.path.join(directory, n), ROOT) for n in names]
    return sorted(files)


@_fail_clearly
def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{_normalized(project['name'])}-{project['version']}"
    epoch = _epoch()

    def normalize(info):
        info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
        return info

    with tarfile.open(os.path.join(sdist_directory, f"{base}.tar.gz"), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in source_files():
            tar.add(os.path.join(ROOT, name), f"{base}/{name}", recursive=False, filter=normalize)
        data = _metadata(project).encode()
        info = normalize(tarfile.TarInfo(f"{base}/PKG-INFO"))
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return f"{base}.tar.gz"

