"""One point of a study: a problem at one width, its selected parameters sampled (and computed exactly).

A :class:`ProblemPoint` is a :class:`~dqnn.trainability.problem.TrainabilityProblem` at one ``n`` (or ``(n, depth)``
for a family that takes both). :func:`measure` samples the gradients of every selected parameter at the same
``S`` initialisations (keys: :mod:`dqnn.trainability.problem`) and summarises each column
(:func:`dqnn.trainability.statistics.summarise`); with ``exact`` it adds the exact moments
(:mod:`dqnn.moments.exact`) wherever every random element of the network allows them, and records why not
elsewhere.

Engines. One parameter: the engine :func:`dqnn.trainability.sampling.pick_engine` picks from the structure
(light cones, components, packed, full simulator). Several angles: where that engine is the full simulator, one
reverse-mode pass per sample gives every selected angle at once (the *per-parameter map*,
:func:`map_sampler`); where light cones or components apply, each angle runs on them (a local cost's light cone
of one angle is much smaller than the network). Either way the samples of one parameter equal those of a
single-parameter run with the same seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import jax
import numpy as np

from dqnn._jax import jit_rng
from dqnn.costs import cost
from dqnn.model.angles import AngleIndex, get_angle
from dqnn.model.network import Network, NetworkParams
from dqnn.presets.problems import point_label
from dqnn.sim.chunks import DEFAULT_MEMORY_BUDGET
from dqnn.trainability.problem import Gradient, TrainabilityProblem, parameter_label
from dqnn.trainability.sampling import Engine, GradientMethod, chunk_size, pick_engine, sample_keys, sampler
from dqnn.trainability.statistics import summarise

#: ``exact``: ``"auto"`` (wherever the network allows; the reason recorded elsewhere), ``True`` (required: an
#: error where it cannot be computed), ``False`` (never).
ExactMode = Literal["auto", True, False]


@dataclass(frozen=True, eq=False)
class ProblemPoint:
    """``problem`` at width ``n`` (an int, ``(n, depth)`` for a family ``(n, depth) -> Network``, or None for a fixed
    network)."""

    problem: TrainabilityProblem
    n: int | tuple[int, int] | None = None

    @cached_property
    def network(self) -> Network:
        """The network of this point."""
        if isinstance(self.n, tuple):
            if not self.problem.family:
                raise ValueError(f"problem {self.problem.name!r}: a fixed network takes no (n, depth)")
            net = self.problem.network(*self.n)  # type: ignore[operator,call-arg]
            if not isinstance(net, Network):
                raise TypeError(f"problem {self.problem.name!r}: network{self.n} returned {type(net).__name__}")
            return net
        return self.problem.network_at(self.n)

    @property
    def width(self) -> int:
        """The ``n`` of this point (the family's argument, else the network's input width)."""
        if isinstance(self.n, tuple):
            return int(self.n[0])
        return self.problem.width(self.network, self.n)

    @cached_property
    def parameters(self) -> list[AngleIndex | None]:
        """The selected parameters (``None``: the PMM direction)."""
        return self.problem.parameters(self.network)

    def key(self, seed: int) -> jax.Array:
        """The PRNG key of this point (:meth:`TrainabilityProblem.key`)."""
        return self.problem.key(seed, self.width, self.network)

    def label(self) -> str:
        """``<name>-<cost>-n<n>-L<depth>``, plus the problem's fingerprint unless it is a preset's own problem
        (so that resume files of a different network or data are never taken for this one's)."""
        base = point_label(self.problem.name, self.problem.cost, self.width, self.network.depth)
        if self.problem.named:  # a preset: the name says it all
            return base
        return f"{base}-{self.fingerprint}"

    @cached_property
    def fingerprint(self) -> str:
        """The problem's fingerprint at this point's network (:meth:`TrainabilityProblem.fingerprint`), hashed once."""
        return self.problem.fingerprint(self.network)

    @cached_property
    def pair(self) -> tuple[Callable[[], Any], str, Any]:
        """The problem's data at this point's network (:meth:`TrainabilityProblem.pair`), built and checked once."""
        return self.problem.pair(self.network)

    def param_suffix(self, parameter: AngleIndex | None) -> str:
        """``""`` for a preset's own parameter, else ``-<parameter>``: the file-name part of one parameter."""
        return "" if self.problem.named else f"-{parameter_label(parameter)}"

    def gradient(self, parameter: AngleIndex | None) -> Gradient:
        """What is sampled for one parameter (the point's data, shared by its parameters)."""
        data, kind, factors = self.pair
        return Gradient(self.network, parameter, kind, data, factors)  # type: ignore[arg-type]


def map_sampler(g: Gradient, angles: list[AngleIndex]) -> Callable[[jax.Array], jax.Array]:
    """The full simulator's ``keys (c,) -> gradients (c, P)`` of every angle in ``angles`` from one reverse-mode
    pass per initialisation (the per-parameter map); ``g.angle`` is ignored."""
    net = g.net
    x, t = g.data()

    def grads(p: NetworkParams) -> jax.Array:
        d = jax.grad(lambda q: cost(net, q, x, t, g.cost))(p)
        return jax.numpy.stack([get_angle(d, i) for i in angles])

    inits = jit_rng(jax.vmap(net.init))
    fn = jax.jit(jax.vmap(grads))
    return lambda keys: fn(inits(keys))


def map_chunk(g: Gradient, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Initialisations per chunk of :func:`map_sampler`: the full simulator's chunk over twice the depth (reverse
    mode keeps about two states per layer for the backward pass)."""
    return max(1, chunk_size(g, samples, memory_budget) // max(1, 2 * g.net.depth))


def engines(point: ProblemPoint, method: GradientMethod = "autodiff", engine: Engine = "auto") -> list[str]:
    """The engine of each selected parameter (``"map"`` where they share one reverse-mode pass)."""
    params = point.parameters
    picked = [pick_engine(point.gradient(p), method, engine) for p in params]
    if len(params) > 1 and method == "autodiff" and None not in params and all(e == "full" for e in picked):
        return ["map"] * len(params)
    return picked


def sample(
    point: ProblemPoint,
    samples: int,
    *,
    seed: int = 0,
    method: GradientMethod = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    engine: Engine = "auto",
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Gradients (S, P) of the ``P`` selected parameters at ``S`` seeded initialisations, and each one's engine."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    keys = jax.random.split(point.key(seed), samples)
    params = point.parameters
    which = engines(point, method, engine)
    if which[0] == "map":
        g = point.gradient(params[0])
        c = map_chunk(g, samples, memory_budget)
        width = len(params)

        def report_all(k: int) -> None:
            if progress is not None:
                progress(k * width)

        return sample_keys(map_sampler(g, params), c, keys, report_all), which  # type: ignore[arg-type]
    cols = []
    for i, p in enumerate(params):
        fn, c = sampler(point.gradient(p), samples, method=method, memory_budget=memory_budget, engine=engine)
        done = i * samples

        def report(k: int, done: int = done) -> None:
            if progress is not None:
                progress(done + k)

        cols.append(sample_keys(fn, c, keys, report))
    return np.stack(cols, axis=1), which


def exact(point: ProblemPoint, parameter: AngleIndex | None) -> tuple[dict[str, Any] | None, str | None]:
    """Exact moments of one parameter, or ``(None, reason)`` where the network, parameter or data do not allow them:
    :func:`dqnn.moments.exact.exact_gradient_moments` for an angle, :func:`dqnn.moments.pmm.exact_pmm_moments` for
    the PMM direction. The dict is :meth:`~dqnn.moments.exact.ExactMoments.as_dict` (with its verdict ``trusted``,
    ``reason``, ``relative_error`` and the ``log10_*`` values)."""
    from dqnn.moments import ProductStates, exact_gradient_moments
    from dqnn.moments.pmm import exact_pmm_moments

    g = point.gradient(parameter)
    if g.factors is not None:
        xf, tf = g.factors
        x: Any = ProductStates(xf[None])
        t: Any = ProductStates(tf[None]) if g.cost == "global" else tf[None]
    else:
        x, t = g.data()
    try:
        if parameter is None:
            m = exact_pmm_moments(point.network, x, t, g.cost)
        else:
            m = exact_gradient_moments(point.network, parameter, x, t, g.cost)
    except (NotImplementedError, MemoryError, ValueError) as err:
        return None, str(err)
    return m.as_dict(), None


def fourth_moment(point: ProblemPoint, parameter: AngleIndex | None) -> dict[str, Any] | str:
    """Sample-size planning from the exact fourth moment (:func:`dqnn.moments.fourth.exact_fourth_moment`): the
    exact kurtosis and the samples a sampled ``Var`` needs for a 10% relative error; or why it does not apply (a
    string). (:func:`dqnn.moments.fourth.variance_relative_error` gives the error of a run of a given size.)"""
    from dqnn.moments.fourth import exact_fourth_moment

    g = point.gradient(parameter)
    if parameter is None or g.factors is None:
        return "the fourth moment needs a circuit angle and one pair of product states"
    xf, tf = g.factors
    try:
        fm = exact_fourth_moment(point.network, parameter, xf, tf, g.cost)  # type: ignore[arg-type]
    except (NotImplementedError, MemoryError, ValueError) as err:
        return str(err)
    return {
        "kurtosis_exact": fm.kurtosis,
        "samples_needed_10pct": fm.samples_needed(0.1),
        "fourth_moment_seconds": fm.seconds,
    }


def analytic(point: ProblemPoint, parameter: AngleIndex | None) -> float | None:
    """The problem's closed form at this ``n`` (it describes the first selected parameter), else None."""
    cf = point.problem.closed_form
    if cf is None or parameter != point.parameters[0]:
        return None
    return cf(point.width)


def sampled_dict(
    point: ProblemPoint, parameter: AngleIndex | None, g: np.ndarray, method: str, engine: str, seconds: float
) -> dict[str, Any]:
    """The JSON-ready dict of one sampled parameter (:data:`dqnn.trainability.sampling.POINT_COLUMNS`)."""
    s = summarise(g)
    return {
        "arch": point.problem.name,
        "cost": point.problem.cost,
        "n": point.width,
        "layers": point.network.depth,
        "param": parameter_label(parameter),
        "engine": engine,
        "method": method,
        "samples": s.samples,
        "mean": s.mean,
        "mean_stderr": s.mean_stderr,
        "variance": s.variance,
        "stderr": s.stderr,
        "analytic": analytic(point, parameter),
        "kurtosis": s.kurtosis,
        "relative_error": s.relative_error,
        "trusted": s.trusted,
        "warnings": list(s.warnings),
        "seconds": seconds,
    }


def exact_dict(point: ProblemPoint, parameter: AngleIndex | None, ex: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready dict of an exact point (``method`` ``"exact"``, ``samples`` 0, ``stderr`` 0). Untrusted
    (with the engine's reason) when the engine's validated error estimate is too large or the value is not a
    non-negative number (a negative variance is never reported as one: it comes back NaN)."""
    var = ex["variance"]
    trusted = bool(ex.get("trusted", True)) and bool(np.isfinite(var)) and var >= 0
    warns = [] if trusted else [str(ex.get("reason") or f"exact variance {var!r} is not a non-negative number")]
    d = {
        "arch": point.problem.name,
        "cost": point.problem.cost,
        "n": point.width,
        "layers": point.network.depth,
        "param": parameter_label(parameter),
        "engine": "exact",
        "method": "exact",
        "samples": 0,
        "mean": ex["mean"],
        "mean_stderr": 0.0,
        "variance": None if not np.isfinite(var) else var,
        "stderr": 0.0,
        "analytic": analytic(point, parameter),
        "trusted": trusted,
        "warnings": warns,
        "seconds": ex["seconds"],
    }
    for extra in ("relative_error", "log10_variance"):
        if extra in ex:
            d[extra] = ex[extra]
    return d


def measure_sampled(
    point: ProblemPoint,
    samples: int,
    *,
    seed: int = 0,
    method: GradientMethod = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    engine: Engine = "auto",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Sample every selected parameter of ``point``: one dict per parameter and the gradients (S, P)."""
    t0 = time.perf_counter()
    g, which = sample(
        point, samples, seed=seed, method=method, memory_budget=memory_budget, engine=engine, progress=progress
    )
    secs = (time.perf_counter() - t0) / g.shape[1]
    return [sampled_dict(point, p, g[:, i], method, which[i], secs) for i, p in enumerate(point.parameters)], g
