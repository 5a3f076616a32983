"""What a process does once when it starts (the CLI, each server worker, the worker command),
never inside a request."""

from __future__ import annotations

import os
import sys
import threading

_done = False
_lock = threading.Lock()


def quiet_solver_banner() -> None:
    """HiGHS prints a banner to the process's stdout the first time a solver is created,
    whatever its options. Create that first one now, with stdout pointed at /dev/null, so that
    the banner never lands in a command's output or a server's log; the sourcing engine's
    solvers, created later in request threads, print nothing (their output_flag is off)."""
    global _done
    with _lock:
        if _done:
            return
        import highspy

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 1)
                highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _done = True
