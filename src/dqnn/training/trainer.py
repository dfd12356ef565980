"""Train any DQNN on any data: :func:`fit` (and :func:`train`, which also runs a canned :class:`TrainConfig`).

What is trained, by ``method``:

- ``"auto"`` (default): every perceptron with a matrix parameter (:class:`~dqnn.model.families.HaarUnitary`) by
  parameter-matrix multiplication (:mod:`~dqnn.training.pmm`, configured by ``pmm`` and ``pmm_optimizer``), and
  every circuit angle by the optax ``optimizer`` (default ``"adam"``); a *mixed* network gets both in each step,
  both computed at the same parameters;
- ``"pmm"``: the matrices only (angles stay as initialised);
- an optax optimiser (``optax.adam(1e-2)``, any ``optax.GradientTransformation``) or the name of one
  (``"adam"``, ``"sgd"``, ``"rmsprop"``, ...; built as ``getattr(optax, name)(lr)``): the angles only.

Angles get exact gradients (``gradient="autodiff"`` or the parameter-shift rule ``"shift"``); Haar blocks of
``RandomUnitary`` elements and Fixed perceptrons are never changed. Data (:mod:`dqnn.training.data`): arrays,
``.npz`` / ``.npy`` files, a :class:`dqnn.datasets.Split`; costs ``"global"``, ``"local"``, ``"observable"``,
``"label"``. Initial parameters: ``params``, else ``network.init(key)`` from ``seed``
(:func:`dqnn.training.networks.from_unitaries` makes given unitaries trainable).

One seed: ``key(seed)`` splits into an initialisation key and the run's key, which draws the mini-batches
(``batch`` pairs without replacement each step). Metrics row ``t`` describes the parameters after ``t`` updates
(row 0: the start): ``cost`` on all training pairs, ``val_cost`` on the validation set (when given), and
``accuracy`` / ``val_accuracy`` for the label cost. ``early_stop`` (:class:`EarlyStop`) ends the run early.

With ``out_dir``: ``checkpoint.npz`` every ``checkpoint_every`` steps (and at the end), ``metrics.csv``,
``params.npz``, ``summary.json`` and ``training.png``. ``resume=True`` continues from the checkpoint and gives
bit-identical metrics and parameters to an uninterrupted run; a folder holding a run of another configuration
(anything but ``steps`` and ``checkpoint_every``) is refused before anything is compiled, and so is a different
number of steps without ``resume``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dqnn._jax import Array
from dqnn.costs import per_pair
from dqnn.model.angles import angle_indices
from dqnn.model.families import Fixed
from dqnn.model.network import Network, NetworkParams
from dqnn.training import folders, pmm, pmm_optim
from dqnn.training import gradient as grad_mod
from dqnn.training import objectives as obj_mod
from dqnn.training.data import TrainData, as_data, check_data, fidelity_observables, observable_factors

#: A progress callback: ``(step, total_steps, metrics row)``.
Progress = Callable[[int, int, dict[str, float]], None]
DEFAULT_LR = 0.05


@dataclass(frozen=True)
class EarlyStop:
    """Stop when the monitored cost reaches ``target``, or has not fallen by more than ``tol`` below its best value
    for ``patience`` consecutive steps. ``monitor``: ``"cost"``, ``"val_cost"`` or ``"auto"`` (the validation cost
    when there is a validation set)."""

    tol: float = 0.0
    patience: int | None = None
    target: float | None = None
    monitor: str = "auto"

    def __post_init__(self) -> None:
        if self.tol < 0:
            raise ValueError(f"EarlyStop: tol={self.tol} must be >= 0")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"EarlyStop: patience={self.patience} must be >= 1")
        if self.monitor not in ("auto", "cost", "val_cost"):
            raise ValueError(f"EarlyStop: monitor {self.monitor!r} is not 'auto', 'cost' or 'val_cost'")
        if self.patience is None and self.target is None:
            raise ValueError("EarlyStop: give a target cost, a patience, or both")

    def reason(self, rows: list[dict[str, float]], key: str) -> str | None:
        """Why to stop after the last row (None: go on)."""
        c = rows[-1][key]
        if self.target is not None and c <= self.target:
            return f"{key} {c:.3e} <= target {self.target:g}"
        if self.patience is not None and len(rows) > self.patience:
            best_before = min(r[key] for r in rows[: -self.patience])
            recent = min(r[key] for r in rows[-self.patience :])
            if recent > best_before - self.tol:
                return f"{key} fell by less than tol={self.tol:g} in {self.patience} steps"
        return None


@dataclass(frozen=True, eq=False)
class FitResult:
    """Outcome of :func:`fit`: metrics rows (row ``t`` after ``t`` updates), final parameters, the summary
    (``summary.json``), the network, and why the run stopped early (None when it ran all steps)."""

    metrics: list[dict[str, float]]
    params: NetworkParams
    summary: dict[str, Any]
    net: Network
    stopped: str | None = None

    def to_frame(self) -> Any:
        """The metrics as a pandas DataFrame: ``step``, then one float column per metric (as ``metrics.csv``)."""
        from dqnn import _frames

        schema = {"step": "int"} | {k: "float" for k in (self.metrics[0] if self.metrics else {})}
        return _frames.frame([{"step": t, **r} for t, r in enumerate(self.metrics)], schema)


def _resolve_method(method: Any, optimizer: Any, lr: float | None) -> tuple[bool, bool, Any, str]:
    """``(train matrices, train angles, optax transformation or None, description)``."""
    if isinstance(method, optax.GradientTransformation):
        return False, True, method, "optax (user transformation)"
    if not isinstance(method, str):
        raise TypeError(
            f"method: expected 'auto', 'pmm', an optax name or optax.GradientTransformation, got {method!r}"
        )
    if method in ("auto", "pmm"):
        opt = optimizer if method == "auto" else None
        if opt is None and method == "auto":
            opt = "adam"
        tx, desc = (None, "") if opt is None else _optax(opt, lr, "optimizer")
        return True, method == "auto", tx, f"{method}" + (f" + {desc}" if desc else "")
    tx, desc = _optax(method, lr, "method")
    return False, True, tx, desc


def _optax(opt: Any, lr: float | None, name: str) -> tuple[Any, str]:
    if isinstance(opt, optax.GradientTransformation):
        return opt, "optax (user transformation)"
    if not isinstance(opt, str):
        raise TypeError(f"{name}: expected an optax name or GradientTransformation, got {type(opt).__name__}")
    fn = getattr(optax, opt, None)
    if fn is None or not callable(fn) or opt.startswith("_"):
        raise ValueError(f"{name} {opt!r} is neither 'auto', 'pmm' nor an optax optimiser (e.g. 'adam', 'sgd')")
    rate = DEFAULT_LR if lr is None else float(lr)
    if not rate > 0:
        raise ValueError(f"lr={lr} must be > 0")
    try:
        tx = _named_optax(opt, rate)
    except TypeError as err:
        raise ValueError(f"{name} {opt!r}: optax.{opt}(learning_rate) failed ({err})") from err
    if not isinstance(tx, optax.GradientTransformation):
        raise ValueError(f"{name} {opt!r}: optax.{opt}({rate}) is not a GradientTransformation")
    return tx, f"optax.{opt}({rate:g})"


@functools.lru_cache(maxsize=32)
def _named_optax(name: str, rate: float) -> Any:
    """``optax.<name>(rate)``, one object per (name, rate), so that runs share compiled steps."""
    return getattr(optax, name)(rate)


def _hash_tree(tree: Any) -> str:
    h = hashlib.sha256()
    for leaf in jax.tree.leaves(tree):
        a = np.ascontiguousarray(np.asarray(leaf))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _network_fingerprint(net: Network) -> str:
    """SHA-256 of the widths and every perceptron's wires and family (a Fixed matrix by its bytes); computes nothing."""
    h = hashlib.sha256(repr(net.widths).encode())
    for layer in net.layers:
        for p in layer:
            h.update(f"{p.inputs}{p.outputs}{type(p.unitary).__name__}".encode())
            if isinstance(p.unitary, Fixed):
                h.update(np.ascontiguousarray(p.unitary.unitary).tobytes())
            else:
                h.update(repr(p.unitary).encode())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class _Prepared:
    x: Array
    facs: Array
    sim_kind: str
    sim_targets: Array
    offsets: Array
    obs: Array


def _prepare_split(cost: str, x: np.ndarray, t: np.ndarray, n_out: int, need_factors: bool) -> _Prepared:
    pis, offsets = fidelity_observables(cost, t, n_out)
    projector = cost == "observable" or (cost == "global" and t.ndim == 3)
    sim_kind = "projector" if projector else cost
    sim_targets = pis if projector else t
    obs = np.zeros((0,))
    facs = jnp.zeros((0,))
    if need_factors:
        obs = observable_factors(pis) if projector else np.asarray(obj_mod.observable_factors(cost, t, n_out))  # type: ignore[arg-type]
        facs = jax.jit(pmm.input_factors)(jnp.asarray(x))
    return _Prepared(jnp.asarray(x), facs, sim_kind, jnp.asarray(sim_targets), jnp.asarray(offsets), jnp.asarray(obs))


def _pair_fidelity(net: Network, params: NetworkParams, kind: str, x: Array, t: Array) -> Array:
    """``Tr[Pi_x rho_x]`` (N,) for the prepared targets."""
    if kind == "projector":
        return per_pair(net, params, x, t, "observable")
    return obj_mod.per_pair_fidelity(net, params, kind, x, t)  # type: ignore[arg-type]


def _config(
    net: Network,
    params0: NetworkParams | None,
    data: TrainData,
    cost: str,
    desc: str,
    train_m: bool,
    train_a: bool,
    pmm_cfg: pmm.PMMConfig,
    popt: pmm_optim.PMMOptimizer,
    gradient: str,
    seed: int,
    steps: int,
    batch: int | None,
    early_stop: EarlyStop | None,
    checkpoint_every: int,
) -> dict[str, Any]:
    return {
        "network": net.describe(),
        "network_fingerprint": _network_fingerprint(net),
        "params_fingerprint": None if params0 is None else _hash_tree(params0),
        "data_fingerprint": data.fingerprint(),
        "num_pairs": data.num_pairs,
        "num_validation": 0 if data.val_inputs is None else int(data.val_inputs.shape[0]),
        "cost": cost,
        "method": desc,
        "train_matrices": train_m,
        "train_angles": train_a,
        "pmm": asdict(pmm_cfg) if train_m else None,
        "pmm_optimizer": asdict(popt) if train_m else None,
        "gradient": gradient if train_a else None,
        "seed": seed,
        "steps": steps,
        "batch": batch,
        "early_stop": None if early_stop is None else asdict(early_stop),
        "checkpoint_every": checkpoint_every,
    }


@functools.lru_cache(maxsize=32)
def _programs(
    net: Network,
    sim_kind: str,
    val_kind: str | None,
    train_m: bool,
    train_a: bool,
    pmm_cfg: pmm.PMMConfig,
    popt: pmm_optim.PMMOptimizer,
    tx: Any,
    gradient: str,
    batch: int | None,
    n: int,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The jitted step ``(state, arrays) -> state`` and per-pair fidelities, shared by runs of the same structure
    (data, parameters and optimiser states are arguments, so one compilation serves every seed and data set)."""
    rules = None
    if train_a:
        rules = grad_mod.check_angles(net, grad_mod.GradientConfig("adam", 0.1, gradient))  # type: ignore[arg-type]

    def batch_cost(p: NetworkParams, x: Array, t: Array, c: Array) -> Array:
        return jnp.mean(c - _pair_fidelity(net, p, sim_kind, x, t))

    def step_fn(state: dict[str, Any], arrays: tuple[Array, ...]) -> dict[str, Any]:
        x, facs, t, c, obs = arrays
        p = state["params"]
        new_state = dict(state)
        if batch is not None and batch < n:
            key, sub = jax.random.split(jax.random.wrap_key_data(state["key"]))
            idx = jax.random.choice(sub, n, (batch,), replace=False)
            new_state["key"] = jax.random.key_data(key)
            x, t, c = x[idx], t[idx], c[idx]
            if train_m:
                facs, obs = facs[idx], obs[idx]
        nb = n if batch is None else batch
        t_next = state["t"] + 1
        new_p = p
        if train_m:
            _, gens = pmm.generators_from_factors(net, p, facs, obs)
            new_p, new_state["pmm"] = pmm_optim.update(net, p, gens, nb, pmm_cfg, popt, state["pmm"], t_next)
        if train_a:
            theta = grad_mod.flatten_angles(net, p)
            _, g = grad_mod.angle_grad(
                lambda th: batch_cost(grad_mod.unflatten_angles(net, p, th), x, t, c),
                theta,
                gradient,  # type: ignore[arg-type]
                rules,
            )
            upd, new_state["opt"] = tx.update(g, state["opt"], theta)
            new_p = grad_mod.unflatten_angles(net, new_p, optax.apply_updates(theta, upd))
        new_state["params"] = new_p
        new_state["t"] = t_next
        return new_state

    def fids(p: NetworkParams, x: Array, t: Array, *val: Array) -> tuple[Array, Array]:
        f = _pair_fidelity(net, p, sim_kind, x, t)
        if val_kind is None:
            return f, jnp.zeros((0,))
        return f, _pair_fidelity(net, p, val_kind, val[0], val[1])

    return jax.jit(step_fn), jax.jit(fids)


def fit(
    network: Network,
    data: Any,
    *,
    cost: str = "global",
    method: Any = "auto",
    optimizer: Any = None,
    lr: float | None = None,
    pmm_config: pmm.PMMConfig | None = None,
    pmm_optimizer: pmm_optim.PMMOptimizer | None = None,
    gradient: str = "autodiff",
    params: NetworkParams | None = None,
    seed: int = 0,
    steps: int = 100,
    batch: int | None = None,
    validation: Any = None,
    early_stop: EarlyStop | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    checkpoint_every: int = 25,
    progress: Progress | None = None,
    plot: bool = True,
    twin: Network | None = None,
) -> FitResult:
    """Train ``network`` on ``data`` (module docstring); returns a :class:`FitResult`.

    ``data``: :class:`~dqnn.training.data.TrainData`, a path (``.npz``), ``(inputs, targets)``, or a
    :class:`dqnn.datasets.Split` (its test part is the validation set); ``validation``: ``(inputs, targets)``.
    ``pmm_config``: :class:`~dqnn.training.pmm.PMMConfig` (step, ``eta = 1/lambda``, text or code convention);
    ``pmm_optimizer``: :class:`~dqnn.training.pmm_optim.PMMOptimizer` (plain, momentum, RMSprop, Adam, Nadam).
    ``twin``: a network with the same parameters (e.g. the noiseless twin of a noisy network,
    :func:`dqnn.model.noise.noiseless`) whose training cost at every step is logged beside, as ``twin_cost``.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network: expected a dqnn Network, got {type(network).__name__}")
    for name, v in (("steps", steps), ("checkpoint_every", checkpoint_every)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name}={v} must be an integer >= 1")
    if gradient not in ("autodiff", "shift"):
        raise ValueError(f"gradient {gradient!r} is not 'autodiff' or 'shift'")
    pmm_cfg = pmm.PMMConfig() if pmm_config is None else pmm_config
    popt = pmm_optim.PMMOptimizer() if pmm_optimizer is None else pmm_optimizer
    train_m, train_a, tx, desc = _resolve_method(method, optimizer, lr)
    has_m = any(pmm.trainable(p) for layer in network.layers for p in layer)
    has_a = bool(angle_indices(network))
    if method == "pmm" and not has_m:
        pmm.check_trainable(network)
    if not isinstance(method, str) or method not in ("auto", "pmm"):
        if not has_a:
            raise ValueError(f"method {desc}: the network has no circuit angle to train")
    train_m, train_a = train_m and has_m, train_a and has_a
    if not (train_m or train_a):
        raise ValueError(
            "the network has nothing to train: no perceptron with a matrix parameter (e.g. HaarUnitary) and no "
            "circuit angle (dqnn.training.networks.trainable makes Fixed perceptrons trainable)"
        )
    if twin is not None and not (isinstance(twin, Network) and twin.widths == network.widths):
        raise ValueError("twin: expected a dqnn Network with the widths and parameters of network")
    d = check_data(as_data(data, validation), network, cost)
    n = d.num_pairs
    if batch is not None and not (int(batch) == batch and 1 <= batch <= n):
        raise ValueError(f"batch={batch} must be an integer in [1, {n}] (the number of training pairs)")
    if early_stop is not None and early_stop.monitor == "val_cost" and not d.has_validation:
        raise ValueError("early_stop: monitor='val_cost' needs a validation set")
    k_init, k_run = jax.random.split(jax.random.key(seed))
    if train_a:
        grad_mod.check_angles(network, grad_mod.GradientConfig("adam", 0.1, gradient))  # type: ignore[arg-type]
    config = _config(
        network,
        params,
        d,
        cost,
        desc,
        train_m,
        train_a,
        pmm_cfg,
        popt,
        gradient,
        seed,
        steps,
        batch,
        early_stop,
        checkpoint_every,
    )
    if twin is not None:  # (only then: a run without a twin keeps the configuration it always had)
        config["twin_fingerprint"] = _network_fingerprint(twin)
    out = None if out_dir is None else Path(out_dir)
    ckpt = None if out is None else out / folders.CHECKPOINT
    if out is not None:
        folders.check_folder(out, config, resume)  # before anything is compiled
    template = None if params is None else jax.tree.structure(jax.eval_shape(network.init, k_init))
    if params is not None and str(jax.tree.structure(params)) != str(template):
        raise ValueError("params: the structure does not match network.init's (params[l][j] per perceptron)")
    params0 = network.init(k_init) if params is None else params

    # ------------------------------------------------------------------ programs
    n_out = network.num_outputs
    tr = _prepare_split(cost, d.inputs, d.targets, n_out, train_m)
    va = None
    if d.has_validation:
        assert d.val_inputs is not None and d.val_targets is not None
        va = _prepare_split(cost, d.val_inputs, d.val_targets, n_out, False)
    net = network
    label = cost == "label"
    step_jit, fids_jit = _programs(
        net,
        tr.sim_kind,
        None if va is None else va.sim_kind,
        train_m,
        train_a,
        pmm_cfg,
        popt,
        tx,
        gradient,
        batch,
        n,
    )
    twin_fids = None
    if twin is not None:  # jitted lazily: only its fidelity program is ever compiled
        twin_fids = _programs(twin, tr.sim_kind, None, False, train_a, pmm_cfg, popt, tx, gradient, batch, n)[1]
    val_args = () if va is None else (va.x, va.sim_targets)
    off_tr = np.asarray(tr.offsets)
    off_va = None if va is None else np.asarray(va.offsets)

    def evaluate(p: NetworkParams) -> dict[str, float]:
        a, b = jax.device_get(fids_jit(p, tr.x, tr.sim_targets, *val_args))
        a, b = np.asarray(a), np.asarray(b)
        row = {"cost": float(np.mean(off_tr - a))}
        if twin_fids is not None:
            tw = np.asarray(jax.device_get(twin_fids(p, tr.x, tr.sim_targets))[0])
            row["twin_cost"] = float(np.mean(off_tr - tw))
        if off_va is not None:
            row["val_cost"] = float(np.mean(off_va - b))
        if label:
            row["accuracy"] = obj_mod.accuracy(a)
            if off_va is not None:
                row["val_accuracy"] = obj_mod.accuracy(b)
        return row

    theta0 = grad_mod.flatten_angles(net, params0)
    state: dict[str, Any] = {
        "params": params0,
        "key": jax.random.key_data(k_run),
        "t": jnp.asarray(0, dtype=jnp.int32),
        "pmm": pmm_optim.init_state(net, params0) if train_m and popt.name != "plain" else {},
        "opt": tx.init(theta0) if train_a else (),
    }
    arrays = (tr.x, tr.facs, tr.sim_targets, tr.offsets, tr.obs)

    # ------------------------------------------------------------------ the run
    t0 = time.perf_counter()
    rows: list[dict[str, float]] = []
    start, spent, stopped = 0, 0.0, None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if resume and ckpt is not None and ckpt.exists():
        start, state, rows, spent, stopped = folders.load_state(ckpt, config, state)
    if not rows:
        rows.append(evaluate(state["params"]))
    monitor = "cost"
    if early_stop is not None:
        monitor = early_stop.monitor if early_stop.monitor != "auto" else ("val_cost" if va is not None else "cost")
    if progress is not None:
        progress(start, steps, rows[-1])
    s = start
    for s in range(start + 1, steps + 1):
        if stopped is not None:
            break
        state = step_jit(state, arrays)
        rows.append(evaluate(state["params"]))
        if early_stop is not None:
            stopped = early_stop.reason(rows, monitor)
        if progress is not None:
            progress(s, steps, rows[-1])
        if ckpt is not None and (s % checkpoint_every == 0 or s == steps or stopped is not None):
            folders.save_state(ckpt, config, s, state, rows, spent + time.perf_counter() - t0, stopped)
            folders.write_metrics(ckpt.parent / "metrics.csv", rows)
    seconds = spent + time.perf_counter() - t0
    final = state["params"]
    summary = _summary(config, rows, seconds, stopped, net)
    if out is not None:
        folders.write_metrics(out / "metrics.csv", rows)
        folders.save_params(out / "params.npz", final)
        if plot:
            from dqnn.training.plots import metrics_curve

            title = f"{list(net.widths)} {desc}, {cost} cost, N={n}, seed {seed}"
            summary["plots"] = [str(metrics_curve(rows, out / "training.png", title=title))]
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return FitResult(rows, final, summary, net, stopped)


def _summary(
    config: dict[str, Any], rows: list[dict[str, float]], seconds: float, stopped: str | None, net: Network
) -> dict[str, Any]:
    from dqnn import __version__

    out: dict[str, Any] = dict(rows[-1])
    out["initial_cost"] = rows[0]["cost"]
    out |= {
        "steps": len(rows) - 1,
        "stopped": stopped,
        "seconds": seconds,
        "seed": config["seed"],
        "config": config,
        "network": net.describe(),
        "dqnn_version": __version__,
    }
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def train(what: Any, *args: Any, **kwargs: Any) -> Any:
    """``train(network, data, cost=..., method=..., ...)``: :func:`fit`; ``train(config, out_dir, ...)`` with a
    :class:`~dqnn.training.loop.TrainConfig`: the canned task run of :func:`dqnn.training.loop.train`."""
    from dqnn.training import loop

    if isinstance(what, loop.TrainConfig):
        return loop.train(what, *args, **kwargs)
    if isinstance(what, Network):
        return fit(what, *args, **kwargs)
    raise TypeError(f"train: expected a dqnn Network or a TrainConfig, got {type(what).__name__}")


__all__ = ["EarlyStop", "FitResult", "Progress", "fit", "train"]
