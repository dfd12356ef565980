"""``dqnn train``: train a DQNN on a generated task (a thin layer over :mod:`dqnn.training`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dqnn.cli._app import app
from dqnn.cli._choices import TASKS
from dqnn.cli._choices import TRAIN_METHODS as METHODS

console = Console(stderr=True)


def parse_list(text: list[str], name: str, kind: type) -> list[Any]:
    """Values of a repeatable, comma-separated option (``--pairs 2,4 --pairs 8`` -> ``[2, 4, 8]``)."""
    out = []
    for chunk in text:
        for item in chunk.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                out.append(kind(item))
            except ValueError as err:
                raise ValueError(f"{name}: {item!r} is not a valid {kind.__name__}") from err
    if not out:
        raise ValueError(f"{name}: no value given")
    return out


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cost {task.fields[cost]:.3e}  test fidelity {task.fields[test]:.4f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command("train")
def train_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder (metrics.csv, params.npz, summary.json, PNGs).")],
    task: Annotated[str, typer.Option(help=f"Task: one of {', '.join(TASKS)}.")] = "unitary",
    widths: Annotated[str, typer.Option(help="Layer widths, comma separated, e.g. 2,3,2.")] = "2,3,2",
    method: Annotated[str, typer.Option(help=f"Training method: one of {', '.join(METHODS)}.")] = "pmm",
    pairs: Annotated[
        list[str] | None,
        typer.Option(help="Training pairs N; several (repeat or comma list) give a generalisation curve."),
    ] = None,
    test_pairs: Annotated[int, typer.Option(help="Held-out test pairs.")] = 32,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of data, initialisation and mini-batches.")] = 0,
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (PMM: the step eps; default 0.2 pmm, 0.05 adam, 0.5 sgd).")
    ] = None,
    noise: Annotated[
        list[str] | None,
        typer.Option(help="Fraction of noisy training pairs (noisy-unitary); several give a noise curve."),
    ] = None,
    gradient: Annotated[str, typer.Option(help="Gradients for adam/sgd: autodiff or shift.")] = "autodiff",
    depth: Annotated[int, typer.Option(help="Entangling layers per circuit perceptron (adam/sgd).")] = 4,
    batch: Annotated[int | None, typer.Option(help="Mini-batch size (default: all pairs).")] = None,
    checkpoint_every: Annotated[int, typer.Option(help="Write a checkpoint every this many steps.")] = 25,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint(s) in --out.")] = False,
) -> None:
    """Train a DQNN (PMM or optax) on a generated task; write metrics, parameters, summary and plots."""
    from dqnn.training.loop import TrainConfig, sweep, train

    try:
        pair_list = parse_list(pairs or ["8"], "--pairs", int)
        noise_list = parse_list(noise or ["0"], "--noise", float)
        width_list = tuple(parse_list([widths], "--widths", int))
        config = TrainConfig(
            task=task,  # type: ignore[arg-type]
            widths=width_list,
            method=method,  # type: ignore[arg-type]
            pairs=pair_list[0],
            test_pairs=test_pairs,
            steps=steps,
            seed=seed,
            lr=lr,
            noise=noise_list[0],
            gradient=gradient,  # type: ignore[arg-type]
            depth=depth,
            batch=batch,
            checkpoint_every=checkpoint_every,
        )
        for n in pair_list[1:]:
            TrainConfig(**{**config.to_dict(), "widths": width_list, "pairs": n})  # validate every N
        for f in noise_list[1:]:
            TrainConfig(**{**config.to_dict(), "widths": width_list, "noise": f})
        with _progress_bar() as bar:

            def make_progress(name: str):  # type: ignore[no-untyped-def]
                tid = bar.add_task(name, total=config.steps, cost=float("nan"), test=float("nan"))

                def update(step: int, total: int, row: dict[str, float]) -> None:
                    bar.update(tid, completed=step, total=total, cost=row["cost"], test=row["test_fidelity"])

                return update

            if len(pair_list) == 1 and len(noise_list) == 1:
                summary = train(config, out, resume=resume, progress=make_progress("training")).summary
            else:
                summary = sweep(config, pair_list, noise_list, out, resume=resume, progress=make_progress)
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from err
    keys = ("train_fidelity", "test_fidelity", "train_accuracy", "test_accuracy")
    shown = {k: summary[k] for k in keys if k in summary}
    console.print(json.dumps(shown | {"seconds": round(float(summary["seconds"]), 2)}, default=float))
    console.print(f"results written to {out}")
