"""Command-line interface (a thin layer over the library; no physics here).

Each command lives in its own module and registers itself on :data:`app`. The modules import the library
inside the command functions only, so ``dqnn --help`` does not import JAX.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typer import Typer

#: Commands that resume from their output folder (Ctrl-C says so).
RESUMABLE = ("variance", "train", "reproduce")


def load_app() -> Typer:
    """The ``dqnn`` Typer app with every command registered (imports the command modules, not the library)."""
    from dqnn.cli import (
        estimate_cmd,  # noqa: F401
        export_cmd,  # noqa: F401
        simulate_cmd,  # noqa: F401  (registers commands)
        train_cmd,  # noqa: F401
        variance_cmd,  # noqa: F401
    )
    from dqnn.cli._app import app

    return app


def __getattr__(name: str) -> Any:
    """``dqnn.cli.app``, loaded on first use (so that :func:`main` imports it inside its Ctrl-C handling)."""
    if name == "app":
        return load_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")


def main() -> None:
    """Entry point of the ``dqnn`` console script (and of ``python -m dqnn``).

    Every error reaches the user as one line with exit status 2 (usage errors as click prints them); Ctrl-C exits
    with status 130 (saying how to resume where the command resumes); warnings print as one line each. Set
    ``DQNN_TRACEBACK=1`` to see the traceback of an unexpected error.
    """
    import warnings

    warnings.showwarning = _one_line_warning
    sys.unraisablehook = lambda unraisable: None  # e.g. a failed Dask client's __del__ at exit: not the user's
    try:
        rc = load_app()(prog_name="dqnn", standalone_mode=False)  # Ctrl-C while importing: 130 too, no traceback
    except KeyboardInterrupt:
        _interrupted()
    except Exception as e:
        if type(e).__name__ == "Abort":  # typer's click turns Ctrl-C at a prompt into Abort
            _interrupted()
        if hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int):  # a usage error
            _usage_hint(e)
            e.show()
            sys.exit(int(getattr(e, "exit_code", 2)))
        _unexpected(e)
    if rc == 130:  # typer's answer to KeyboardInterrupt in a command
        _interrupted()
    sys.exit(rc if isinstance(rc, int) else 0)


def _interrupted() -> None:
    resumes = any(a in RESUMABLE for a in sys.argv[1:3])
    sys.stderr.write("\ninterrupted" + ("; rerun the same command to resume\n" if resumes else "\n"))
    sys.stderr.flush()
    os._exit(130)  # at once: no waiting on worker threads or a Dask cluster's shutdown


def _usage_hint(e: Exception) -> None:
    """Say what a value after a flag means (``--exact true``: the flags take no value)."""
    msg = str(getattr(e, "message", e))
    if "unexpected extra argument" not in msg:
        return
    args = sys.argv[1:]
    for i, a in enumerate(args[1:], 1):
        if a.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0") and args[i - 1].startswith("--"):
            flag = args[i - 1]
            sys.stderr.write(
                f"error: {flag} is a flag and takes no value: write {flag} to turn it on, or leave it out\n"
            )
            sys.exit(2)


def _unexpected(e: Exception) -> None:
    if isinstance(e, MemoryError):
        sys.stderr.write("error: out of memory; give a smaller request (or --memory to size it first)\n")
        sys.exit(2)
    if os.environ.get("DQNN_TRACEBACK"):
        raise e
    sys.stderr.write(f"error: {type(e).__name__}: {' '.join(str(e).split())[:500]}\n")
    sys.exit(2)


__all__ = ["app", "load_app", "main"]
