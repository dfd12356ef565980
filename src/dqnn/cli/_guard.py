"""The output-folder guard of the commands that write a folder: ``--out`` must not be a file, and the folder is
locked (:class:`dqnn._integrity.FolderLock`) while the command runs, released when it returns or fails."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


def locked_out(fn: F) -> F:
    """Decorate a command whose ``out`` keyword is its output folder: refuse (one line, exit 2) an ``--out``
    that is a file or a folder another live run holds; hold the folder's lock while ``fn`` runs."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from dqnn._integrity import FolderLock

        out = kwargs.get("out")
        if out is None:
            return fn(*args, **kwargs)
        try:
            if Path(out).exists() and not Path(out).is_dir():
                raise ValueError(f"--out {out} is a file, not a folder")
            lock = FolderLock(out).acquire()
        except ValueError as err:
            typer.echo(f"error: {' '.join(str(err).split())}", err=True)
            raise typer.Exit(2) from err
        try:
            return fn(*args, **kwargs)
        finally:
            lock.release()

    return run  # type: ignore[return-value]


__all__ = ["locked_out"]
