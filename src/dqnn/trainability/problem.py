"""A trainability problem for any DQNN: a network (or a family ``n -> Network``), data, a cost, parameters.

This is what "does MY network have a barren plateau?" is asked about. A :class:`TrainabilityProblem` holds

- ``network``: one :class:`~dqnn.model.network.Network`, or a callable ``n -> Network`` (any widths, wiring,
  k, perceptron order and families) for studies against ``n``;
- ``data``: ``None`` (input ``|0...0>``, target ``|0...0>``), a pair ``(inputs, targets)`` as
  :func:`dqnn.costs.cost` takes them (inputs (N, 2**n_in) vectors or (N, 2**n_in, 2**n_in) density matrices;
  targets per cost: (N, 2**n_out) for ``global``, (N, n_out, 2) qubit factors for ``local``, (N, 2**n_out,
  2**n_out) Hermitian observables for ``observable``, (N,) labels 0/1 for ``label``), or a callable
  ``Network -> (inputs, targets)`` for data that depends on the network's widths;
- ``cost``: ``global`` (Eq. 3), ``local`` (Eq. 4), ``observable`` (``Tr[O_x rho_x]``, any per-sample observable)
  or ``label`` (the supervised cost of states with classical labels, ``1 - Tr[(|y_x><y_x| (x) 1) rho_x]`` on
  output qubit 0, as :func:`dqnn.training.objectives.label_observables`; its gradient is that of the
  observable cost with ``O_x = -|y_x><y_x| (x) 1``, which is how it is computed);
- ``params``: which derivative to sample (:func:`select`): ``"first"`` (the first circuit angle), ``"all"``,
  ``"layer:L"``, ``"perceptron:L,J"``, an :class:`~dqnn.model.angles.AngleIndex` or ``(l, j, a)`` triple or a
  list of them, the text ``"L,J,A;L,J,A"``, or ``"pmm"`` (the parameter-matrix-multiplication direction of
  Theorem 2, for matrix perceptrons).

Random streams. Sample ``i`` of the point at width ``n`` initialises the network with key ``i`` of
``jax.random.split(K, S)``, ``K = fold_in(fold_in(fold_in(key(seed), stream), n), depth)`` (``depth`` the number
of DQNN layers), whatever the engine, chunking or parameter. Every parameter of one point therefore sees the same
initialisations, and a network written by hand gives the same samples as a preset when it is the same network
and uses the preset's ``stream`` (its registry ``key_id``: :data:`dqnn.presets.registry.PRESETS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import jax
import numpy as np

from dqnn.costs import COSTS, CostKind, check_targets
from dqnn.model.angles import AngleIndex, angle_indices, check_index
from dqnn.model.network import Network
from dqnn.model.states import real_or_complex, split_product
from dqnn.presets.registry import preset
from dqnn.spec import fingerprint_network

#: Cost names a problem accepts: the :data:`dqnn.costs.COSTS` kinds plus ``label``.
PROBLEM_COSTS: tuple[str, ...] = (*COSTS, "label")
#: What a parameter selection may be (module doc).
ParamSelection = Union[str, AngleIndex, tuple[int, int, int], Sequence[AngleIndex | tuple[int, int, int]]]  # noqa: UP007
Data = tuple[Any, Any]
_ZERO = np.array([1.0, 0.0], dtype=np.complex128)


@dataclass(frozen=True, eq=False)
class Gradient:
    """What the engines sample: ``d C / d parameter`` of ``net`` for one data set, over random initialisations.

    ``angle`` is the differentiated :class:`~dqnn.model.angles.AngleIndex`, or ``None`` for the PMM direction
    (Theorem 2). The data is given as ``data() -> (inputs, targets)`` as :func:`dqnn.costs.cost` takes them
    (inputs (N, 2**n_in)); it is called only by the engines that need it, so a wide product pair never has
    to be a vector. ``factors`` optionally gives a single pair as qubit factors ``((n_in, 2), (n_out, 2))``
    when both are product states, which lets the light-cone and component engines run.
    """

    net: Network
    angle: AngleIndex | None
    cost: CostKind
    data: Callable[[], tuple[Any, Any]]
    factors: tuple[np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.angle is not None:
            check_index(self.net, self.angle)


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainabilityProblem:
    """``Var[d C / d parameter]`` over random initialisations of a network or network family (module doc).

    ``closed_form(n)`` and ``bound`` are the paper's values where a preset has them (else None); ``name`` labels
    points, files and plots (followed by a fingerprint of the network and data in file names unless ``named``).
    """

    network: Network | Callable[[int], Network]
    cost: str = "global"
    data: Data | Callable[[Network], Data] | None = None
    params: ParamSelection = "first"
    stream: int = 0
    name: str = "network"
    closed_form: Callable[[int], float | None] | None = None
    bound: Any = None
    named: bool = False  # the name alone identifies the network and data (presets): no fingerprint in file names

    def __post_init__(self) -> None:
        if self.cost not in PROBLEM_COSTS:
            raise ValueError(f"TrainabilityProblem: cost {self.cost!r} is not one of {', '.join(PROBLEM_COSTS)}")
        if not isinstance(self.network, Network) and not callable(self.network):
            raise TypeError(
                f"TrainabilityProblem: network must be a Network or a callable n -> Network, got {type(self.network)}"
            )
        if not isinstance(self.stream, int) or isinstance(self.stream, bool) or self.stream < 0:
            raise ValueError(f"TrainabilityProblem: stream must be an integer >= 0, got {self.stream!r}")

    @property
    def family(self) -> bool:
        """Whether the network depends on ``n`` (a callable)."""
        return not isinstance(self.network, Network)

    def network_at(self, n: int | None = None) -> Network:
        """The network at width ``n`` (a fixed network ignores ``n`` only when it is None or its input width)."""
        if isinstance(self.network, Network):
            if n is not None and n != self.network.num_inputs:
                raise ValueError(
                    f"TrainabilityProblem {self.name!r}: the network is fixed (n = {self.network.num_inputs}); "
                    f"got n = {n} (give a callable n -> Network to vary n)"
                )
            return self.network
        if n is None:
            raise ValueError(f"TrainabilityProblem {self.name!r}: the network depends on n; give n")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"TrainabilityProblem {self.name!r}: n must be an integer, got {n!r}")
        net = self.network(int(n))
        if not isinstance(net, Network):
            raise TypeError(f"TrainabilityProblem {self.name!r}: network({n}) returned {type(net).__name__}")
        return net

    def width(self, net: Network, n: int | None) -> int:
        """The ``n`` a point at ``net`` is labelled with: the family's argument, else the input width."""
        return net.num_inputs if n is None else int(n)

    def key(self, seed: int, n: int, net: Network) -> jax.Array:
        """The PRNG key of the point at width ``n`` (module doc: independent of engine, chunk and parameter)."""
        k = jax.random.key(seed)
        for v in (self.stream, n, net.depth):
            k = jax.random.fold_in(k, v)
        return k

    def parameters(self, net: Network) -> list[AngleIndex | None]:
        """The selected parameters of ``net`` (:func:`select`); ``None`` stands for the PMM direction."""
        return select(net, self.params)

    def pair(self, net: Network) -> tuple[Callable[[], Data], str, tuple[np.ndarray, np.ndarray] | None]:
        """``(data() -> (inputs, targets), internal cost kind, factors or None)`` for :class:`Gradient`.

        The default pair is built lazily (a wide ``|0...0>`` is never a vector unless an engine needs one) and
        carries its qubit factors; given data is checked once here, and a single pair of product states gets
        factors too (split by :func:`dqnn.model.states.split_product`), so the light-cone and component engines
        can run on it.
        """
        kind = "observable" if self.cost == "label" else self.cost
        if self.data is None:
            zx = np.tile(_ZERO, (net.num_inputs, 1))
            zt = np.tile(_ZERO, (net.num_outputs, 1))
            return (lambda: zero_data(net, self.cost)), kind, (zx, zt)
        x, t = self.data(net) if callable(self.data) else self.data
        x, t = check_data(net, self.cost, x, t, self.name)
        return (lambda: (x, t)), kind, product_factors(net, kind, x, t)

    def gradient(self, net: Network, parameter: AngleIndex | None) -> Gradient:
        """What the engines sample for one parameter of ``net``."""
        data, kind, factors = self.pair(net)
        return Gradient(net, parameter, kind, data, factors)  # type: ignore[arg-type]

    def fingerprint(self, net: Network) -> str:
        """A short hash of what the numbers of a point depend on: the network's structure and families, the data,
        the cost and the stream (resume files of a different problem are never mistaken for this one's)."""
        h = hashlib.sha256()
        h.update(fingerprint_network(net).encode())
        h.update(f"|{self.cost}|{self.stream}|".encode())
        if self.data is not None:
            x, t = self.data(net) if callable(self.data) else self.data
            for a in (x, t):
                arr = np.ascontiguousarray(np.asarray(a))
                h.update(f"{arr.dtype}{arr.shape}".encode())
                h.update(arr.tobytes())
        return h.hexdigest()[:12]


def zero_data(net: Network, cost: str) -> Data:
    """Input ``|0...0>`` (1, 2**n_in) and the target ``|0...0>`` in the form ``cost`` takes (label: label 0)."""
    x = np.zeros((1, 2**net.num_inputs), dtype=np.complex128)
    x[0, 0] = 1.0
    n_out = net.num_outputs
    if cost == "local":
        return x, np.tile(_ZERO, (1, n_out, 1))
    if cost == "label":
        return x, label_observables(np.zeros(1, dtype=int), n_out)
    t = np.zeros((1, 2**n_out), dtype=np.complex128)
    t[0, 0] = 1.0
    return x, (t if cost == "global" else np.einsum("ni,nj->nij", t, t.conj()))


def label_observables(labels: np.ndarray, num_outputs: int) -> np.ndarray:
    """``-(|y><y| (x) 1)`` on output qubit 0 for labels ``y`` in {0, 1}: (N,) -> (N, 2**n_out, 2**n_out).

    The observable whose ``Tr[O rho]`` is the label cost minus one (same gradient, same variance).
    """
    proj = np.zeros((2, 2, 2), dtype=np.complex128)
    proj[0, 0, 0] = proj[1, 1, 1] = 1.0
    eye = np.eye(2 ** (num_outputs - 1), dtype=np.complex128)
    return -np.stack([np.kron(proj[int(y)], eye) for y in labels])


def check_data(net: Network, cost: str, inputs: Any, targets: Any, name: str) -> Data:
    """Inputs and targets checked against ``net`` and ``cost`` (ValueError naming what is wrong), labels turned
    into their observables (module doc)."""
    x = real_or_complex(np.asarray(inputs))
    d_in = 2**net.num_inputs
    if x.ndim not in (2, 3) or x.shape[1] != d_in or (x.ndim == 3 and x.shape[2] != d_in):
        raise ValueError(
            f"problem {name!r}: inputs must be (N, {d_in}) state vectors or (N, {d_in}, {d_in}) density matrices "
            f"for a network with {net.num_inputs} input qubits, got shape {x.shape}"
        )
    if not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"problem {name!r}: inputs contain NaN or inf")
    if cost == "label":
        y = np.asarray(targets)
        if y.shape != (x.shape[0],) or not np.all(np.isin(y, (0, 1))):
            raise ValueError(f"problem {name!r}: label targets must be (N,) = ({x.shape[0]},) labels 0 or 1, got {y!r}")
        return x, label_observables(y, net.num_outputs)
    t = np.asarray(check_targets(cost, targets, x.shape[0], net.num_outputs))  # type: ignore[arg-type]
    if not np.all(np.isfinite(t)):
        raise ValueError(f"problem {name!r}: targets contain NaN or inf")
    return x, t


def product_factors(net: Network, kind: str, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Qubit factors ``((n_in, 2), (n_out, 2))`` of a single pair of product state vectors, else None."""
    if kind not in ("global", "local") or np.asarray(x).shape[0] != 1 or np.asarray(x).ndim != 2:
        return None
    xf = split_product(np.asarray(x)[0], net.num_inputs)
    tf = split_product(np.asarray(t)[0], net.num_outputs) if kind == "global" else np.asarray(t)[0]
    if xf is None or tf is None:
        return None
    return xf, tf


def _triple(v: Any, where: str) -> AngleIndex:
    if isinstance(v, AngleIndex):
        return v
    if isinstance(v, str):
        v = v.split(",")
    try:
        parts = [int(str(p).strip()) for p in v]
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {v!r} is not a parameter (l, j, a) of integers") from None
    if len(parts) != 3:
        raise ValueError(f"{where}: {v!r} is not a parameter (l, j, a): give layer, perceptron and angle")
    return AngleIndex(*parts)


def select(net: Network, params: ParamSelection) -> list[AngleIndex | None]:
    """The parameters ``params`` names in ``net`` (module doc), checked; ValueError naming the selection."""
    where = f"params {params!r}"
    if isinstance(params, str):
        text = params.strip()
        if text == "pmm":
            return [None]
        every = angle_indices(net)
        if text in ("first", "all"):
            if not every:
                raise ValueError(
                    f"{where}: the network has no circuit angle (its perceptrons are matrices); use params='pmm'"
                )
            return list(every[:1] if text == "first" else every)
        if text.startswith("layer:") or text.startswith("perceptron:"):
            head, _, rest = text.partition(":")
            try:
                want = tuple(int(p) for p in rest.split(","))
            except ValueError:
                raise ValueError(f"{where}: use layer:L or perceptron:L,J with integers") from None
            if len(want) != (1 if head == "layer" else 2):
                raise ValueError(f"{where}: use layer:L or perceptron:L,J")
            chosen = [i for i in every if (i.layer, i.perceptron)[: len(want)] == want]
            if not chosen:
                raise ValueError(f"{where}: no circuit angle there (network has {net.depth} layers)")
            return list(chosen)
        out = [_triple(p, where) for p in text.split(";") if p.strip()]
    elif isinstance(params, AngleIndex) or (
        isinstance(params, tuple) and len(params) == 3 and all(isinstance(v, (int, np.integer)) for v in params)
    ):
        out = [_triple(params, where)]
    else:
        out = [_triple(p, where) for p in params]
    if not out:
        raise ValueError(f"{where}: selects no parameter")
    for idx in out:
        check_index(net, idx)  # type: ignore[arg-type]
    return list(out)


def parameter_label(parameter: AngleIndex | None) -> str:
    """``L0P1A2`` for an angle, ``pmm`` for the PMM direction."""
    return "pmm" if parameter is None else str(parameter)


def preset_problem(
    arch: str, cost: str, layers: int | str = 1, params: ParamSelection | None = None
) -> TrainabilityProblem:
    """The problem of the paper's architecture ``arch`` (:data:`dqnn.presets.registry.PRESETS`) with ``cost``:
    its network family at depth ``layers`` (an integer or ``"log"``), its parameter (the first angle, or the
    PMM direction), data ``|0...0> -> |0...0>``, stream ``key_id``, closed form and bound.

    A preset is nothing more than this: every engine sees only the problem's network, parameter and data.
    """
    p = preset(arch)
    if cost not in ("global", "local"):
        raise ValueError(f"preset {arch!r}: cost {cost!r} is not 'global' or 'local'")

    def network(n: int) -> Network:
        return p.network(n, p.layers(n, layers))

    return TrainabilityProblem(
        network=network,
        cost=cost,
        params=params if params is not None else ("first" if p.parameter == "angle" else "pmm"),
        stream=p.key_id,
        name=arch,
        closed_form=lambda n: p.exact_variance(cost, n),
        bound=p.bound(cost),
        named=params is None,
    )


#: The arrays a data file (``.npz``) holds: ``inputs`` and one of these, by cost.
DATA_TARGET_KEYS: dict[str, str] = {
    "global": "targets",
    "local": "targets",
    "observable": "observables",
    "label": "labels",
}


def load_data(path: str, cost: str) -> Callable[[Network], Data]:
    """Data from a ``.npz`` file as a problem's ``data``: arrays ``inputs`` and ``targets`` (``global``, ``local``),
    ``observables`` (``observable``) or ``labels`` (``label``), shaped as the module doc says (``.npy``: inputs
    only, targets ``|0...0>``). ``{n}`` in ``path`` is replaced by the network's input width, so one pattern serves
    a range of ``n``. Read with ``allow_pickle=False``; errors name the file and the missing array."""
    from pathlib import Path

    if cost not in DATA_TARGET_KEYS:
        raise ValueError(f"data {path}: cost {cost!r} is not one of {', '.join(DATA_TARGET_KEYS)}")

    def data(net: Network) -> Data:
        file = Path(path.replace("{n}", str(net.num_inputs)))
        if not file.is_file():
            raise ValueError(f"data file {file} does not exist")
        try:
            loaded = np.load(file, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"data file {file}: not a readable .npy/.npz file ({err})") from None
        if isinstance(loaded, np.ndarray):
            if loaded.ndim not in (2, 3):
                raise ValueError(f"data file {file}: inputs must be (N, d) or (N, d, d), got shape {loaded.shape}")
            return loaded, zero_data(net, cost)[1].repeat(loaded.shape[0], axis=0)
        with loaded:
            want = DATA_TARGET_KEYS[cost]
            missing = [k for k in ("inputs", want) if k not in loaded.files]
            if missing:
                raise ValueError(
                    f"data file {file}: missing array(s) {', '.join(missing)} for the {cost} cost "
                    f"(it has {', '.join(loaded.files) or 'none'})"
                )
            return loaded["inputs"], loaded[want]

    return data
