"""Command-line interface (a thin layer over the library; no physics here).

Each command lives in its own module and registers itself on :data:`app`. The modules import the library
inside the command functions only, so ``dqnn --help`` does not import JAX.
"""

from __future__ import annotations

from dqnn.cli import (
    estimate_cmd,  # noqa: F401
    export_cmd,  # noqa: F401
    simulate_cmd,  # noqa: F401  (registers commands)
    train_cmd,  # noqa: F401
    variance_cmd,  # noqa: F401
)
from dqnn.cli._app import app


def main() -> None:
    """Entry point of the ``dqnn`` console script (and of ``python -m dqnn``)."""
    app(prog_name="dqnn")


__all__ = ["app", "main"]
