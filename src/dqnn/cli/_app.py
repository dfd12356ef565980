"""The typer application object shared by the command modules, and its global options.

The command modules import only typer and rich at module level and the library inside each command, so that
``dqnn --help`` and every ``dqnn COMMAND --help`` answer without importing JAX.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="dqnn",
    help="Build, simulate, train and diagnose dissipative perceptron-based quantum neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's help renderer alone costs ~0.2 s per `--help`
)


@app.callback()
def _global_options(
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Do not use JAX's persistent compilation cache (default: on, in $DQNN_CACHE_DIR or "
            "~/.cache/dqnn/jax; DQNN_NO_CACHE=1 also turns it off).",
        ),
    ] = False,
) -> None:
    from dqnn._cache import cli_cache  # imports no JAX

    cli_cache(no_cache)
