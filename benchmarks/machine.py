"""The machine description every benchmark saves with its figures: results on a shared machine mean little
without the CPU, the core count and the load they were measured under."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def describe(*packages: str) -> dict[str, object]:
    return {
        "python": platform.python_version(),
        **versions(*packages),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "load_average_1_5_15_min": os.getloadavg(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def versions(*packages: str) -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in packages}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
