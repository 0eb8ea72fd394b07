"""What the benchmarks that race peer libraries (``dedup.py``, ``text_rules.py``) share: the peers' venv, one
measured run per child process, CPU time, and the versions of what ran.

Standard library only (and ``machine``): a peer's worker imports this with the peers' interpreter.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import machine

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers" / "venv"
PEER_MODULES = ("datasketch", "datatrove", "orjson")
PEER_PACKAGES = ("datasketch", "datatrove[processing]", "orjson")  # orjson: datatrove's JsonlReader
PROJECT_PYTHON = Path(sys.executable)


def peer_python(*extra: str) -> Path:
    """The peers' interpreter, its venv created and filled on first use; ``extra`` packages (imported by the name
    they are installed by, e.g. ``spacy``) added to it."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(PEERS)], check=True)
    for modules, packages in ((PEER_MODULES, PEER_PACKAGES), *(((name,), (name,)) for name in extra)):
        probe = subprocess.run([str(python), "-c", f"import {', '.join(modules)}"], capture_output=True, check=False)
        if probe.returncode != 0:
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


def run_worker(script: Path, work: Path, tool: str, corpus: Path, python: Path) -> dict[str, Any]:
    """Run ``script --worker tool`` once in a fresh process of ``python`` on one thread (the peers are
    single-threaded; so is ours there) and return the result it wrote."""
    result = work / f"{tool}.result.json"
    command = [str(python), str(script), "--worker", tool, "--corpus", str(corpus), "--result", str(result)]
    one_thread = {**os.environ, "POLARS_MAX_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE.parent, env=one_thread)
    if done.returncode != 0:
        raise SystemExit(f"{tool} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(result.read_text())


def cpu_seconds(*, children: bool = False) -> float:
    """User + sys CPU seconds of this process (and of its finished children when asked)."""
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) if children else (resource.RUSAGE_SELF,)
    return sum(usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage, who))


def environment(python: Path, *, ours: Sequence[str], peers: Sequence[str]) -> dict[str, Any]:
    """The machine, our package versions, and the peers' as their interpreter reports them."""
    code = f"import importlib.metadata as m, json; print(json.dumps({{p: m.version(p) for p in {tuple(peers)!r}}}))"
    reported = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return {**machine.describe(), "ours": machine.versions(*ours), "peers": json.loads(reported.stdout)}
