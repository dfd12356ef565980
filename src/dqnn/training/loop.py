"""The training run: tasks, metrics per step, checkpoints and resume, outputs on disk.

A run is fixed by a :class:`TrainConfig`. One seed makes everything: ``key = jax.random.key(seed)`` is
split into a data key, an initialisation key and the run's PRNG state (used to draw mini-batches when
``batch`` is set). Tasks (data from :mod:`dqnn.datasets`):

- ``"unitary"``: learn a Haar-random unitary on ``widths[0] == widths[-1]`` qubits, global cost (Eq. 3);
- ``"noisy-unitary"``: the same with a fraction ``noise`` of the training targets replaced by random states;
- ``"ising"``: classify transverse-field Ising ground states on ``widths[0]`` qubits by phase, label cost
  (:mod:`dqnn.training.objectives`).

Methods: ``"pmm"`` (parameter-matrix multiplication of global Haar perceptrons, :mod:`~dqnn.training.pmm`;
``lr`` is the step ``eps`` with Beer's ``eta = 1``) and ``"adam"`` / ``"sgd"`` (optax on the angles of
hardware-efficient circuit perceptrons, :mod:`~dqnn.training.gradient`).

Metrics row ``t`` describes the parameters after ``t`` updates (row 0: the initialisation): ``cost``
(training objective), ``train_fidelity``, ``test_fidelity`` and, for ``"ising"``, ``train_accuracy``
and ``test_accuracy``. Every ``checkpoint_every`` steps (and at the end) the run state (parameters,
optimiser state, PRNG key, metrics so far) is written to ``checkpoint.npz`` (``allow_pickle=False``);
a resumed run continues from it and gives bit-identical metrics and parameters to an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from dqnn import datasets
from dqnn._jax import Array
from dqnn.model.network import Network, NetworkParams
from dqnn.model.params_io import load_params as load_params
from dqnn.model.params_io import params_to_arrays as params_to_arrays
from dqnn.model.params_io import save_params as save_params
from dqnn.presets import architectures
from dqnn.training import gradient as grad_mod
from dqnn.training import pmm
from dqnn.training.files import read_metrics as read_metrics
from dqnn.training.files import write_metrics as write_metrics
from dqnn.training.folders import load_state, save_state
from dqnn.training.objectives import ObjectiveKind, accuracy, objective, observable_factors, per_pair_fidelity

Task = Literal["unitary", "noisy-unitary", "ising"]
#: How a network is trained: parameter-matrix multiplication (Eq. 13) or an optax optimiser on the angles.
TrainMethod = Literal["pmm", "adam", "sgd"]
Method = TrainMethod  # the older name
TASKS: tuple[str, ...] = ("unitary", "noisy-unitary", "ising")
METHODS: tuple[str, ...] = ("pmm", "adam", "sgd")
DEFAULT_LR: dict[str, float] = {"pmm": 0.2, "adam": 0.05, "sgd": 0.5}
CHECKPOINT = "checkpoint.npz"
#: A progress callback: ``(step, total_steps, metrics row)``.
Progress = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (see the module doc for the meaning of each field).

    ``lr=None`` takes :data:`DEFAULT_LR` of the method; ``depth`` is the number of entangling layers of
    each circuit perceptron (gradient methods); ``batch=None`` trains on all pairs each step.
    """

    task: Task = "unitary"
    widths: tuple[int, ...] = (2, 3, 2)
    method: TrainMethod = "pmm"
    pairs: int = 8
    test_pairs: int = 32
    steps: int = 300
    seed: int = 0
    lr: float | None = None
    noise: float = 0.0
    gradient: grad_mod.GradientMode = "autodiff"
    depth: int = 4
    batch: int | None = None
    checkpoint_every: int = 25

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.task not in TASKS:
            raise ValueError(f"task {self.task!r} is not one of {TASKS}")
        if self.method not in METHODS:
            raise ValueError(f"method {self.method!r} is not one of {METHODS}")
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"widths {list(self.widths)} need at least two layers, each of >= 1 qubit")
        if self.task != "ising" and self.widths[0] != self.widths[-1]:
            raise ValueError(
                f"widths {list(self.widths)}: learning a unitary needs as many output as input qubits "
                f"({self.widths[0]} != {self.widths[-1]})"
            )
        for name in ("pairs", "steps", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        if self.test_pairs < 0:
            raise ValueError(f"test_pairs={self.test_pairs} must be >= 0")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr={self.lr} must be > 0")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise={self.noise} must lie in [0, 1]")
        if self.noise and self.task != "noisy-unitary":
            raise ValueError(f"noise={self.noise} is only used by the 'noisy-unitary' task, not {self.task!r}")
        if self.batch is not None and not 1 <= self.batch <= self.pairs:
            raise ValueError(f"batch={self.batch} must lie in [1, pairs={self.pairs}]")
        if self.depth < 0:
            raise ValueError(f"depth={self.depth} must be >= 0")
        if self.gradient not in ("autodiff", "shift"):
            raise ValueError(f"gradient {self.gradient!r} is not 'autodiff' or 'shift'")

    @property
    def learning_rate(self) -> float:
        """``lr``, or the method's default."""
        return DEFAULT_LR[self.method] if self.lr is None else float(self.lr)

    @property
    def objective_kind(self) -> ObjectiveKind:
        """``"label"`` for the Ising task, ``"global"`` otherwise."""
        return "label" if self.task == "ising" else "global"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of the fields (widths as a list)."""
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d


@dataclass(frozen=True, eq=False)
class Problem:
    """A prepared run: network, data split, objective, initial parameters and the jitted step."""

    config: TrainConfig
    net: Network
    data: datasets.Split
    kind: ObjectiveKind
    params0: NetworkParams
    key0: Array
    step: Callable[[dict[str, Any], Array, Array], dict[str, Any]]
    state0: dict[str, Any]
    to_params: Callable[[dict[str, Any]], NetworkParams]
    evaluate: Callable[[NetworkParams], dict[str, float]]


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of :func:`train`: metrics rows (``steps + 1``), final parameters and the summary.

    :meth:`to_frame` gives the metrics as a pandas DataFrame (the rows of ``metrics.csv``), :meth:`from_folder`
    reads a run's folder back (``summary.json``, ``metrics.csv``, ``params.npz``).
    """

    metrics: list[dict[str, float]]
    params: NetworkParams
    summary: dict[str, Any]
    net: Network

    def to_frame(self) -> Any:
        """The metrics as a pandas DataFrame: a ``step`` column, then one float column per metric (as
        ``metrics.csv``). pandas is imported here."""
        from dqnn import _frames

        return _frames.frame([{"step": t, **r} for t, r in enumerate(self.metrics)], _metrics_schema(self.metrics))

    @staticmethod
    def read_csv(path: str | os.PathLike[str]) -> Any:
        """A run's ``metrics.csv`` (or ``to_frame().to_csv(path, index=False)``; a folder: its ``metrics.csv``)
        as :meth:`to_frame`'s frame."""
        from dqnn import _frames

        p = Path(path)
        p = p / "metrics.csv" if p.is_dir() else p
        return _frames.read_csv(p, _metrics_schema(read_metrics(p)))

    @classmethod
    def from_folder(cls, path: str | os.PathLike[str]) -> TrainResult:
        """The result of the run written to folder ``path`` by :func:`train` (``summary.json``, ``metrics.csv``,
        ``params.npz``); the network is rebuilt from the configuration in the summary."""
        folder = Path(path)
        summary = json.loads((folder / "summary.json").read_text())
        if "runs" in summary:
            raise ValueError(f"{folder} holds a sweep (summary.json lists runs); read one run's folder instead")
        config = TrainConfig(**summary["config"])
        net = make_network(config.method, config.widths, config.depth)
        template = jax.eval_shape(net.init, jax.random.key(0))
        params = load_params(folder / "params.npz", template)
        return cls(read_metrics(folder / "metrics.csv"), params, summary, net)


def _metrics_schema(rows: list[dict[str, float]]) -> dict[str, str]:
    return {"step": "int"} | {k: "float" for k in (rows[0] if rows else {})}


def make_data(config: TrainConfig, key: Array) -> datasets.Split:
    """The task's train/test split for ``config`` from the data key."""
    n = config.widths[0]
    if config.task == "unitary":
        return datasets.unitary_data(key, n, config.pairs, config.test_pairs)[1]
    if config.task == "noisy-unitary":
        return datasets.noisy_unitary_data(key, n, config.pairs, config.test_pairs, config.noise)[1]
    return datasets.ising_data(key, n, config.pairs, config.test_pairs)[0]


def make_network(method: str, widths: tuple[int, ...], depth: int) -> Network:
    """Global Haar perceptrons for ``"pmm"``; global :func:`~dqnn.training.gradient.hea_perceptron` circuits
    of ``depth`` for the gradient methods."""
    if method == "pmm":
        return architectures.global_haar(widths)
    return grad_mod.circuit_network(widths, depth)


Fidelities = Callable[[NetworkParams, Array, Array, Array, Array], tuple[Array, Array]]


@functools.lru_cache(maxsize=16)
def _kernels(
    method: str, widths: tuple[int, ...], depth: int, lr: float, gradient: str, kind: ObjectiveKind
) -> tuple[Network, Callable[..., Any], Fidelities]:
    """Network, jitted update and jitted per-pair fidelities, shared by runs of the same structure.

    Data and parameters are arguments, never baked-in constants, so one compilation serves every seed
    (and every data set of the same shape).
    """
    net = make_network(method, widths, depth)

    def fids(params: NetworkParams, xtr: Array, ttr: Array, xte: Array, tte: Array) -> tuple[Array, Array]:
        tr = per_pair_fidelity(net, params, kind, xtr, ttr)
        return tr, per_pair_fidelity(net, params, kind, xte, tte)

    if method == "pmm":
        update: Callable[..., Any] = pmm.make_pmm_update(net, pmm.PMMConfig(eps=lr, eta=1.0))
    else:
        gcfg = grad_mod.GradientConfig(method, lr, gradient)  # type: ignore[arg-type]

        def cost(p: NetworkParams, xs: Array, ts: Array) -> Array:
            return objective(net, p, kind, xs, ts)

        update = grad_mod.make_gradient_update(net, cost, gcfg)
    return net, update, jax.jit(fids)


def _evaluator(
    kind: ObjectiveKind, fids: Fidelities, data: datasets.Split
) -> Callable[[NetworkParams], dict[str, float]]:
    has_test = int(data.test_inputs.shape[0]) > 0
    xte, tte = (data.test_inputs, data.test_targets) if has_test else (data.train_inputs, data.train_targets)

    def evaluate(params: NetworkParams) -> dict[str, float]:
        out = jax.device_get(fids(params, data.train_inputs, data.train_targets, xte, tte))
        tr, te = np.asarray(out[0]), np.asarray(out[1])
        row = {
            "cost": float(1.0 - np.mean(tr)),
            "train_fidelity": float(np.mean(tr)),
            "test_fidelity": float(np.mean(te)) if has_test else float("nan"),
        }
        if kind == "label":
            row["train_accuracy"] = accuracy(tr)
            row["test_accuracy"] = accuracy(te) if has_test else float("nan")
        return row

    return evaluate


def _batch(state: dict[str, Any], n: int, size: int | None) -> tuple[dict[str, Any], Array | None]:
    """Draw a mini-batch of ``size`` of ``n`` indices from the state's raw key data (advancing it)."""
    if size is None or size >= n:
        return state, None
    key, sub = jax.random.split(jax.random.wrap_key_data(jnp.asarray(state["key"])))
    idx = jax.random.choice(sub, n, (size,), replace=False)
    return {**state, "key": jax.random.key_data(key)}, idx


def prepare(config: TrainConfig) -> Problem:
    """Build the network, data, initial state and jitted update for ``config`` (all from ``config.seed``)."""
    k_data, k_init, k_run = jax.random.split(jax.random.key(config.seed), 3)
    kind = config.objective_kind
    net, update, fids = _kernels(
        config.method, config.widths, config.depth, config.learning_rate, config.gradient, kind
    )
    data = make_data(config, k_data)
    params0 = net.init(k_init)
    x, t = data.train_inputs, data.train_targets
    n = int(x.shape[0])
    key_data = jax.random.key_data(k_run)

    if config.method == "pmm":
        obs = observable_factors(kind, t, net.num_outputs)
        state0: dict[str, Any] = {"params": params0, "key": key_data}

        def step(state: dict[str, Any], xs: Array, ts: Array) -> dict[str, Any]:
            del ts  # PMM propagates the fidelity observables made from the targets above
            st, idx = _batch(state, n, config.batch)
            xb, ob = (xs, obs) if idx is None else (xs[idx], obs[idx])
            return {**st, "params": update(st["params"], xb, ob)[0]}

        def to_params(state: dict[str, Any]) -> NetworkParams:
            return state["params"]

    else:
        theta0 = grad_mod.flatten_angles(net, params0)
        opt = grad_mod.make_optimizer(grad_mod.GradientConfig(config.method, config.learning_rate))  # type: ignore[arg-type]
        state0 = {"theta": theta0, "opt": opt.init(theta0), "key": key_data}

        def step(state: dict[str, Any], xs: Array, ts: Array) -> dict[str, Any]:
            st, idx = _batch(state, n, config.batch)
            xb, tb = (xs, ts) if idx is None else (xs[idx], ts[idx])
            theta, opt_state, _ = update(st["theta"], st["opt"], params0, xb, tb)
            return {**st, "theta": theta, "opt": opt_state}

        def to_params(state: dict[str, Any]) -> NetworkParams:
            return grad_mod.unflatten_angles(net, params0, state["theta"])

    return Problem(config, net, data, kind, params0, k_run, step, state0, to_params, _evaluator(kind, fids, data))


# ----------------------------------------------------------------------------------------------- on disk
# parameters as named arrays live in the model (dqnn.model.params_io); re-exported here for old imports


def _metric_names(kind: ObjectiveKind) -> list[str]:
    names = ["cost", "train_fidelity", "test_fidelity"]
    return names + (["train_accuracy", "test_accuracy"] if kind == "label" else [])


def save_checkpoint(
    path: Path, config: TrainConfig, step: int, state: dict[str, Any], rows: list[dict[str, float]], seconds: float
) -> None:
    """Atomically write the run state (pytree leaves, PRNG key, metrics, elapsed time) to ``path``
    (:func:`dqnn.training.folders.save_state`, the format of :func:`~dqnn.training.fit`'s checkpoints)."""
    save_state(path, config.to_dict(), step, state, rows, seconds)


def load_checkpoint(
    path: Path, config: TrainConfig, template: dict[str, Any]
) -> tuple[int, dict[str, Any], list[dict[str, float]], float]:
    """``(step, state, metric rows, seconds)`` from ``path`` (:func:`dqnn.training.folders.load_state`).

    ValueError if it was made with another config (only ``steps`` and ``checkpoint_every`` may differ, so that a
    finished run can be continued) or is beyond ``config.steps``; a damaged file or one that does not fit
    ``template`` is never resumed from: one :class:`~dqnn.training.folders.ResumeWarning` and a fresh start.
    """
    step, state, rows, seconds, _ = load_state(path, config.to_dict(), template)
    return step, state, rows, seconds


# ----------------------------------------------------------------------------------------------- runs


def summarise(config: TrainConfig, rows: list[dict[str, float]], seconds: float, net: Network) -> dict[str, Any]:
    """The ``summary.json`` content: final metrics, ``steps``, ``seconds``, ``seed``, configuration, version."""
    from dqnn import __version__

    last = rows[-1]
    out: dict[str, Any] = {
        "train_fidelity": last["train_fidelity"],
        "test_fidelity": last["test_fidelity"],
        "cost": last["cost"],
        "initial_cost": rows[0]["cost"],
    }
    for k in ("train_accuracy", "test_accuracy"):
        if k in last:
            out[k] = last[k]
    out |= {
        "steps": len(rows) - 1,
        "seconds": seconds,
        "seed": config.seed,
        "config": config.to_dict(),
        "learning_rate": config.learning_rate,
        "network": net.describe(),
        "dqnn_version": __version__,
    }
    return out


def train(
    config: TrainConfig,
    out_dir: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    plot: bool = True,
) -> TrainResult:
    """Run (or, with ``resume``, continue from ``out_dir/checkpoint.npz``) the training of ``config``.

    With ``out_dir``: checkpoints every ``checkpoint_every`` steps, then ``metrics.csv``, ``params.npz``,
    ``summary.json`` and (``plot``) ``training.png``. ``progress(step, steps, row)`` is called after each step.
    """
    t0 = time.perf_counter()
    if out_dir is not None:  # refuse another run's folder before anything is compiled
        from dqnn.training.folders import check_folder

        check_folder(Path(out_dir), config.to_dict(), resume)
    prob = prepare(config)
    state = prob.state0
    rows: list[dict[str, float]] = []
    start, spent = 0, 0.0
    ckpt = None if out_dir is None else Path(out_dir) / CHECKPOINT
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    if resume and ckpt is not None and ckpt.exists():
        start, state, rows, spent = load_checkpoint(ckpt, config, prob.state0)
    if not rows:
        rows.append(prob.evaluate(prob.to_params(state)))
    if progress is not None:
        progress(start, config.steps, rows[-1])
    x, t = prob.data.train_inputs, prob.data.train_targets
    for s in range(start + 1, config.steps + 1):
        state = prob.step(state, x, t)
        rows.append(prob.evaluate(prob.to_params(state)))
        if progress is not None:
            progress(s, config.steps, rows[-1])
        if ckpt is not None and (s % config.checkpoint_every == 0 or s == config.steps):
            save_checkpoint(ckpt, config, s, state, rows, spent + time.perf_counter() - t0)
            write_metrics(ckpt.parent / "metrics.csv", rows)
    seconds = spent + time.perf_counter() - t0
    params = prob.to_params(state)
    summary = summarise(config, rows, seconds, prob.net)
    if out_dir is not None:
        out = Path(out_dir)
        write_metrics(out / "metrics.csv", rows)
        save_params(out / "params.npz", params)
        if plot:
            from dqnn.training.plots import training_curve

            summary["plots"] = [str(training_curve(rows, out / "training.png", title=_title(config)))]
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return TrainResult(rows, params, summary, prob.net)


def _title(config: TrainConfig) -> str:
    extra = f", noise {config.noise:g}" if config.task == "noisy-unitary" else ""
    return f"{config.task} {list(config.widths)} {config.method}, N={config.pairs}{extra}, seed {config.seed}"


def sweep(
    config: TrainConfig,
    pairs: list[int],
    noise: list[float] | None = None,
    out_dir: Path | None = None,
    resume: bool = False,
    progress: Callable[[str], Progress] | None = None,
) -> dict[str, Any]:
    """Train ``config`` for every ``N`` in ``pairs`` (and every noise fraction), each in ``out_dir/<run>``.

    Returns (and writes as ``out_dir/summary.json``) the curves: ``pairs``, ``noise``, ``train_fidelity``,
    ``test_fidelity`` (one entry per run, in order), plus ``generalisation.png`` when ``out_dir`` is given.
    """
    noise = [config.noise] if noise is None else noise
    runs: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for f in noise:
        for n in pairs:
            cfg = dataclasses.replace(config, pairs=n, noise=f)
            name = f"pairs-{n}" + (f"_noise-{f:g}" if len(noise) > 1 else "")
            sub = None if out_dir is None else Path(out_dir) / name
            res = train(cfg, sub, resume=resume, progress=None if progress is None else progress(name))
            runs.append({"name": name, "pairs": n, "noise": f} | {k: res.summary[k] for k in _final_keys(res)})
    summary: dict[str, Any] = {
        "runs": runs,
        "pairs": [r["pairs"] for r in runs],
        "noise": [r["noise"] for r in runs],
        "train_fidelity": [r["train_fidelity"] for r in runs],
        "test_fidelity": [r["test_fidelity"] for r in runs],
        "seconds": time.perf_counter() - t0,
        "seed": config.seed,
        "config": config.to_dict(),
    }
    if out_dir is not None:
        from dqnn import __version__
        from dqnn.training.plots import sweep_curve

        summary["dqnn_version"] = __version__
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        plots = []
        if len(pairs) > 1:
            plots.append(sweep_curve(runs, "pairs", out / "generalisation.png", _title(config).split(", N=")[0]))
        if len(noise) > 1:
            plots.append(sweep_curve(runs, "noise", out / "noise.png", _title(config).split(", N=")[0]))
        summary["plots"] = [str(p) for p in plots]
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return summary


def _final_keys(res: TrainResult) -> list[str]:
    keys = ["train_fidelity", "test_fidelity", "train_accuracy", "test_accuracy", "steps", "seconds"]
    return [k for k in keys if k in res.summary]
