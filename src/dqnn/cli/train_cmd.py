"""``dqnn train``: train a DQNN on a generated task, or any network (``--network SPEC``) on any data
(``--data FILE.npz``); a thin layer over :mod:`dqnn.training`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dqnn.cli._app import app
from dqnn.cli._choices import TASKS
from dqnn.cli._choices import TRAIN_METHODS as METHODS
from dqnn.cli._guard import locked_out

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


def _progress_bar(second: str = "test fidelity {task.fields[test]:.4f}") -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cost {task.fields[cost]:.3e}  " + second),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command("train")
@locked_out  # --out: not a file; locked while the run writes it
def train_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder (metrics.csv, params.npz, summary.json, PNGs).")],
    task: Annotated[str, typer.Option(help=f"Task: one of {', '.join(TASKS)}.")] = "unitary",
    widths: Annotated[str, typer.Option(help="Layer widths, comma separated, e.g. 2,3,2.")] = "2,3,2",
    method: Annotated[
        str,
        typer.Option(
            help=f"Training method: one of {', '.join(METHODS)}; with --network also auto (PMM + optax) or any "
            "optax optimiser name (angles only)."
        ),
    ] = "pmm",
    pairs: Annotated[
        list[str] | None,
        typer.Option(help="Training pairs N; several (repeat or comma list) give a generalisation curve."),
    ] = None,
    test_pairs: Annotated[int, typer.Option(help="Held-out test pairs.")] = 32,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of data, initialisation and mini-batches.")] = 0,
    lr: Annotated[
        float | None,
        typer.Option(
            help="Learning rate (tasks, PMM: the step eps; default 0.2 pmm, 0.05 adam, 0.5 sgd; with --network: "
            "the optax rate, default 0.05)."
        ),
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
    network: Annotated[
        Path | None, typer.Option(help="Network spec (JSON/TOML, dqnn.spec) to train on --data instead of a task.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Training data .npz (inputs, targets or labels; optional val_inputs, val_targets)."),
    ] = None,
    cost: Annotated[str, typer.Option(help="With --network: global, local, observable or label.")] = "global",
    optimizer: Annotated[
        str, typer.Option(help="With --network and --method auto: the optax optimiser of the circuit angles.")
    ] = "adam",
    eps: Annotated[float, typer.Option(help="With --network: the PMM step eps (Beer et al.).")] = 0.1,
    eta: Annotated[float | None, typer.Option(help="With --network: the PMM learning rate eta = 1/lambda.")] = None,
    lam: Annotated[float | None, typer.Option("--lambda", help="With --network: Beer et al.'s lambda = 1/eta.")] = None,
    convention: Annotated[
        str, typer.Option(help="With --network: PMM convention, 'text' (Beer et al.'s paper) or 'code' (their code).")
    ] = "text",
    pmm_optimizer: Annotated[
        str, typer.Option(help="With --network: PMM update plain, momentum, rmsprop, adam or nadam.")
    ] = "plain",
    momentum: Annotated[float, typer.Option(help="PMM momentum coefficient (momentum, rmsprop, adam, nadam).")] = 0.0,
    beta: Annotated[float, typer.Option(help="PMM second-moment memory (rmsprop, adam, nadam).")] = 0.999,
    params: Annotated[
        Path | None, typer.Option(help="With --network: initial parameters .npz (as params.npz); default: seeded.")
    ] = None,
    target_cost: Annotated[float | None, typer.Option(help="Stop once the monitored cost reaches this.")] = None,
    patience: Annotated[
        int | None, typer.Option(help="Stop after this many steps without the cost falling by more than --tol.")
    ] = None,
    tol: Annotated[float, typer.Option(help="Smallest improvement that counts (with --patience).")] = 0.0,
    experiment: Annotated[
        str | None,
        typer.Option(
            help="Run one of Beer et al.'s experiments instead: generalisation, noisy (pairs of --widths, N = --pairs)"
            " or denoise (autoencoder on GHZ(widths[0]), noise levels --noise); writes result.json and a PNG."
        ),
    ] = None,
    subsets: Annotated[int, typer.Option(help="--experiment generalisation: random subsets per n.")] = 5,
    backend: Annotated[
        str,
        typer.Option(
            help="dqnn (its simulator), or aer / aer-noisy:<name>: train a hardware-efficient circuit network of "
            "--widths on --pairs pairs of the unitary task from shot estimates (Beer et al.'s NISQ protocol)."
        ),
    ] = "dqnn",
    shots: Annotated[int, typer.Option(help="With --backend aer...: shots per circuit.")] = 2**13,
    noise_model: Annotated[
        str | None,
        typer.Option(
            help="With --network: train the noisy twin, NAME:P[,WHERE] (e.g. depolarizing:0.01; see dqnn variance "
            "--noise), and report the trained parameters' cost on the noiseless network too."
        ),
    ] = None,
) -> None:
    """Train a DQNN (PMM or optax) on a generated task (--task) or a network spec on a data file (--network,
    --data); write metrics, parameters, summary, checkpoints and plots. A folder holding another run is refused."""
    if backend != "dqnn":
        try:
            rows = _train_on_backend(out, backend, widths, depth, pairs, steps, lr, shots, seed, resume)
        except ValueError as err:
            console.print(f"[red]error:[/red] {err}", soft_wrap=True)
            raise typer.Exit(2) from err
        console.print(
            f"cost {rows[0]['cost']:.4f} -> {rows[-1]['cost']:.4f} ± {rows[-1]['stderr']:.1e} (exact "
            f"{rows[0]['exact_cost']:.4f} -> {rows[-1]['exact_cost']:.4f}), {rows[-1]['shots']} shots; "
            f"results written to {out}",
            soft_wrap=True,
        )
        return
    if experiment is not None:
        try:
            path = _experiment(experiment, out, widths, pairs, noise, steps, seed, subsets)
        except ValueError as err:
            console.print(f"[red]error:[/red] {err}", soft_wrap=True)
            raise typer.Exit(2) from err
        console.print(f"results written to {path}")
        return
    if network is not None or data is not None:
        try:
            summary = _train_network(
                out,
                network,
                data,
                cost,
                method,
                optimizer,
                lr,
                eps,
                eta,
                lam,
                convention,
                pmm_optimizer,
                momentum,
                beta,
                params,
                seed,
                steps,
                batch,
                checkpoint_every,
                resume,
                gradient,
                target_cost,
                patience,
                tol,
                dict(task=task, widths=widths, pairs=pairs, test_pairs=test_pairs, noise=noise, depth=depth),
                noise_model=noise_model,
            )
        except (ValueError, TypeError) as err:
            console.print(f"[red]error:[/red] {err}", soft_wrap=True)
            raise typer.Exit(2) from err
        keys = ("cost", "val_cost", "accuracy", "val_accuracy", "stopped", "noiseless_cost", "noiseless_initial_cost")
        shown = {k: summary[k] for k in keys if k in summary}
        console.print(
            json.dumps(shown | {"seconds": round(float(summary["seconds"]), 2)}, default=float), soft_wrap=True
        )
        console.print(f"results written to {out}")
        return
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
        console.print(f"[red]error:[/red] {err}", soft_wrap=True)
        raise typer.Exit(2) from err
    task_keys = ("train_fidelity", "test_fidelity", "train_accuracy", "test_accuracy")
    shown = {k: summary[k] for k in task_keys if k in summary}
    console.print(json.dumps(shown | {"seconds": round(float(summary["seconds"]), 2)}, default=float), soft_wrap=True)
    console.print(f"results written to {out}")


_TASK_DEFAULTS: dict[str, Any] = {
    "task": "unitary",
    "widths": "2,3,2",
    "pairs": None,
    "test_pairs": 32,
    "noise": None,
    "depth": 4,
}


def _train_network(
    out: Path,
    network: Path | None,
    data: Path | None,
    cost: str,
    method: str,
    optimizer: str,
    lr: float | None,
    eps: float,
    eta: float | None,
    lam: float | None,
    convention: str,
    pmm_optimizer: str,
    momentum: float,
    beta: float,
    params: Path | None,
    seed: int,
    steps: int,
    batch: int | None,
    checkpoint_every: int,
    resume: bool,
    gradient: str,
    target_cost: float | None,
    patience: int | None,
    tol: float,
    task_options: dict[str, Any],
    noise_model: str | None = None,
) -> dict[str, Any]:
    """``dqnn train --network SPEC --data FILE``: checks every option, then :func:`dqnn.training.fit`."""
    if network is None or data is None:
        raise ValueError("--network and --data go together (a network spec and its training data)")
    used = [k for k, v in task_options.items() if v != _TASK_DEFAULTS[k]]
    if used:
        raise ValueError(f"--{used[0].replace('_', '-')} is for the generated tasks, not for --network/--data")
    if eta is not None and lam is not None:
        raise ValueError("--eta and --lambda are the same quantity (eta = 1/lambda): give one")
    import jax

    from dqnn import spec as spec_mod
    from dqnn.training import EarlyStop, PMMConfig, PMMOptimizer, fit, load_data, load_params

    if lam is not None:
        pmm_config = PMMConfig.beer(eps, lam, convention)
    else:
        pmm_config = PMMConfig(eps=eps, eta=1.0 if eta is None else eta, convention=convention)
    popt = PMMOptimizer(pmm_optimizer, momentum=momentum, beta=beta)
    stop = (
        None if target_cost is None and patience is None else EarlyStop(tol=tol, patience=patience, target=target_cost)
    )
    src = spec_mod.network_source(str(network))
    if src.depends_on_n:
        raise ValueError(f"--network {network} depends on n: training takes one network (fix n in the spec)")
    net = src.network()
    twin = net  # the noiseless network (what network.json holds)
    if noise_model is not None:
        from dqnn.model.noise import parse_noise

        net = parse_noise(noise_model.replace("--noise", "--noise-model")).apply(twin)
    train_data = load_data(data)
    init = src.parameters()  # a spec that carries parameters (e.g. a trained network) starts from them
    if params is not None:
        if not params.is_file():
            raise ValueError(f"--params {params} does not exist")
        init = load_params(params, net.init(jax.random.key(0)))
    bar = _progress_bar("val cost {task.fields[val]:.3e}")
    tids: list[Any] = []

    def update(step: int, total: int, row: dict[str, float]) -> None:
        if not tids:  # the bar starts with the training, after every check
            bar.start()
            tids.append(bar.add_task("training", total=total, cost=float("nan"), val=float("nan")))
        bar.update(tids[0], completed=step, total=total, cost=row["cost"], val=row.get("val_cost", float("nan")))

    try:
        res = fit(
            net,
            train_data,
            cost=cost,
            method=method,
            optimizer=optimizer,
            lr=lr,
            pmm_config=pmm_config,
            pmm_optimizer=popt,
            gradient=gradient,
            params=init,
            seed=seed,
            steps=steps,
            batch=batch,
            early_stop=stop,
            out_dir=out,
            resume=resume,
            checkpoint_every=checkpoint_every,
            progress=update,
            twin=twin if noise_model is not None else None,  # the noiseless cost at every step (twin_cost)
        )
    finally:
        bar.stop()
    spec_mod.save(out / "network.json", twin, res.params)  # the trained network, for dqnn simulate / variance
    if noise_model is not None:  # the noisy network was trained: its noiseless twin's cost at the same parameters
        from dqnn.training.objectives import check_kind, objective

        kind = check_kind(cost)
        start = init if init is not None else net.init(jax.random.split(jax.random.key(seed))[0])  # as fit draws
        extra = {
            "noise_model": noise_model,
            "noiseless_cost": float(objective(twin, res.params, kind, train_data.inputs, train_data.targets)),
            "noiseless_initial_cost": float(objective(twin, start, kind, train_data.inputs, train_data.targets)),
        }
        summary = dict(res.summary) | extra
        (out / "noise.json").write_text(json.dumps(extra, indent=2))
        return summary
    return res.summary


def _train_on_backend(
    out: Path, backend: str, widths: str, depth: int, pairs: list[str] | None, steps: int, lr: float | None,
    shots: int, seed: int, resume: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """``dqnn train --backend aer...``: :func:`dqnn.hardware.training.train_on_backend`; ``metrics.csv`` (cost by
    shots with its s.e., the exact cost, shots so far), ``summary.json`` and ``training.png``."""
    import csv

    from dqnn.hardware.training import BackendTraining, train_on_backend
    from dqnn.training.plots import metrics_curve

    if resume:
        raise ValueError("--resume: training on a backend runs in one go (no checkpoints)")
    config = BackendTraining(
        widths=tuple(parse_list([widths], "--widths", int)),
        depth=depth,
        num_train=parse_list(pairs or ["4"], "--pairs", int)[0],
        epochs=steps,
        lr=1.0 if lr is None else lr,
        shots=shots,
        backend=backend,
        seed=seed,
    )
    summary_path = out / "summary.json"
    if summary_path.exists():
        old = json.loads(summary_path.read_text()).get("config")
        if old != dataclasses.asdict(config) | {"widths": list(config.widths)}:
            raise ValueError(f"--out {out} holds another run ({summary_path}); choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    rows = train_on_backend(config)
    with open(out / "metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cfg = dataclasses.asdict(config) | {"widths": list(config.widths)}
    summary_path.write_text(json.dumps({"config": cfg, "final": rows[-1]}, indent=1, default=float))
    costs = [{"cost (shots)": r["cost"], "cost (exact)": r["exact_cost"]} for r in rows]
    metrics_curve(costs, out / "training.png", f"{backend}: widths {widths}, {shots} shots per circuit")
    return rows


EXPERIMENTS: tuple[str, ...] = ("generalisation", "noisy", "denoise")


def _experiment(
    name: str,
    out: Path,
    widths: str,
    pairs: list[str] | None,
    noise: list[str] | None,
    steps: int,
    seed: int,
    subsets: int,
) -> Path:
    """``dqnn train --experiment NAME``: :mod:`dqnn.training.experiments` or the denoising autoencoder."""
    if name not in EXPERIMENTS:
        raise ValueError(f"--experiment {name!r} is not one of {', '.join(EXPERIMENTS)}")
    ws = tuple(parse_list([widths], "--widths", int))
    if len(ws) < 2 or min(ws) < 1:
        raise ValueError(f"--widths {list(ws)} need at least two layers of >= 1 qubit")
    total = parse_list(pairs, "--pairs", int)[0] if pairs else 8
    out.mkdir(parents=True, exist_ok=True)
    if name == "denoise":
        from dqnn.training.autoencoder import DenoiseConfig, denoising_curve

        ps = parse_list(noise, "--noise", float) if noise else [0.0, 0.1, 0.2, 0.3]
        cfg = DenoiseConfig(num_qubits=ws[0], hidden=ws[1:-1], pairs=total, steps=steps, seed=seed)
        if ws[-1] != ws[0] or len(ws) < 3:
            raise ValueError(f"--widths {list(ws)}: the autoencoder needs [n, ..., n] with a hidden layer")
        result: dict[str, Any] = denoising_curve(cfg, ps, out)
    else:
        from dqnn.training import experiments

        if name == "generalisation":
            result = experiments.generalisation(ws, total, subsets, steps, seed=seed)
        else:
            result = experiments.noisy_data(ws, total, None, steps, seed=seed)
        result["plot"] = str(experiments.write_figure(result, out / f"{name}.png"))
    (out / "result.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    return out
