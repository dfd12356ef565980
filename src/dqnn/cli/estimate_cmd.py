"""``dqnn estimate`` (a cost or gradient from shots, as hardware would) and ``dqnn shots`` (shots to resolve one)."""

from __future__ import annotations

import json
from pathlib import Path
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
    typer.echo(f"error: {' '.join(str(err).split())}", err=True)  # one line, never wrapped
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
    network: Annotated[
        str | None,
        typer.Option(help="Your network instead of a preset: FILE.toml, FILE.json or file.py:function."),
    ] = None,
    n: Annotated[
        int | None, typer.Option("--n", help="Qubits per layer (a preset, or an n-dependent --network).")
    ] = None,
    layers: Annotated[int, typer.Option(help="DQNN layers (a preset).")] = 1,
    cost: Annotated[str, typer.Option(help="Cost: global (Eq. 3) or local (Eq. 4).")] = "global",
    method: Annotated[str, typer.Option(help=f"Estimator: one of {', '.join(METHODS)}.")] = "inverse",
    shots: Annotated[int, typer.Option(help="Shots (snapshots for shadows) per circuit.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the initialisation and of the shots.")] = 0,
    gradient: Annotated[bool, typer.Option("--gradient", help="Estimate d C / d theta_nu by parameter shift.")] = False,
    param: Annotated[
        str, typer.Option(help="With --network --gradient: the angle L,J,A (default: the first angle).")
    ] = "first",
    data: Annotated[
        str | None, typer.Option(help="With --network: a .npz of inputs and targets (default |0...0> -> |0...0>).")
    ] = None,
    backend: Annotated[
        str,
        typer.Option(help="Where the shots come from: dqnn (its simulator), aer, or aer-noisy:<name> (e.g. generic)."),
    ] = "dqnn",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON {exact, estimate, stderr, shots}.")] = False,
    memory: Annotated[
        str | None, typer.Option(help="Memory limit, e.g. 8G: larger networks are refused before any work.")
    ] = None,
) -> None:
    """Estimate a cost (or gradient) of one seeded random initialisation from finite shots.

    With --network, the spec's stored parameters are used when it has them, else a seeded initialisation.
    """
    try:
        if backend == "dqnn" and method not in METHODS:
            raise ValueError(f"--method {method!r} is not one of {METHODS}")
        if backend != "dqnn":
            exact, est, label = _estimate_on_backend(
                backend, arch, network, n, layers, cost, method, shots, seed, gradient, param, data
            )
        elif network is None:
            for opt, given in (("--param", param != "first"), ("--data", data is not None)):
                if given:
                    raise ValueError(f"{opt} needs --network (a preset fixes its parameter and data)")
            exact, est, label = _estimate_preset(
                arch, n if n is not None else 2, layers, cost, method, shots, seed, gradient, memory
            )
        else:
            exact, est, label = _estimate_network(network, n, cost, method, shots, seed, gradient, param, data)
    except ValueError as err:
        raise _fail(err) from err
    res: dict[str, Any] = {
        "exact": exact,
        "estimate": est.value,
        "stderr": est.stderr,
        "shots": est.shots,
        "problem": label,
        "quantity": "gradient" if gradient else "cost",
        "method": method,
        "seed": seed,
        "backend": backend,
    }
    if as_json:
        typer.echo(json.dumps(res))
        return
    res["z = (estimate - exact) / stderr"] = (est.value - exact) / est.stderr if est.stderr > 0 else float("nan")
    Console().print(_table(f"{res['quantity']} of {label} by {method}", res))


def _estimate_on_backend(
    backend: str, arch: str, ref: str | None, n: int | None, layers: int, cost: str, method: str, shots: int,
    seed: int, gradient: bool, param: str, data: str | None,
) -> tuple[float, Any, str]:  # fmt: skip
    """The same network, parameters and data as the dqnn path, estimated from circuits run on Aer."""
    import jax

    from dqnn import _programs
    from dqnn.estimators.shots import exact_value
    from dqnn.hardware.backends import check_backend
    from dqnn.hardware.measure import BACKEND_METHODS, estimate_on_backend, gradient_on_backend
    from dqnn.presets.problems import GradientProblem
    from dqnn.trainability.problem import select

    check_backend(backend)
    if method not in BACKEND_METHODS:
        raise ValueError(f"--method {method!r} is not one of {BACKEND_METHODS} on --backend {backend}")
    if ref is None:
        problem = GradientProblem(arch, n if n is not None else 2, layers, cost)  # type: ignore[arg-type]
        net = problem.network()
        params = _programs.init(net, jax.random.key(seed))
        x, t = problem.data()
        angle = problem.angle_index(net) if gradient else None
        label = problem.label()
    else:
        net, params, x, t, label = _network_inputs(ref, n, cost, seed, data)
        angle = select(net, param)[0] if gradient else None
    exact = exact_value(net, params, x, t, cost, angle)  # type: ignore[arg-type]
    if angle is None:
        est = estimate_on_backend(net, params, x, t, cost, method, shots, seed, backend)  # type: ignore[arg-type]
    else:
        est = gradient_on_backend(net, params, angle, x, t, cost, method, shots, seed, backend)  # type: ignore[arg-type]
    return exact, est, f"{label} on {backend}" if angle is None else f"{label} {angle} on {backend}"


def _estimate_preset(
    arch: str, n: int, layers: int, cost: str, method: str, shots: int, seed: int, gradient: bool,
    memory: str | None = None,
) -> tuple[float, Any, str]:  # fmt: skip
    from dqnn.estimators.shots import estimate_problem
    from dqnn.presets.problems import GradientProblem

    problem = GradientProblem(arch, n, layers, cost)  # type: ignore[arg-type]  # validated there
    from dqnn import _limits

    _limits.check_memory(_limits.simulation_bytes(problem.network()), _limits.parse_memory(memory), f"--n {n}")
    exact, est = estimate_problem(problem, method, shots, seed, gradient)  # type: ignore[arg-type]
    return exact, est, problem.label()


def _estimate_network(
    ref: str, n: int | None, cost: str, method: str, shots: int, seed: int, gradient: bool, param: str,
    data: str | None,
) -> tuple[float, Any, str]:  # fmt: skip
    from dqnn.estimators.shots import estimate_network
    from dqnn.trainability.problem import select

    net, params, x, t, where = _network_inputs(ref, n, cost, seed, data)
    angle = select(net, param)[0] if gradient else None
    if gradient and angle is None:
        raise ValueError("--gradient: the parameter-shift estimate needs a circuit angle (--param L,J,A)")
    exact, est = estimate_network(net, params, x, t, cost, method, shots, seed, angle)  # type: ignore[arg-type]
    return exact, est, where if angle is None else f"{where} {angle}"


def _network_inputs(ref: str, n: int | None, cost: str, seed: int, data: str | None) -> tuple[Any, Any, Any, Any, str]:
    """``(network, parameters, inputs, targets, label)`` of ``--network``: the spec's parameters when it has them,
    else seeded; ``--data`` or the zero pair."""
    import jax

    from dqnn import _programs
    from dqnn.spec import network_source
    from dqnn.trainability.problem import TrainabilityProblem, load_data

    if cost not in ("global", "local"):
        raise ValueError(f"--cost {cost!r}: the estimators take global or local")
    src = network_source(ref)
    if src.depends_on_n and n is None:
        raise ValueError(f"--network {ref} depends on n: give --n")
    if not src.depends_on_n and n is not None:
        raise ValueError(f"--network {ref} is one fixed network: drop --n")
    net = src.network(n)
    params = src.parameters(n)
    if params is None:
        params = _programs.init(net, jax.random.key(seed))
    problem = TrainabilityProblem(network=net, cost=cost, data=None if data is None else load_data(data, cost))
    x, t = problem.pair(net)[0]()
    return net, params, x, t, f"{Path(ref.split(':')[0]).stem}{'' if n is None else f'-n{n}'}-{cost}"


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
