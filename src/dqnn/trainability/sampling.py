"""Sampling ``Var[d_nu C]`` (Eq. 6) over random initialisations: engines chosen from the network's structure.

A gradient to sample is a network, the parameter being differentiated (an :class:`~dqnn.model.angles.AngleIndex`,
or ``None`` for the parameter-matrix-multiplication direction of Theorem 2), one training pair and a cost.
For PMM, ``d_s C`` at ``s = 0`` is taken for ``V_j^l(s) = exp(i s H_j^l) V_j^l(0)`` (Eq. 13) applied to every
perceptron, with independent random Hermitian ``H_j^l`` normalised to ``Tr[H^2] = 2^(m+k)`` (GUE, i.e. a
Gaussian combination of Pauli strings). Since ``d/ds exp(i s H) V |_(s=0) = i H V``, ``d_s C`` is the
directional derivative of ``C`` along the tangent ``{u: i H u}``, evaluated in forward mode.

Engines (:func:`pick_engine`), all giving the same samples for the same keys: light cones
(:mod:`dqnn.sim.cone_gradients`) for a local cost of product states whose terms see less than the whole network,
independent components (:mod:`dqnn.sim.components`) for a global cost of product states on a network that
splits, else the full simulator (with the packed pass of :mod:`dqnn.sim.packed` for real circuits).

A study point of the paper's architectures is a :class:`PointSpec`, which names a preset of
:mod:`dqnn.presets.registry` and turns it into that network, parameter and pair. Sampling is batched with
``jax.vmap`` over initialisations, in chunks sized to a memory budget (:mod:`dqnn.sim.chunks`), and seeded:
the same ``(seed, point)`` always gives the same samples, whatever the chunk size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from dqnn._jax import jit_rng
from dqnn.costs import CostKind, cost
from dqnn.gradients import grad_cost, grad_param_shift
from dqnn.model.network import Network, NetworkParams
from dqnn.model.noise import is_noisy
from dqnn.presets.problems import GradientProblem, point_label, zero_pair
from dqnn.presets.registry import PRESETS, preset
from dqnn.sim import components, cone_gradients
from dqnn.sim.chunks import DEFAULT_MEMORY_BUDGET, MAX_CHUNK
from dqnn.sim.chunks import chunk_size as _chunk_size
from dqnn.sim.simulate import peak_stored_qubits
from dqnn.trainability.problem import Gradient, TrainabilityProblem, preset_problem
from dqnn.trainability.statistics import GradientStats, summarise

#: How a circuit angle's derivative is taken: automatic differentiation or the parameter-shift rule.
GradientMethod = Literal["autodiff", "shift"]
Method = GradientMethod  # the older name
#: The preset names a :class:`PointSpec` accepts (:data:`dqnn.presets.registry.PRESETS`).
ARCHS: tuple[str, ...] = tuple(PRESETS)
Engine = Literal["auto", "full", "lightcone", "components"]

__all__ = [
    "ARCHS",
    "DEFAULT_MEMORY_BUDGET",
    "MAX_CHUNK",
    "POINT_COLUMNS",
    "Engine",
    "Gradient",
    "GradientMethod",
    "PointSpec",
    "VariancePoint",
    "chunk_size",
    "gradient_sampler",
    "pick_engine",
    "point_row",
    "random_generator",
    "sample_gradients",
    "sampler",
    "variance_point",
]


def random_generator(key: jax.Array, num_qubits: int) -> jax.Array:
    """A random Hermitian ``H`` (2**q, 2**q) from the GUE, normalised to ``Tr[H^2] = 2**q``."""
    d = 2**num_qubits
    kr, ki = jax.random.split(key)
    g = jax.random.normal(kr, (d, d)) + 1j * jax.random.normal(ki, (d, d))
    h = 0.5 * (g + g.conj().T)
    return h * jnp.sqrt(d / jnp.real(jnp.trace(h @ h)))


def _pmm_tangent(net: Network, params: NetworkParams, key: jax.Array) -> NetworkParams:
    keys = jax.random.split(key, sum(len(layer) for layer in net.layers))
    out = []
    i = 0
    for l, layer in enumerate(net.layers):
        row = []
        for j, p in enumerate(layer):
            h = random_generator(keys[i], p.unitary.num_qubits)
            row.append({"u": 1j * h @ params[l][j]["u"]})
            i += 1
        out.append(tuple(row))
    return tuple(out)


def gradient_sampler(g: Gradient, method: GradientMethod = "autodiff") -> Callable[[jax.Array], jax.Array]:
    """The full simulator's ``keys (c,) -> gradients (c,)``: one random initialisation per key.

    Two jitted programs: the random draws (:func:`dqnn._jax.jit_rng`, fast to compile) and the
    simulation (default XLA options, fast to run).
    """
    net = g.net
    x, t = g.data()

    def cost_fn(q: NetworkParams) -> jax.Array:
        return cost(net, q, x, t, g.cost)

    if g.angle is None:

        def draw(key: jax.Array) -> tuple[NetworkParams, NetworkParams]:
            k1, k2 = jax.random.split(key)
            p = net.init(k1)
            return p, _pmm_tangent(net, p, k2)

        def grad_pmm(p: NetworkParams, tangent: NetworkParams) -> jax.Array:
            return jax.jvp(cost_fn, (p,), (tangent,))[1]

        draws = jit_rng(jax.vmap(draw))
        grads = jax.jit(jax.vmap(grad_pmm))
        return lambda keys: grads(*draws(keys))

    idx = g.angle

    def grad(p: NetworkParams) -> jax.Array:
        if method == "autodiff":
            return grad_cost(net, p, x, t, g.cost, idx)
        return grad_param_shift(cost_fn, p, idx, net)

    inits = jit_rng(jax.vmap(net.init))
    grad_fn = jax.jit(jax.vmap(grad))
    return lambda keys: grad_fn(inits(keys))


def _cones_help(g: Gradient) -> bool:
    """Whether the local terms that depend on the angle see less than the whole network (light cones pay)."""
    assert g.angle is not None
    total = sum(len(layer) for layer in g.net.layers)
    kept = [sum(len(ps) for ps in c.perceptrons) for c in cone_gradients.gradient_groups(g.net, g.angle)]
    return max(kept, default=0) < total


def pick_engine(g: Gradient, method: GradientMethod = "autodiff", engine: Engine = "auto") -> str:
    """The sampler ``engine`` resolves to: ``"full"``, ``"lightcone"`` or ``"components"``.

    ``"auto"`` decides from the structure (module doc): a circuit angle differentiated by autodiff on a product
    pair; then light cones for the local cost when its terms see less than the whole network, components for
    the global cost when the network splits; otherwise the full simulator.
    """
    if engine == "lightcone" and is_noisy(g.net):  # the product-state cone engine holds pure states only
        raise ValueError("engine 'lightcone' takes unitary perceptrons only; this network has noise channels")
    if engine != "auto":
        return engine
    if method != "autodiff" or g.angle is None or g.factors is None:
        return "full"
    if is_noisy(g.net):  # components run the full simulator per part (exact with channels); cones do not
        return "components" if g.cost == "global" and components.splits(g.net) else "full"
    if g.cost == "local" and _cones_help(g):
        return "lightcone"
    if g.cost == "global" and components.splits(g.net):
        return "components"
    return "full"


def chunk_size(g: Gradient, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many initialisations the full simulator vmaps at once within ``memory_budget`` bytes."""
    return _chunk_size(2 ** peak_stored_qubits(g.net), samples, memory_budget)


def sampler(
    g: Gradient,
    samples: int,
    *,
    method: GradientMethod = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    engine: Engine = "auto",
) -> tuple[Callable[[jax.Array], jax.Array], int]:
    """The jitted ``keys (c,) -> gradients (c,)`` of the engine :func:`pick_engine` resolves to, and its chunk ``c``."""
    which = pick_engine(g, method, engine)
    if which in ("lightcone", "components"):
        if g.angle is None or g.factors is None:
            raise ValueError(f"engine {which!r} needs a circuit angle and a pair of product states")
        if (which == "lightcone") != (g.cost == "local"):
            raise ValueError(f"engine {which!r} does not evaluate the {g.cost} cost")
        xf, tf = g.factors
        if which == "lightcone":
            fn = cone_gradients.gradient_sampler(g.net, g.angle, xf, tf)
            return fn, cone_gradients.chunk_size(g.net, g.angle, samples, memory_budget)
        return components.gradient_sampler(g.net, g.angle, xf, tf), components.chunk_size(g.net, samples, memory_budget)
    if which != "full":
        raise ValueError(f"sample_gradients: engine {engine!r} is not auto, full, lightcone or components")
    return gradient_sampler(g, method), chunk_size(g, samples, memory_budget)


def sample_keys(
    fn: Callable[[jax.Array], jax.Array],
    c: int,
    keys: jax.Array,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``fn`` over ``keys`` (S,) in chunks of ``c`` (the last one padded to the compiled shape): gradients (S,),
    or (S, P) for a ``fn`` that returns (c, P) (the per-parameter map).

    ``progress(k)`` is called after each chunk with the number of samples done so far.
    """
    samples = keys.shape[0]
    out: np.ndarray | None = None
    for start in range(0, samples, c):
        chunk = keys[start : start + c]
        m = chunk.shape[0]
        if m < c:  # pad to the compiled shape
            chunk = jnp.concatenate([chunk, keys[: c - m]])
        got = np.asarray(fn(chunk))
        if out is None:
            out = np.empty((samples, *got.shape[1:]))
        out[start : start + m] = got[:m]
        if progress is not None:
            progress(start + m)
    assert out is not None
    return out


@dataclass(frozen=True)
class PointSpec:
    """One point of a study of the paper's architectures: a preset name (``fig3a | fig3b | global | pmm``,
    :data:`dqnn.presets.registry.PRESETS`), cost, width, depth."""

    arch: str
    cost: CostKind
    n: int
    layers: int = 1

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"PointSpec: arch {self.arch!r} is not one of {ARCHS}")
        if preset(self.arch).parameter == "angle":
            self.problem()  # validates the rest
        elif self.n < 1 or self.layers < 1 or self.cost not in ("global", "local"):
            raise ValueError(f"PointSpec: {self.arch} needs n, layers >= 1 and cost global/local, got {self}")

    def problem(self) -> GradientProblem:
        """The :class:`~dqnn.presets.problems.GradientProblem` (not for presets without a circuit angle)."""
        if preset(self.arch).parameter != "angle":
            raise ValueError(f"PointSpec: the {self.arch} point has no circuit angle; it differentiates s of Eq. (13)")
        return GradientProblem(self.arch, self.n, self.layers, self.cost)  # type: ignore[arg-type]

    def as_problem(self) -> TrainabilityProblem:
        """This point's :class:`~dqnn.trainability.problem.TrainabilityProblem` (the preset's, at this depth)."""
        return preset_problem(self.arch, self.cost, self.layers)

    def network(self) -> Network:
        """The network of this point."""
        return preset(self.arch).network(self.n, self.layers)

    def data(self) -> tuple[Any, Any]:
        """Inputs and targets (input and target ``|0...0>``)."""
        return zero_pair(self.n, self.cost)

    def gradient(self) -> Gradient:
        """What this point samples: the preset problem's gradient at width ``n`` (its network, first angle or
        PMM direction, and the pair ``|0...0> -> |0...0>``)."""
        prob = self.as_problem()
        net = self.network()
        return prob.gradient(net, prob.parameters(net)[0])

    def key(self, seed: int) -> jax.Array:
        """The PRNG key of this point for a study seed (the problem's: the preset's ``key_id``, ``n``, depth)."""
        return self.as_problem().key(seed, self.n, self.network())

    def label(self) -> str:
        """E.g. ``fig3a-global-n4-L1`` (:func:`dqnn.presets.problems.point_label`)."""
        return point_label(self.arch, self.cost, self.n, self.layers)


def sample_gradients(
    spec: PointSpec,
    samples: int,
    *,
    seed: int = 0,
    method: GradientMethod = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int], None] | None = None,
    engine: Engine = "auto",
) -> np.ndarray:
    """``samples`` gradients (S,) of a study point at independent random initialisations, seeded and chunked.

    The engine is :func:`pick_engine`'s (or ``engine``); the same keys give the same samples on each.
    ``progress(k)`` is called after each chunk with the number of samples done so far.
    """
    if samples < 1:
        raise ValueError(f"sample_gradients: samples must be >= 1, got {samples}")
    keys = jax.random.split(spec.key(seed), samples)
    fn, c = sampler(spec.gradient(), samples, method=method, memory_budget=memory_budget, engine=engine)
    return sample_keys(fn, c, keys, progress)


#: Column types of a variance point's row (:meth:`VariancePoint.to_frame`, the study's ``variance.csv``):
#: the CSV's columns in order; ``warnings`` joined by `` | ``; ``shots_to_resolve`` may be missing, and ``param``
#: (``L0P0A0``, ``pmm``) and ``engine`` too (a :class:`VariancePoint` of one preset point has neither).
POINT_COLUMNS: dict[str, str] = {
    "arch": "str",
    "cost": "str",
    "n": "int",
    "layers": "int",
    "param": "str",
    "engine": "str",
    "method": "str",
    "samples": "int",
    "mean": "float",
    "mean_stderr": "float",
    "variance": "float",
    "stderr": "float",
    "analytic": "float",
    "kurtosis": "float",
    "relative_error": "float",
    "trusted": "bool",
    "shots_to_resolve": "Int64",
    "seconds": "float",
    "warnings": "str",
}


def point_row(point: dict[str, Any]) -> dict[str, Any]:
    """A point dict as its CSV row: the warnings joined by `` | ``."""
    row = dict(point)
    row["warnings"] = " | ".join(point.get("warnings") or [])
    return row


@dataclass(frozen=True)
class VariancePoint:
    """The measured variance of one point, with its statistics and the paper's value where there is one."""

    spec: PointSpec
    method: str
    stats: GradientStats
    analytic: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict: ``n, layers, samples, mean, variance, stderr, analytic`` and more."""
        s = self.stats
        return {
            "arch": self.spec.arch,
            "cost": self.spec.cost,
            "n": self.spec.n,
            "layers": self.spec.layers,
            "method": self.method,
            "samples": s.samples,
            "mean": s.mean,
            "mean_stderr": s.mean_stderr,
            "variance": s.variance,
            "stderr": s.stderr,
            "analytic": self.analytic,
            "kurtosis": s.kurtosis,
            "relative_error": s.relative_error,
            "trusted": s.trusted,
            "warnings": list(s.warnings),
            "seconds": self.seconds,
        }

    def to_frame(self) -> Any:
        """A one-row pandas DataFrame of :meth:`to_dict` with the columns of :data:`POINT_COLUMNS` (the study's
        CSV row; ``shots_to_resolve``, which the study adds, is missing here). pandas is imported here."""
        from dqnn import _frames

        return _frames.frame([point_row(self.to_dict())], POINT_COLUMNS)


def variance_point(
    spec: PointSpec,
    samples: int,
    *,
    seed: int = 0,
    method: GradientMethod = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int], None] | None = None,
    engine: Engine = "auto",
) -> tuple[VariancePoint, np.ndarray]:
    """Sample one point and summarise it; returns the point and the raw gradients (S,)."""
    t0 = time.perf_counter()
    g = sample_gradients(
        spec, samples, seed=seed, method=method, memory_budget=memory_budget, progress=progress, engine=engine
    )
    exact = preset(spec.arch).exact_variance(spec.cost, spec.n)
    return VariancePoint(spec, method, summarise(g), exact, time.perf_counter() - t0), g
