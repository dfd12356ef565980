"""File integrity: checksums, atomic writes with unique temporary names, and an advisory folder lock.

- :func:`sha256_file` / :func:`content_sha256`: the hex SHA-256 of a file's bytes / of a JSON-ready value in a
  canonical form (sorted keys, ``repr`` floats), so that a stored result can say what it was and be checked.
- :func:`atomic_write_bytes` / :func:`atomic_write_text`: write to a uniquely named temporary file in the target's
  folder (``tempfile.mkstemp``), then ``os.replace`` it onto the target: a reader sees the old file or the new one,
  never a part of one, and concurrent writers of the same file never collide on a temporary name.
- :class:`ResumeWarning`: the one warning for stored work (a checkpoint, a stored point) found damaged and done
  again, so that a filter on it covers every resumable run.
- :class:`FolderLock`: ``DIR/.dqnn.lock`` held with ``fcntl.flock`` (released by the kernel when its process dies,
  so the lock of a killed run is taken over at once) and naming its holder (pid, host, command) for the message
  another run gets. Where ``fcntl`` is missing the file is created exclusively and a lock of a dead pid on this
  host is taken over.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

LOCK_NAME = ".dqnn.lock"


class ResumeWarning(UserWarning):
    """Stored work (a checkpoint, a stored point) was found damaged or inconsistent and is done again; the message
    names the file."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the bytes of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def canonical_json(value: Any) -> str:
    """``value`` as JSON with sorted keys and no spaces (NaN/inf as ``NaN``/``Infinity``): one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def content_sha256(value: Any) -> str:
    """Hex SHA-256 of :func:`canonical_json` of ``value`` (a JSON-ready value)."""
    return sha256_bytes(canonical_json(value).encode())


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a unique temporary file in the same folder, then ``os.replace``."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode())


class FolderLockedError(ValueError):
    """Another live process holds the folder's lock (the message names it)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FolderLock:
    """An advisory lock on a folder, for ``with``: ``FolderLock(folder)`` raises :class:`FolderLockedError` naming the
    process that holds it (pid, host, command, since when) when another live process does. The lock file
    ``folder/.dqnn.lock`` holds the holder's JSON; it is released on exit (and by the kernel if the process dies).
    Re-entrant within a process: taking a lock this process already holds is a no-op (the outer holder releases).
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fh: IO[str] | None = None

    def holder(self) -> dict[str, Any] | None:
        """The JSON the lock file names (pid, host, command, since), or None when unreadable or absent."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _refuse(self) -> FolderLockedError:
        h = self.holder() or {}
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(h["since"])) if "since" in h else "?"
        return FolderLockedError(
            f"{self.folder} is in use by another run (pid {h.get('pid', '?')} on {h.get('host', '?')}, "
            f"{h.get('command', '?')!s}, since {since}); wait for it or choose another output folder"
        )

    def acquire(self) -> FolderLock:
        """Take the lock (FolderLockedError when a live process holds it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv)[:200],
            "since": time.time(),
        }
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self._acquire_exclusive(me)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            if (self.holder() or {}).get("pid") == os.getpid():
                return self  # this process holds it already (a command running a study): nested, a no-op
            raise self._refuse() from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(me))
        fh.flush()
        self._fh = fh
        return self

    def _acquire_exclusive(self, me: dict[str, Any]) -> FolderLock:  # pragma: no cover - Windows
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                h = self.holder() or {}
                stale = h.get("host") == me["host"] and isinstance(h.get("pid"), int) and not _alive(h["pid"])
                if not stale:
                    raise self._refuse() from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(me))
            return self
        raise self._refuse()

    def release(self) -> None:
        """Give the lock back (the lock file is left, empty of meaning once unlocked)."""
        if self._fh is not None:
            import fcntl

            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
        elif sys.platform == "win32":  # pragma: no cover
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


__all__ = [
    "LOCK_NAME",
    "FolderLock",
    "FolderLockedError",
    "ResumeWarning",
    "atomic_write_bytes",
    "atomic_write_text",
    "canonical_json",
    "content_sha256",
    "sha256_bytes",
    "sha256_file",
]
