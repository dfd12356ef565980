"""``dqnn variance`` and ``dqnn reproduce``: thin layers over the trainability study and the reproduction."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dqnn.cli._app import app
from dqnn.cli._choices import PROBLEM_COSTS as COSTS
from dqnn.cli._choices import STUDY_ARCHES as ARCHS

err = Console(stderr=True)


def _fail(e: Exception) -> typer.Exit:
    """Print ``error: <message>`` on one line (never wrapped) and return the exit with status 2."""
    typer.echo(f"error: {' '.join(str(e).split())}", err=True)
    return typer.Exit(2)


def _fmt(x: Any, spec: str = ".3e") -> str:
    return "-" if x is None else format(x, spec)


def points_table(points: list[dict[str, Any]], title: str) -> Table:
    """A rich table of variance points."""
    t = Table(title=title)
    several = len({p.get("param") for p in points}) > 1
    cols = ("n", "layers", "param") if several else ("n", "layers")
    for col in (*cols, "method", "S", "mean", "Var", "s.e.", "analytic", "kurtosis", "shots", "trusted"):
        t.add_column(col, justify="right")
    for p in points:
        t.add_row(
            str(p["n"]),
            str(p["layers"]),
            *([str(p.get("param", "-"))] if several else []),
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
    arch: Annotated[
        str | None, typer.Option(help=f"Preset architecture: {', '.join(ARCHS)} (pmm = Theorem 2); default fig3a.")
    ] = None,
    network: Annotated[
        str | None,
        typer.Option(
            help="Your network instead of a preset: FILE.toml, FILE.json or file.py:function (see the spec guide)."
        ),
    ] = None,
    cost: Annotated[str, typer.Option(help=f"Cost: {', '.join(COSTS)} (label and observable need --data).")] = "global",
    n: Annotated[
        str | None, typer.Option("--n", help="Widths: START:STOP[:STEP] (inclusive) or a comma list (default 2:8:2).")
    ] = None,
    layers: Annotated[str, typer.Option(help="Preset depth: DQNN layers, or 'log' (ceil(log2 n) bricks).")] = "1",
    param: Annotated[
        str,
        typer.Option(help="With --network: first, all, layer:L, perceptron:L,J, L,J,A[;L,J,A...] or pmm."),
    ] = "first",
    data: Annotated[
        str | None,
        typer.Option(help="With --network: a .npz of inputs and targets/labels/observables ({n}: input width)."),
    ] = None,
    stream: Annotated[int, typer.Option(help="With --network: random stream (a preset's key_id reproduces it).")] = 0,
    samples: Annotated[int, typer.Option(help="Random initialisations per point (0 with --exact: exact only).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    method: Annotated[str, typer.Option(help="Gradient: autodiff or shift (parameter-shift rule).")] = "autodiff",
    exact: Annotated[
        bool, typer.Option("--exact", help="Also compute exact variances wherever the network allows (a flag).")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")] = Path("results/variance"),
    dask: Annotated[bool, typer.Option("--dask", help="Run points as Dask tasks on a local cluster.")] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler (implies --dask).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    noise: Annotated[
        str | None,
        typer.Option(help="Also the noisy twin: NAME:P[,WHERE], e.g. depolarizing:0.01 or ad:0.05,layer."),
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option(help="Memory limit, e.g. 8G: larger requests are refused before any work (default 3/4 of RAM)."),
    ] = None,
) -> None:
    """Measure Var(dC/dtheta) against n (Eq. 6) with errors, fits and the paper's values; resumable.

    A preset (--arch) or any network (--network), any parameters (--param all draws a per-parameter heat map).
    """

    try:
        if method not in ("autodiff", "shift"):
            raise ValueError(f"--method {method!r} is not 'autodiff' or 'shift'")
        if samples < 0 or (samples == 0 and not exact):
            raise ValueError(f"--samples {samples}: need >= 2 samples, or 0 together with --exact")
        if 0 < samples < 2:
            raise ValueError(f"--samples {samples}: need at least 2 samples for a variance")
        if cost not in COSTS:
            raise ValueError(f"--cost {cost!r} is not one of {', '.join(COSTS)}")
        if network is not None and arch is not None:
            raise ValueError("give --arch (a preset) or --network (your network), not both")
        if network is None:
            for opt, given in (("--param", param != "first"), ("--data", data is not None), ("--stream", stream != 0)):
                if given:
                    raise ValueError(f"{opt} needs --network (a preset fixes its parameter, data and stream)")
            if cost not in ("global", "local"):
                raise ValueError(f"--cost {cost}: the presets have global and local costs; use --network for others")
            run, title = _preset_study(
                arch or "fig3a", cost, _widths(n or "2:8:2"), layers, samples, seed, method, exact, dask, scheduler
            )
        else:
            if cost in ("label", "observable") and data is None:
                raise ValueError(f"--cost {cost} needs --data (a .npz with inputs and {cost}s)")
            run, title = _network_study(
                network, cost, n, param, data, stream, samples, seed, method, exact, dask, scheduler
            )
        _check_request(run, out, samples, method, memory)
        if noise is not None:
            run = _noisy_twin(run, noise, arch or "fig3a", cost, layers, network, n, param, data, stream, samples, seed,
                              method, exact, dask, scheduler)  # fmt: skip
    except ValueError as e:
        raise _fail(e) from e
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    ) as prog:
        task = prog.add_task(title, total=None)
        done: dict[str, int] = {}

        def progress(spec: Any, k: int) -> None:
            done[spec.label()] = k
            prog.update(task, completed=sum(done.values()), description=f"{spec.label()}")

        def on_point(p: dict[str, Any], resumed: bool) -> None:
            tag = "resumed" if resumed else p["method"]
            par = f" {p['param']}" if p.get("param") not in (None, "L0P0A0", "pmm") else ""
            prog.console.print(f"n={p['n']:>3}{par} {tag:>8}: Var = {p['variance']:.4e} ± {p['stderr']:.1e}")

        from dqnn._integrity import FolderLock

        try:
            with FolderLock(out):  # one run per folder: another run into it is refused, naming it
                res = run(out, on_point, progress)
        except ValueError as e:
            raise _fail(e) from e
    if as_json:
        sys.stdout.write(json.dumps(res) + "\n")
        return
    Console().print(points_table(res["points"], f"Var[dC]: {title}"))
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
            err.print(f"[yellow]warning[/yellow] n={p['n']} {p.get('param', '')}: {w}")
    for s in res.get("exact_skipped") or []:
        err.print(f"[dim]no exact value at n={s['n']} {s['param']}: {s['reason']}[/dim]")
    extra = ", variance_map.png" if res.get("map") else ""
    err.print(f"written: {out}/variance.json, variance.csv, variance.png{extra}")
    if noise is not None:
        Console().print(points_table(res["noisy"]["points"], f"Var[dC] with noise {noise}: {title}"))
        err.print(f"written: {out}/noisy/ (the noisy twin's study), {out}/variance_noise.png (both curves)")


Runner = Callable[[Path, Any, Any], dict[str, Any]]


def _noisy_twin(
    run: Runner, noise: str, arch: str, cost: str, layers: str, network: str | None, n: str | None, param: str,
    data: str | None, stream: int, samples: int, seed: int, method: str, exact: bool, dask: bool,
    scheduler: str | None,
) -> Runner:  # fmt: skip
    """``run`` (the noiseless study), then the same study of the noisy twin (``with_noise``; same initialisations)
    into ``OUT/noisy``, and both curves on one plot ``OUT/variance_noise.png``; the result gains ``"noisy"``."""
    import dataclasses

    from dqnn.model.noise import parse_noise
    from dqnn.spec import network_source
    from dqnn.trainability.problem import TrainabilityProblem, load_data, preset_problem
    from dqnn.trainability.study import study
    from dqnn.trainability.sweep import parse_range

    spec = parse_noise(noise)
    if network is None:
        base = preset_problem(arch, cost, layers)
        ns: list[int] | None = parse_range(n or "2:8:2")
    else:
        src = network_source(network)
        base = TrainabilityProblem(
            network=src.network if src.depends_on_n else src.network(), cost=cost,
            data=None if data is None else load_data(data, cost), params=param, stream=stream,
            name=Path(network.split(":")[0]).stem,
        )  # fmt: skip
        ns = parse_range(n) if n is not None else None
    plain = base.network
    noisy_net = (lambda m: spec.apply(plain(m))) if callable(plain) else spec.apply(plain)  # type: ignore[arg-type]
    twin = dataclasses.replace(
        base, network=noisy_net, name=f"{base.name}+{spec.channel.name}@{spec.where}", closed_form=None, bound=None,
        named=False,
    )  # fmt: skip

    def both(out: Path, on_point: Any, progress: Any) -> dict[str, Any]:
        res = run(out, on_point, progress)
        nres = study(
            twin, ns, samples=samples, seed=seed, method=method, exact="auto" if exact else False,  # type: ignore[arg-type]
            out=out / "noisy", dask=dask, scheduler=scheduler, on_point=on_point, progress=progress, title=twin.name,
        )  # fmt: skip
        res["noisy"] = dict(nres)
        _plot_twins(res, nres, out / "variance_noise.png", f"{base.name}, {cost} cost: noiseless vs {noise}")
        return res

    return both


def _plot_twins(res: dict[str, Any], nres: dict[str, Any], path: Path, title: str) -> None:
    """Var against n of both studies (first parameter), with 1 s.e. bars, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for r, label in ((res, "noiseless"), (nres, "noisy")):
        pts = [p for p in r["points"] if p.get("variance") is not None and p.get("method") != "exact"]
        first = pts[0].get("param") if pts else None
        pts = [p for p in pts if p.get("param") == first]
        ax.errorbar([p["n"] for p in pts], [p["variance"] for p in pts], yerr=[p["stderr"] for p in pts], fmt="o-",
                    capsize=3, label=label)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("n (qubits per layer)")
    ax.set_ylabel("Var[∂C]")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _widths(text: str) -> list[int]:
    """``--n`` as a list of widths (:func:`dqnn.trainability.sweep.parse_range`), its errors naming ``--n``."""
    from dqnn.trainability.sweep import parse_range

    try:
        return parse_range(text)
    except ValueError as e:
        raise ValueError(f"--n {e}") from None


def _check_request(run: Any, out: Path, samples: int, method: str, memory: str | None) -> None:
    """Before any work: ``--out`` is a folder (or absent) and every point fits in ``--memory`` (dqnn._limits)."""
    from dqnn import _limits

    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    limit = _limits.parse_memory(memory)
    _limits.check_study(getattr(run, "points", []), samples, limit, method)


def _preset_study(
    arch: str, cost: str, ns: list[int], layers: str, samples: int, seed: int, method: str, exact: bool,
    dask: bool, scheduler: str | None,
) -> tuple[Runner, str]:  # fmt: skip
    from dqnn.trainability.study import StudyConfig, run_study

    cfg = StudyConfig(
        arch=arch, cost=cost, ns=tuple(ns), layers=layers, samples=samples, seed=seed, method=method,  # type: ignore[arg-type]
        exact=exact, dask=dask, scheduler=scheduler,
    )  # fmt: skip
    cfg.specs()  # validates arch, n and layers before any work

    def run(out: Path, on_point: Any, progress: Any) -> dict[str, Any]:
        return run_study(cfg, out, on_point=on_point, progress=progress)

    from dqnn.trainability.sweep import as_point

    run.points = [as_point(s) for s in cfg.specs()]  # type: ignore[attr-defined]  # sized before any work
    return run, f"{arch}/{cost}"


def _network_study(
    ref: str, cost: str, n: str | None, param: str, data: str | None, stream: int, samples: int, seed: int,
    method: str, exact: bool, dask: bool, scheduler: str | None,
) -> tuple[Runner, str]:  # fmt: skip
    from dqnn.spec import network_source
    from dqnn.trainability.problem import TrainabilityProblem, load_data
    from dqnn.trainability.study import study

    src = network_source(ref)
    if src.depends_on_n and n is None:
        raise ValueError(f"--network {ref} depends on n: give --n")
    if not src.depends_on_n and n is not None:
        raise ValueError(f"--network {ref} is one fixed network: drop --n")
    ns = _widths(n) if n is not None else None
    problem = TrainabilityProblem(
        network=src.network if src.depends_on_n else src.network(),
        cost=cost,
        data=None if data is None else load_data(data, cost),
        params=param,
        stream=stream,
        name=Path(ref.split(":")[0]).stem,
    )
    for pt_n in ns or [None]:  # type: ignore[list-item]  # every network and parameter selection checked before any work
        problem.parameters(problem.network_at(pt_n))
    name = f"{problem.name}/{cost}"

    def run(out: Path, on_point: Any, progress: Any) -> dict[str, Any]:
        return study(
            problem, ns, samples=samples, seed=seed, method=method, exact="auto" if exact else False,  # type: ignore[arg-type]
            out=out, dask=dask, scheduler=scheduler, on_point=on_point, progress=progress, title=name,
        )  # fmt: skip

    from dqnn.trainability.points import ProblemPoint

    run.points = [ProblemPoint(problem, pt_n) for pt_n in (ns or [None])]  # type: ignore[attr-defined,list-item]
    return run, name


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
