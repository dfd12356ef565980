"""A child process that holds a folder's lock (for tests of the folder lock: another run, not this process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dqnn import _integrity

# Imports only dqnn/_integrity.py (not the package: no JAX, fast).
HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("integ", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
lock = m.FolderLock(sys.argv[2]).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def holder_command(folder: Path) -> list[str]:
    """The command line of a child that takes ``folder``'s lock, prints ``locked`` and sleeps (exits 1 if refused)."""
    return [sys.executable, "-c", HOLDER, _integrity.__file__, str(folder)]


def hold_lock(folder: Path) -> subprocess.Popen[str]:
    """Start a child holding ``folder``'s lock; returns once it holds it (kill it to release)."""
    proc = subprocess.Popen(holder_command(folder), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc
