"""The typer application object shared by the command modules.

The command modules import only typer and rich at module level and the library inside each command, so that
``dqnn --help`` and every ``dqnn COMMAND --help`` answer without importing JAX.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="dqnn",
    help="Build, simulate, train and diagnose dissipative perceptron-based quantum neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
