"""Peak resident memory of this process, for the bench scripts' child processes.

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is wrong for them on Linux: the kernel
carries a process's high-water mark across ``fork`` + ``exec``, so a child started by
a bench parent that had just generated gigabytes of data reports the parent's peak, not
its own (seen: every audit "2 190 MB" after a generating parent, against 1 159 MB
sampled from /proc).  ``VmHWM`` in ``/proc/self/status`` belongs to the address space
that ``exec`` created, so it is the child's own.  Elsewhere ``ru_maxrss`` is used.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path


def _status_mb(field: str) -> float | None:
    """A memory line (``VmHWM``, ``VmRSS``) of ``/proc/self/status`` in MB; None without."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_mb() -> float:
    """This process's own peak resident memory in MB (MiB)."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def rss_mb() -> float:
    """This process's resident memory now, in MB (0 where /proc is missing)."""
    return _status_mb("VmRSS") or 0.0


def reset_peak() -> bool:
    """Start ``peak_mb`` again from the memory held now (Linux: ``clear_refs`` 5 resets
    ``VmHWM``), so that a step's own peak can be read; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def bench_env() -> dict[str, str]:
    """The environment for a ``python -c`` child that imports this module."""
    here = str(Path(__file__).resolve().parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + path if path else "")}
