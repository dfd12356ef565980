"""The DQNN model: :class:`Perceptron` and :class:`Network` (structure and validation only).

A network maps layer 0 (the input, ``widths[0]`` qubits) through layers 1..L. ``layers[l]`` is the
ordered list of perceptrons from layer ``l`` to layer ``l + 1``; each acts on some qubits of layer ``l``
(``inputs``) and some of layer ``l + 1`` (``outputs``). Perceptrons act in the order listed. The output
qubits of every layer start in |0>. Parameters live outside the network, in a pytree
``params[l][j]`` (one entry per perceptron, as its family's ``init`` makes it). Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model.families import Family, Fixed, family_key

#: ``params[l][j]`` is the parameter pytree of perceptron ``j`` of layer ``l``.
NetworkParams = tuple[tuple[Any, ...], ...]


def qubit_index(q: object, what: str) -> int:
    """``q`` as an int: a Python or NumPy integer (a 0-d integer array too); TypeError naming ``what`` for a
    bool, a float (even ``2.0``: never truncated) or anything else."""
    if isinstance(q, (bool, np.bool_)):
        raise TypeError(f"{what}: {q!r} is a bool, not a qubit index (an integer)")
    if isinstance(q, (int, np.integer)):
        return int(q)
    if getattr(q, "ndim", None) == 0 and np.issubdtype(getattr(q, "dtype", np.float64), np.integer):
        return int(q)  # type: ignore[call-overload]  # a 0-d NumPy or JAX integer array
    raise TypeError(f"{what}: {q!r} ({type(q).__name__}) is not an integer")


def _sequence(xs: object, what: str) -> Sequence[Any]:
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"{what}: expected a sequence of integers, got {type(xs).__name__}")
    return list(xs)  # type: ignore[call-overload]


#: Tolerance of the unitarity check of matrix parameters (``max |U^dagger U - 1|``).
UNITARY_ATOL = 1e-8


def _leaves_ok(tree: Any, where: str) -> bool:
    """TypeError/ValueError naming ``where`` for non-numeric or non-finite concrete leaves; False when traced."""
    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, jax.core.Tracer):
            return False
        a = np.asarray(leaf)
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"{where}: a parameter of dtype {a.dtype} is not numeric")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{where}: parameters hold NaN or inf")
    return True


def _check_unitary(u: Any, d: int, where: str) -> None:
    m = np.asarray(u)
    if m.shape != (d, d):
        raise ValueError(f"{where}: a {d}x{d} unitary is needed, got shape {m.shape}")
    err = float(np.max(np.abs(m.conj().T @ m - np.eye(d))))
    if not err <= UNITARY_ATOL:
        raise ValueError(f"{where}: the matrix is not unitary (max |U^dagger U - 1| = {err:.3g})")


def check_params(net: Network, params: Any, name: str = "params") -> None:
    """Check concrete parameters against ``net`` before use: ``params[l][j]`` per perceptron, every leaf numeric
    and finite, a Haar perceptron's ``u`` (and a circuit's random blocks) unitary of the right size, a circuit's
    ``theta`` real of length ``num_angles``. TypeError/ValueError naming ``name[l][j]``; traced values (inside
    ``jit``/``grad``/``vmap``) and families it does not know pass untouched (beyond finiteness)."""
    from dqnn.model.families import Circuit, HaarUnitary

    if not isinstance(params, (tuple, list)) or len(params) != len(net.layers):
        got = len(params) if isinstance(params, (tuple, list)) else type(params).__name__
        raise ValueError(f"{name}: need params[l][j] for {len(net.layers)} layer(s), got {got}")
    for l, (layer, pl) in enumerate(zip(net.layers, params, strict=True)):
        if not isinstance(pl, (tuple, list)) or len(pl) != len(layer):
            got = len(pl) if isinstance(pl, (tuple, list)) else type(pl).__name__
            raise ValueError(f"{name}[{l}]: need {len(layer)} perceptron parameter(s), got {got}")
        for j, (p, pj) in enumerate(zip(layer, pl, strict=True)):
            where = f"{name}[{l}][{j}]"
            if not _leaves_ok(pj, where):
                continue
            fam = p.unitary
            if isinstance(fam, HaarUnitary):
                if not isinstance(pj, dict) or "u" not in pj:
                    raise ValueError(f"{where}: a Haar perceptron needs {{'u': unitary}}, got {type(pj).__name__}")
                _check_unitary(pj["u"], 2**fam.num_qubits, where + "['u']")
            elif isinstance(fam, Circuit):
                if not isinstance(pj, dict) or "theta" not in pj:
                    raise ValueError(f"{where}: a circuit needs {{'theta': angles, 'haar': blocks}}")
                th = np.asarray(pj["theta"])
                if th.shape != (fam.num_angles,):
                    raise ValueError(f"{where}['theta']: need {fam.num_angles} angle(s), got shape {th.shape}")
                if np.iscomplexobj(th) and np.any(th.imag != 0):
                    raise ValueError(f"{where}['theta']: angles must be real")
                blocks = fam.random_blocks
                haar = pj.get("haar", ())
                if len(haar) != len(blocks):
                    raise ValueError(f"{where}['haar']: need {len(blocks)} random block(s), got {len(haar)}")
                for b, (u, w) in enumerate(zip(haar, blocks, strict=True)):
                    _check_unitary(u, 2 ** len(w), f"{where}['haar'][{b}]")


@dataclass(frozen=True, eq=False)
class Perceptron:
    """A perceptron: ``unitary`` acts on ``inputs`` (qubits of the previous layer, in order) then ``outputs``.

    ``unitary`` is a family (anything with ``ops``: :class:`dqnn.model.protocol.Family`) or a matrix, which becomes
    :class:`~dqnn.model.families.Fixed`.
    """

    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    unitary: Family

    def __init__(self, inputs: Sequence[int], outputs: Sequence[int], unitary: Family | ArrayLike):
        ins = tuple(qubit_index(q, "Perceptron: inputs") for q in _sequence(inputs, "Perceptron: inputs"))
        outs = tuple(qubit_index(q, "Perceptron: outputs") for q in _sequence(outputs, "Perceptron: outputs"))
        if not outs:
            raise ValueError("Perceptron: outputs must name at least one qubit of the next layer")
        for name, qs in (("inputs", ins), ("outputs", outs)):
            if len(set(qs)) != len(qs):
                raise ValueError(f"Perceptron: {name} {qs} repeat a qubit")
            if any(q < 0 for q in qs):
                raise ValueError(f"Perceptron: {name} {qs} contain a negative qubit index")
        nq = len(ins) + len(outs)
        fam: Family
        if hasattr(unitary, "ops"):
            fam = unitary  # type: ignore[assignment]
        else:
            fam = Fixed(unitary, nq, name=f"Perceptron(inputs={ins}, outputs={outs})")
        if fam.num_qubits != nq:
            raise ValueError(
                f"Perceptron(inputs={ins}, outputs={outs}): its unitary acts on {fam.num_qubits} qubit(s) "
                f"but inputs + outputs name {nq}"
            )
        object.__setattr__(self, "inputs", ins)
        object.__setattr__(self, "outputs", outs)
        object.__setattr__(self, "unitary", fam)

    @property
    def wires(self) -> tuple[tuple[str, int], ...]:
        """Local wire -> ``("in", q)`` or ``("out", q)``."""
        return tuple(("in", q) for q in self.inputs) + tuple(("out", q) for q in self.outputs)


@dataclass(frozen=True, eq=False)
class Network:
    """A DQNN: ``widths[l]`` qubits in layer ``l``; ``layers[l]`` the ordered perceptrons from ``l`` to ``l+1``.

    ``strict=True`` also requires every qubit of every layer after the input to be an output of some
    perceptron (otherwise such a qubit is simply left in |0>).
    """

    widths: tuple[int, ...]
    layers: tuple[tuple[Perceptron, ...], ...]
    strict: bool = False

    def __init__(self, widths: Sequence[int], layers: Sequence[Sequence[Perceptron]], strict: bool = False):
        ws = tuple(qubit_index(w, "Network: widths") for w in _sequence(widths, "Network: widths"))
        if len(ws) < 2:
            raise ValueError(f"Network: widths {ws} need at least an input and an output layer")
        if any(w < 1 for w in ws):
            raise ValueError(f"Network: widths {ws} must all be >= 1")
        ls = tuple(tuple(layer) for layer in layers)
        if len(ls) != len(ws) - 1:
            raise ValueError(f"Network: {len(ws)} widths need {len(ws) - 1} layers of perceptrons, got {len(ls)}")
        for l, layer in enumerate(ls):
            if not layer:
                raise ValueError(f"Network: layer {l} has no perceptron")
            touched: set[int] = set()
            for j, p in enumerate(layer):
                if not isinstance(p, Perceptron):
                    raise ValueError(f"Network: layers[{l}][{j}] is {type(p).__name__}, not a Perceptron")
                for q in p.inputs:
                    if q >= ws[l]:
                        raise ValueError(
                            f"Network: layers[{l}][{j}] input qubit {q} is out of range for layer {l} of width {ws[l]}"
                        )
                for q in p.outputs:
                    if q >= ws[l + 1]:
                        raise ValueError(
                            f"Network: layers[{l}][{j}] output qubit {q} is out of range for layer {l + 1} "
                            f"of width {ws[l + 1]}"
                        )
                touched.update(p.outputs)
            missing = sorted(set(range(ws[l + 1])) - touched)
            if strict and missing:
                raise ValueError(
                    f"Network: strict wiring, but output qubit(s) {missing} of layer {l + 1} are touched by no "
                    "perceptron"
                )
        object.__setattr__(self, "widths", ws)
        object.__setattr__(self, "layers", ls)
        object.__setattr__(self, "strict", bool(strict))

    @classmethod
    def from_unitaries(cls, widths: Sequence[int], unitaries: Sequence[Sequence[ArrayLike]]) -> Network:
        """Global perceptrons with k = 1: ``unitaries[l][j]`` acts on all of layer ``l`` and output qubit ``j``.

        Each matrix is ``2**(widths[l] + 1)`` square; perceptron ``j`` acts after perceptron ``j - 1``.
        """
        ws = tuple(int(w) for w in widths)
        if len(unitaries) != len(ws) - 1:
            raise ValueError(f"from_unitaries: {len(ws)} widths need {len(ws) - 1} lists of unitaries")
        layers = []
        for l, us in enumerate(unitaries):
            if len(us) != ws[l + 1]:
                raise ValueError(
                    f"from_unitaries: layer {l + 1} has {ws[l + 1]} qubit(s) but {len(us)} unitaries were given"
                )
            layers.append(
                [
                    Perceptron(range(ws[l]), [j], Fixed(u, ws[l] + 1, name=f"unitaries[{l}][{j}]"))
                    for j, u in enumerate(us)
                ]
            )
        return cls(ws, layers)

    @property
    def depth(self) -> int:
        """Number of perceptron layers (``len(widths) - 1``)."""
        return len(self.layers)

    @property
    def num_inputs(self) -> int:
        """Qubits of the input layer."""
        return self.widths[0]

    @property
    def num_outputs(self) -> int:
        """Qubits of the output layer."""
        return self.widths[-1]

    @property
    def real(self) -> bool:
        """Whether every perceptron's matrices are real for all parameters (``family.real``, e.g. ``R_y`` and CZ).

        Real input states of such a network are simulated in real (float64) arithmetic where
        :func:`dqnn.sim.simulate.real_arithmetic` allows (no scanned blocks; the light-cone product engine always):
        the same numbers for about half the work.
        """
        # getattr: a wrapper that does not forward ``real`` counts as complex (slower, never wrong)
        return all(getattr(p.unitary, "real", False) for layer in self.layers for p in layer)

    def init(self, key: Array) -> NetworkParams:
        """A random initialisation of every perceptron (each family's ``init``), from one PRNG key."""
        flat = [p for layer in self.layers for p in layer]
        keys = jax.random.split(key, len(flat))
        # perceptrons sharing a family are initialised by one vmapped call (the same numbers as one call per
        # key, but one random-number kernel per family: compile time does not grow with the perceptron count)
        groups: dict[object, list[int]] = {}
        for i, p in enumerate(flat):
            groups.setdefault(family_key(p.unitary), []).append(i)
        out: list[Any] = [None] * len(flat)
        for idxs in groups.values():
            fam = flat[idxs[0]].unitary
            batch = jax.vmap(fam.init)(keys[np.asarray(idxs)])
            for m, i in enumerate(idxs):
                out[i] = jax.tree.map(lambda a, m=m: a[m], batch)
        it = iter(out)
        return tuple(tuple(next(it) for _ in layer) for layer in self.layers)

    def init_batch(self, key: Array, size: int) -> NetworkParams:
        """``size`` independent initialisations stacked along a leading axis of every leaf."""
        return jax.vmap(self.init)(jax.random.split(key, size))

    def output(self, rho_in: ArrayLike, params: NetworkParams | None = None) -> Array:
        """The output state of Eq. (1) as a ``(2**n_out, 2**n_out)`` density matrix.

        ``rho_in`` is a ``(2**n_in,)`` state vector or a ``(2**n_in, 2**n_in)`` density matrix.
        ``params`` may be omitted only when no perceptron has parameters.

        Deprecated (the model does not import the simulator): use
        :func:`dqnn.output_state` ``(net, params, rho_in)``; this method goes away in dqnn 0.2.
        """
        warnings.warn(
            "Network.output is deprecated: use dqnn.output_state(net, params, rho_in)", DeprecationWarning, stacklevel=2
        )
        simulate = importlib.import_module("dqnn.sim.simulate")  # late: the model sits below the simulator
        return simulate.output_state(self, self.default_params() if params is None else params, rho_in)

    def default_params(self) -> NetworkParams:
        """The parameters of a network whose families have none (every ``init`` leaf empty, e.g. only
        :class:`~dqnn.model.families.Fixed` perceptrons): each family's ``init``; ValueError otherwise."""
        key = jax.random.key(0)
        for l, layer in enumerate(self.layers):
            for j, p in enumerate(layer):
                shapes = jax.eval_shape(p.unitary.init, key)
                if any(np.prod(leaf.shape) for leaf in jax.tree.leaves(shapes)):
                    raise ValueError(
                        f"Network: perceptron layers[{l}][{j}] is parameterised ({type(p.unitary).__name__}); "
                        "pass params (e.g. params = net.init(jax.random.key(seed)))"
                    )
        return tuple(tuple(p.unitary.init(key) for p in layer) for layer in self.layers)

    def __repr__(self) -> str:
        fams = sorted({type(p.unitary).__name__ for layer in self.layers for p in layer})
        count = sum(len(layer) for layer in self.layers)
        return f"Network(widths={list(self.widths)}, {count} perceptrons, families: {', '.join(fams)})"

    def _repr_html_(self) -> str:
        """A table for notebooks: one row per perceptron (layer, inputs, outputs, family, angles)."""
        import html

        cells = ["layer", "perceptron", "inputs", "outputs", "family", "angles"]
        rows = []
        for l, layer in enumerate(self.layers):
            for j, p in enumerate(layer):
                vals = [f"{l} -> {l + 1}", j, list(p.inputs), list(p.outputs), type(p.unitary).__name__]
                vals.append(getattr(p.unitary, "num_angles", "-"))
                rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in vals) + "</tr>")
        head = "".join(f"<th>{c}</th>" for c in cells)
        cap = html.escape(f"DQNN widths {list(self.widths)} ({self.depth} layers)")
        return f"<table><caption>{cap}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def describe(self) -> str:
        """A short human-readable summary."""
        parts = [f"DQNN widths={list(self.widths)}"]
        for l, layer in enumerate(self.layers):
            ps = ", ".join(f"{type(p.unitary).__name__}(in={list(p.inputs)}, out={list(p.outputs)})" for p in layer)
            parts.append(f"  layer {l}->{l + 1}: {ps}")
        return "\n".join(parts)


def num_angles(net: Network) -> int:
    """Total number of circuit angles in the network."""
    return sum(int(np.sum([p.unitary.num_angles for p in layer])) for layer in net.layers)
