"""``dqnn variance`` and ``dqnn reproduce``: thin layers over the trainability study and the reproduction."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dqnn.cli._app import app
from dqnn.cli._choices import STUDY_ARCHES as ARCHS

err = Console(stderr=True)


def _fmt(x: Any, spec: str = ".3e") -> str:
    return "-" if x is None else format(x, spec)


def points_table(points: list[dict[str, Any]], title: str) -> Table:
    """A rich table of variance points."""
    t = Table(title=title)
    for col in ("n", "layers", "method", "S", "mean", "Var", "s.e.", "analytic", "kurtosis", "shots", "trusted"):
        t.add_column(col, justify="right")
    for p in points:
        t.add_row(
            str(p["n"]),
            str(p["layers"]),
            p["method"],
            str(p["samples"]),
            _fmt(p["mean"], ".2e"),
            _fmt(p["variance"]),
            _fmt(p["stderr"], ".1e"),
            _fmt(p["analytic"]),
            _fmt(p.get("kurtosis"), ".3g"),
            _fmt(p.get("shots_to_resolve"), "d"),
            "yes" if p.get("trusted", True) else "[red]NO[/red]",
        )
    return t


@app.command()
def variance(
    arch: Annotated[str, typer.Option(help=f"Architecture: {', '.join(ARCHS)} (pmm = Theorem 2).")] = "fig3a",
    cost: Annotated[str, typer.Option(help="Cost: global (Eq. 3) or local (Eq. 4).")] = "global",
    n: Annotated[str, typer.Option("--n", help="Widths: START:STOP[:STEP] (inclusive) or a comma list.")] = "2:8:2",
    layers: Annotated[str, typer.Option(help="DQNN layers, or 'log' (ceil(log2 n) brick layers).")] = "1",
    samples: Annotated[int, typer.Option(help="Random initialisations per point (0 with --exact: exact only).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    method: Annotated[str, typer.Option(help="Gradient: autodiff or shift (parameter-shift rule).")] = "autodiff",
    exact: Annotated[bool, typer.Option("--exact", help="Also compute exact variances (dqnn.moments.exact).")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")] = Path("results/variance"),
    dask: Annotated[bool, typer.Option("--dask", help="Run points as Dask tasks on a local cluster.")] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler (implies --dask).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Measure Var(dC/dtheta) against n (Eq. 6) with errors, fits and the paper's values; resumable."""
    from dqnn.trainability.study import StudyConfig, run_study
    from dqnn.trainability.sweep import parse_range

    try:
        if method not in ("autodiff", "shift"):
            raise ValueError(f"--method {method!r} is not 'autodiff' or 'shift'")
        if samples < 0 or (samples == 0 and not exact):
            raise ValueError(f"--samples {samples}: need >= 2 samples, or 0 together with --exact")
        if 0 < samples < 2:
            raise ValueError(f"--samples {samples}: need at least 2 samples for a variance")
        cfg = StudyConfig(
            arch=arch,
            cost=cost,
            ns=tuple(parse_range(n)),
            layers=layers,
            samples=samples,
            seed=seed,
            method=method,  # type: ignore[arg-type]
            exact=exact,
            dask=dask,
            scheduler=scheduler,
        )
        specs = cfg.specs()
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    total = len(specs) * max(samples, 0)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    ) as prog:
        task = prog.add_task(f"{arch}/{cost}", total=total or None)
        done: dict[str, int] = {}

        def progress(spec: Any, k: int) -> None:
            done[spec.label()] = k
            prog.update(task, completed=sum(done.values()), description=f"{spec.label()}")

        def on_point(p: dict[str, Any], resumed: bool) -> None:
            if p["method"] != "exact":
                done[f"{p['arch']}-{p['cost']}-n{p['n']}-L{p['layers']}"] = p["samples"]
                prog.update(task, completed=sum(done.values()))
            tag = "resumed" if resumed else p["method"]
            prog.console.print(f"n={p['n']:>3} {tag:>8}: Var = {p['variance']:.4e} ± {p['stderr']:.1e}")

        res = run_study(cfg, out, on_point=on_point, progress=progress)
    if as_json:
        sys.stdout.write(json.dumps(res) + "\n")
        return
    Console().print(points_table(res["points"], f"Var[dC]: {arch}, {cost} cost"))
    for name, fit in res["fits"].items():
        if fit is not None:
            ex = fit["exponential"]
            err.print(
                f"{name} fit: Var ~ {ex['base']:.4g}^n (log2 slope {ex['slope']:.3f}, 95% CI "
                f"{ex['slope_ci'][0]:.3f}..{ex['slope_ci'][1]:.3f}); power n^{fit['polynomial']['slope']:.2f}; "
                f"better: {fit['better']}"
            )
    if res.get("bound"):
        err.print(f"paper: {res['bound']['text']} ({res['bound']['source']})")
    for p in res["points"]:
        for w in p.get("warnings") or []:
            err.print(f"[yellow]warning[/yellow] n={p['n']}: {w}")
    err.print(f"written: {out}/variance.json, variance.csv, variance.png")


@app.command()
def reproduce(
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")] = Path("results/reproduce"),
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: minutes on 2 cores.")] = False,
) -> None:
    """Run every trainability claim of the paper and write DIR/report.md with plots."""
    from dqnn.reproduce import reproduce as run

    results = run(out, quick=quick, log=lambda s: err.print(f"[dim]{s}[/dim]"))
    t = Table(title="dqnn reproduce")
    for col in ("claim", "verdict", "measured"):
        t.add_column(col)
    for r in results:
        colour = "green" if r.verdict == "PASS" else "red"
        t.add_row(r.claim, f"[{colour}]{r.verdict}[/{colour}]", r.measured)
    Console().print(t)
    err.print(f"report: {(out / 'report.md').resolve()}")
