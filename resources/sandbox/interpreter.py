"""Which Python the sandbox runs, and what of the host's file system it needs to see for that.

The sandboxed program runs under an unprivileged uid, so the interpreter and its standard library must be readable
by anyone: an interpreter under ``/root`` (pyenv's default) is not, and the default then falls back to the
system's ``/usr/bin/python3``. Only the interpreter's installation prefix is mounted (read-only) besides ``/usr``;
the program's site-packages are never on its path (``-I -S``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from operators.errors import DataflowError

FALLBACK = "/usr/bin/python3"


@dataclass(frozen=True)
class Interpreter:
    executable: str
    """The resolved path of the interpreter binary."""
    prefix: str
    """``sys.base_prefix``: the installation the standard library is read from."""
    version: str


def world_readable(path: str | Path) -> bool:
    """True when any user can reach ``path`` (every folder above it searchable) and read (and run) it."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if not mode & stat.S_IROTH or (path.is_file() and not mode & stat.S_IXOTH):
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def default_python(*, for_other_users: bool) -> str:
    """The interpreter running this process if it qualifies, else ``/usr/bin/python3``."""
    own = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    if not for_other_users or world_readable(own):
        return own
    if world_readable(FALLBACK):
        return os.path.realpath(FALLBACK)
    raise DataflowError(
        f"no Python interpreter the sandbox's unprivileged user can read: {own} is not, nor is {FALLBACK}",
        hint="install python3 (apt-get install -y python3) or set the sandbox resource's `python` to a "
        "world-readable interpreter",
    )


@cache
def inspect_interpreter(executable: str) -> Interpreter:
    """Ask ``executable`` for its prefix and version (once per path)."""
    try:
        answer = subprocess.run(
            [executable, "-I", "-S", "-c", "import sys; print(sys.base_prefix); print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            timeout=30,
            env={},
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise DataflowError(
            f"the sandbox's python {executable!r} does not run: {error}",
            hint="set the sandbox resource's `python` to a working CPython 3.11+ interpreter",
        ) from None
    prefix, version = answer.stdout.split()
    if tuple(int(part) for part in version.split(".")[:2]) < (3, 11):
        raise DataflowError(f"the sandbox's python {executable!r} is {version}", hint="use CPython 3.11 or newer")
    return Interpreter(executable=os.path.realpath(executable), prefix=prefix, version=version)
