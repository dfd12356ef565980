"""The gradient-variance engine: ``Var[d_nu C]`` (Eq. 6) over random initialisations, with honest errors.

A point of a study is a :class:`PointSpec` (architecture, cost, ``n``, depth). For ``fig3a``, ``fig3b`` and
``global`` the gradient is ``d C / d theta_nu`` of the angle named by :class:`~dqnn.problems.GradientProblem`;
for ``pmm`` (Theorem 2) it is ``d_s C`` at ``s = 0`` for parameter-matrix multiplication (Eq. 13),
``V_j^l(s) = exp(i s H_j^l) V_j^l(0)`` applied to every perceptron of a network of global Haar
perceptrons, with independent random Hermitian ``H_j^l`` normalised to ``Tr[H^2] = 2^(m+k)`` (GUE, i.e. a
Gaussian combination of Pauli strings). Since ``d/ds exp(i s H) V |_(s=0) = i H V``, ``d_s C`` is the
directional derivative of ``C`` along the tangent ``{u: i H u}``, evaluated in forward mode.

Sampling is batched with ``jax.vmap`` over initialisations, in chunks sized to a memory budget, and seeded:
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

from dqnn import analytic, architectures
from dqnn._jax import jit_rng
from dqnn.cost import CostKind, cost
from dqnn.gradients import grad_cost, grad_param_shift
from dqnn.network import Network, NetworkParams
from dqnn.problems import GradientProblem, zero_pair
from dqnn.simulate import peak_stored_qubits
from dqnn.statistics import GradientStats, summarise

Method = Literal["autodiff", "shift"]
ARCHS: tuple[str, ...] = ("fig3a", "fig3b", "global", "pmm")
#: Default memory budget for one chunk of vmapped samples (bytes).
DEFAULT_MEMORY_BUDGET = 2 * 2**30
#: Largest vmapped chunk (keeps compiled shapes and per-call latency bounded).
MAX_CHUNK = 256
#: Bytes per sample per stored amplitude: complex128 x (A, B factors) x (primal, tangent) x temporaries.
_BYTES_PER_AMPLITUDE = 16 * 2 * 2 * 4


@dataclass(frozen=True)
class PointSpec:
    """One point of a trainability study: ``arch`` in ``fig3a | fig3b | global | pmm``, cost, width, depth."""

    arch: str
    cost: CostKind
    n: int
    layers: int = 1

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"PointSpec: arch {self.arch!r} is not one of {ARCHS}")
        if self.arch != "pmm":
            self.problem()  # validates the rest
        elif self.n < 1 or self.layers < 1 or self.cost not in ("global", "local"):
            raise ValueError(f"PointSpec: pmm needs n, layers >= 1 and cost global/local, got {self}")

    def problem(self) -> GradientProblem:
        """The :class:`~dqnn.problems.GradientProblem` (not for ``pmm``)."""
        if self.arch == "pmm":
            raise ValueError("PointSpec: the pmm point has no circuit angle; it differentiates s of Eq. (13)")
        return GradientProblem(self.arch, self.n, self.layers, self.cost)  # type: ignore[arg-type]

    def network(self) -> Network:
        """The network of this point."""
        if self.arch == "pmm":
            return architectures.global_haar([self.n] * (self.layers + 1))
        return self.problem().network()

    def data(self) -> tuple[Any, Any]:
        """Inputs and targets (input and target ``|0...0>``)."""
        return zero_pair(self.n, self.cost)

    def key(self, seed: int) -> jax.Array:
        """The PRNG key of this point for a study seed (independent of chunking)."""
        k = jax.random.key(seed)
        for v in (ARCHS.index(self.arch), self.n, self.layers):
            k = jax.random.fold_in(k, v)
        return k

    def label(self) -> str:
        """E.g. ``fig3a-global-n4-L1``."""
        return f"{self.arch}-{self.cost}-n{self.n}-L{self.layers}"


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


def gradient_sampler(spec: PointSpec, method: Method = "autodiff") -> Callable[[jax.Array], jax.Array]:
    """A function ``keys (c,) -> gradients (c,)``: one random initialisation per key.

    Two jitted programs: the random draws (:func:`dqnn._jax.jit_rng`, fast to compile) and the
    simulation (default XLA options, fast to run).
    """
    net = spec.network()
    x, t = spec.data()

    def cost_fn(q: NetworkParams) -> jax.Array:
        return cost(net, q, x, t, spec.cost)

    if spec.arch == "pmm":

        def draw(key: jax.Array) -> tuple[NetworkParams, NetworkParams]:
            k1, k2 = jax.random.split(key)
            p = net.init(k1)
            return p, _pmm_tangent(net, p, k2)

        def grad_pmm(p: NetworkParams, tangent: NetworkParams) -> jax.Array:
            return jax.jvp(cost_fn, (p,), (tangent,))[1]

        draws = jit_rng(jax.vmap(draw))
        grads = jax.jit(jax.vmap(grad_pmm))
        return lambda keys: grads(*draws(keys))

    idx = spec.problem().angle_index(net)

    def grad(p: NetworkParams) -> jax.Array:
        if method == "autodiff":
            return grad_cost(net, p, x, t, spec.cost, idx)
        return grad_param_shift(cost_fn, p, idx)

    inits = jit_rng(jax.vmap(net.init))
    grad_fn = jax.jit(jax.vmap(grad))
    return lambda keys: grad_fn(inits(keys))


def chunk_size(spec: PointSpec, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many initialisations to vmap at once so that one chunk stays within ``memory_budget`` bytes."""
    per = _BYTES_PER_AMPLITUDE * 2 ** peak_stored_qubits(spec.network())
    return int(max(1, min(samples, memory_budget // per, MAX_CHUNK)))


Engine = Literal["auto", "full", "lightcone", "components"]


def uses_lightcone(spec: PointSpec, method: Method, engine: Engine) -> bool:
    """Whether ``engine`` (``"auto"``: local costs of fig3a/fig3b with autodiff) picks the light-cone sampler."""
    return pick_engine(spec, method, engine) == "lightcone"


def pick_engine(spec: PointSpec, method: Method, engine: Engine = "auto") -> str:
    """The sampler ``engine`` resolves to: ``"full"``, ``"lightcone"`` or ``"components"``.

    ``"auto"`` picks light cones (:mod:`dqnn.lightcone`) for local costs of fig3a/fig3b, and independent
    components (:mod:`dqnn.components`) for global costs of networks that split (fig3a), both with
    autodiff; otherwise the full simulator. All three give the same samples for the same keys.
    """
    if engine != "auto":
        return engine
    if method != "autodiff" or spec.arch == "pmm":
        return "full"
    if spec.cost == "local" and spec.arch in ("fig3a", "fig3b"):
        return "lightcone"
    if spec.cost == "global" and spec.arch == "fig3a":
        return "components"
    return "full"


def sampler(
    spec: PointSpec,
    samples: int,
    method: Method = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    engine: Engine = "auto",
) -> tuple[Callable[[jax.Array], jax.Array], int]:
    """The jitted ``keys (c,) -> gradients (c,)`` of the engine :func:`pick_engine` resolves to, and its chunk ``c``."""
    which = pick_engine(spec, method, engine)
    if which == "lightcone":
        from dqnn import lightcone

        return lightcone.gradient_sampler(spec), lightcone.chunk_size(spec, samples, memory_budget)
    if which == "components":
        from dqnn import components

        return components.gradient_sampler(spec), components.chunk_size(spec, samples, memory_budget)
    if which != "full":
        raise ValueError(f"sample_gradients: engine {engine!r} is not auto, full, lightcone or components")
    return gradient_sampler(spec, method), chunk_size(spec, samples, memory_budget)


def sample_gradients(
    spec: PointSpec,
    samples: int,
    seed: int = 0,
    method: Method = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int], None] | None = None,
    engine: Engine = "auto",
) -> np.ndarray:
    """``samples`` gradients (S,) at independent random initialisations, seeded and chunked.

    ``engine="lightcone"`` evaluates each local term of Eq. (4) on its backward light cone only
    (:mod:`dqnn.lightcone`), ``"components"`` the global cost component by component
    (:mod:`dqnn.components`); same keys, same samples. ``"auto"``: :func:`pick_engine`.
    ``progress(k)`` is called after each chunk with the number of samples done so far.
    """
    if samples < 1:
        raise ValueError(f"sample_gradients: samples must be >= 1, got {samples}")
    keys = jax.random.split(spec.key(seed), samples)
    fn, c = sampler(spec, samples, method, memory_budget, engine)
    out = np.empty(samples)
    for start in range(0, samples, c):
        chunk = keys[start : start + c]
        m = chunk.shape[0]
        if m < c:  # pad to the compiled shape
            chunk = jnp.concatenate([chunk, keys[: c - m]])
        out[start : start + m] = np.asarray(fn(chunk))[:m]
        if progress is not None:
            progress(start + m)
    return out


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


def variance_point(
    spec: PointSpec,
    samples: int,
    seed: int = 0,
    method: Method = "autodiff",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int], None] | None = None,
    engine: Engine = "auto",
) -> tuple[VariancePoint, np.ndarray]:
    """Sample one point and summarise it; returns the point and the raw gradients (S,)."""
    t0 = time.perf_counter()
    g = sample_gradients(spec, samples, seed, method, memory_budget, progress, engine)
    exact = analytic.exact_variance(spec.arch, spec.cost, spec.n)
    return VariancePoint(spec, method, summarise(g), exact, time.perf_counter() - t0), g
