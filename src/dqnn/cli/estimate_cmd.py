"""``dqnn estimate`` (a cost or gradient from shots, as hardware would) and ``dqnn shots`` (shots to resolve one)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dqnn.cli._app import app
from dqnn.cli._choices import ANGLE_ARCHES as ARCHES
from dqnn.cli._choices import ESTIMATORS as METHODS
from dqnn.cli._choices import WORST_SHOT_VARIANCE

console = Console(stderr=True)


def _fail(err: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {err}")
    return typer.Exit(2)


def _table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in rows.items():
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    return table


@app.command()
def estimate(
    arch: Annotated[str, typer.Option(help=f"Architecture: one of {', '.join(ARCHES)}.")] = "fig3a",
    n: Annotated[int, typer.Option("--n", help="Qubits per layer.")] = 2,
    layers: Annotated[int, typer.Option(help="DQNN layers.")] = 1,
    cost: Annotated[str, typer.Option(help="Cost: global (Eq. 3) or local (Eq. 4).")] = "global",
    method: Annotated[str, typer.Option(help=f"Estimator: one of {', '.join(METHODS)}.")] = "inverse",
    shots: Annotated[int, typer.Option(help="Shots (snapshots for shadows) per circuit.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the initialisation and of the shots.")] = 0,
    gradient: Annotated[bool, typer.Option("--gradient", help="Estimate d C / d theta_nu by parameter shift.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON {exact, estimate, stderr, shots}.")] = False,
) -> None:
    """Estimate a cost (or gradient) of one seeded random initialisation from finite shots."""
    from dqnn.estimators.shots import estimate_problem
    from dqnn.presets.problems import GradientProblem

    try:
        problem = GradientProblem(arch, n, layers, cost)  # type: ignore[arg-type]  # validated there
        if method not in METHODS:
            raise ValueError(f"--method {method!r} is not one of {METHODS}")
        exact, est = estimate_problem(problem, method, shots, seed, gradient)  # type: ignore[arg-type]
    except ValueError as err:
        raise _fail(err) from err
    res: dict[str, Any] = {
        "exact": exact,
        "estimate": est.value,
        "stderr": est.stderr,
        "shots": est.shots,
        "problem": problem.label(),
        "quantity": "gradient" if gradient else "cost",
        "method": method,
        "seed": seed,
    }
    if as_json:
        typer.echo(json.dumps(res))
        return
    res["z = (estimate - exact) / stderr"] = (est.value - exact) / est.stderr if est.stderr > 0 else float("nan")
    Console().print(_table(f"{res['quantity']} of {problem.label()} by {method}", res))


@app.command("shots")
def shots_cmd(
    variance: Annotated[float, typer.Option(help="Variance of the gradient (its typical size is sqrt).")],
    confidence: Annotated[float, typer.Option(help="Confidence of telling it from zero (two-sided).")] = 0.95,
    shot_variance: Annotated[
        float, typer.Option(help="Per-shot variance of the gradient estimator (default: worst case 1/8).")
    ] = WORST_SHOT_VARIANCE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Shots per shifted circuit needed to resolve a gradient of a given variance (see dqnn.estimators.shots)."""
    from dqnn.estimators.shots import shots_to_resolve

    try:
        m = shots_to_resolve(variance, confidence, shot_variance)
    except ValueError as err:
        raise _fail(err) from err
    res = {
        "variance": variance,
        "confidence": confidence,
        "shot_variance": shot_variance,
        "shots_per_circuit": m,
        "total_shots": 2 * m,
    }
    if as_json:
        typer.echo(json.dumps(res))
        return
    Console().print(_table("shots to resolve a gradient from zero", res))
