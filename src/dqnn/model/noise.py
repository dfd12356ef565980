"""Noise on any network: the :class:`Noisy` family wrapper and :func:`with_noise`.

A :class:`Noisy` family is a perceptron family (any: :class:`~dqnn.model.families.Circuit`, ``Fixed``, ``Haar``,
your own) whose ops are the wrapped family's, interleaved with :class:`~dqnn.model.protocol.ChannelOp` s at given
places (:class:`Placement`: after op ``k`` of the wrapped family's ``ops``, or after all of them). Its parameters are
exactly the wrapped family's (same ``init``, same pytree), so ``with_noise(net, ...)`` returns a network whose
``params`` from ``net.init(key)`` work unchanged: a noisy twin that shares the parameters of ``net``.

:func:`with_noise` places one channel (usually one-qubit, copied onto each wire) in one of three ways:

- ``"after_gate"``: after every op of every perceptron (SWAPs included), on that op's wires;
- ``"after_perceptron"``: after each perceptron's unitary, on all its wires (inputs and outputs);
- ``"layer"``: after layer ``l``'s perceptrons, on every qubit of layer ``l + 1`` (placed after the last perceptron
  that touches the qubit, which is the same map since later perceptrons of the layer do not act on it). Qubits that
  no perceptron touches stay in |0> and get no channel. This is Wang et al.'s model (local noise between layers).

``readout`` adds a channel (e.g. :func:`~dqnn.model.channels.readout_error`) on every output qubit at the very end.
Several channels on one op are combined into one product channel (one :class:`ChannelOp`). A noisy perceptron is
not unitary: ``matrix`` raises, and the unitary-only engines refuse noisy networks (:func:`is_noisy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import numpy as np

from dqnn._jax import Array
from dqnn.model.channels import Channel, tensor
from dqnn.model.families import Wrapper
from dqnn.model.network import Network, Perceptron
from dqnn.model.protocol import (
    Capability,
    ChannelOp,
    Family,
    MomentChannel,
    MomentElement,
    Op,
    Params,
    ShiftRule,
    family_name,
)

#: Where :func:`with_noise` places its channel (module doc).
Where = Literal["after_gate", "after_perceptron", "layer"]
WHERE: tuple[str, ...] = ("after_gate", "after_perceptron", "layer")


class Placement(NamedTuple):
    """``channel`` on local ``wires`` (``len(wires) == channel.num_qubits``), right after op ``after`` of the
    wrapped family's ``ops`` (0-based), or after the whole unitary when ``after`` is None."""

    channel: Channel
    wires: tuple[int, ...]
    after: int | None = None


def op_wires(family: Family) -> tuple[tuple[int, ...], ...]:
    """The local wires of each op of ``family.ops`` (by abstract evaluation: nothing is computed)."""
    found: list[tuple[tuple[int, ...], ...]] = []

    def trace(key: Array) -> int:
        found.append(tuple(tuple(int(w) for w in op.wires) for op in family.ops(family.init(key))))
        return 0

    jax.eval_shape(trace, jax.random.key(0))
    return found[0]


class Noisy(Wrapper):
    """``inner``'s unitary with channels inserted (:class:`Placement` s); the same parameters as ``inner``.

    Capabilities: the shift rule of ``inner`` (still exact: channels do not depend on the angles); the packed form
    when ``inner`` has one and every channel is real; exact moments when ``inner``'s moment elements match its ops
    one to one (or all channels sit at the end). No matrix (not unitary); parameter-matrix multiplication trains the
    wrapped unitary (:attr:`matrix_parameter`).
    """

    def __init__(self, inner: Family, placements: Sequence[Placement], name: str | None = None):
        self.inner = inner
        self.name = name or f"Noisy({family_name(inner)})"
        n_ops = len(op_wires(inner))
        pls = []
        for i, pl in enumerate(placements):
            if not isinstance(pl, Placement) or not isinstance(pl.channel, Channel):
                raise TypeError(f"{self.name}: placements[{i}] must be a Placement(channel, wires, after)")
            wires = tuple(int(w) for w in pl.wires)
            if len(set(wires)) != len(wires) or any(not 0 <= w < inner.num_qubits for w in wires):
                raise ValueError(
                    f"{self.name}: placements[{i}] wires {wires} must be distinct wires of 0..{inner.num_qubits - 1}"
                )
            if len(wires) != pl.channel.num_qubits:
                raise ValueError(
                    f"{self.name}: placements[{i}] channel {pl.channel.name!r} acts on {pl.channel.num_qubits} "
                    f"qubit(s) but names {len(wires)} wire(s)"
                )
            if pl.after is not None and not 0 <= int(pl.after) < n_ops:
                raise ValueError(f"{self.name}: placements[{i}] after={pl.after} is not an op index of 0..{n_ops - 1}")
            pls.append(Placement(pl.channel, wires, None if pl.after is None else int(pl.after)))
        self.placements: tuple[Placement, ...] = tuple(pls)
        self._num_ops = n_ops

    def _at(self, after: int | None) -> list[Placement]:
        return [pl for pl in self.placements if pl.after == after]

    def ops(self, params: Params) -> list[Op]:
        """``inner``'s ops with a :class:`~dqnn.model.protocol.ChannelOp` after the ops the placements name."""
        out: list[Op] = []
        for k, op in enumerate(self.inner.ops(params)):
            out.append(op)
            out.extend(ChannelOp(pl.channel.kraus, pl.wires) for pl in self._at(k))
        out.extend(ChannelOp(pl.channel.kraus, pl.wires) for pl in self._at(None))
        return out

    def matrix(self, params: Params) -> Array:
        """Not offered: a noisy perceptron is a channel, not a unitary (ValueError)."""
        raise ValueError(f"{self.name}: a noisy perceptron is a channel, not a unitary; it has no matrix")

    @property
    def matrix_parameter(self) -> str | None:
        """``inner``'s: the wrapped unitary, which parameter-matrix multiplication updates as ``u -> expm(i eps K) u``
        (with channels in the network its generators come from the noisy fidelity, :mod:`dqnn.training.pmm`)."""
        return self.inner.matrix_parameter  # type: ignore[no-any-return]

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels placed, in placement order."""
        return tuple(pl.channel for pl in self.placements)

    @property
    def real(self) -> bool:
        """``inner.real`` and every channel real."""
        return bool(getattr(self.inner, "real", False)) and all(c.real for c in self.channels)

    @property
    def fusable(self) -> bool:
        """``inner``'s."""
        return bool(getattr(self.inner, "fusable", False))

    def shift_rule(self, angle: int) -> ShiftRule | None:
        """``inner``'s rule of ``angle`` (channels do not depend on it, so the rule stays exact)."""
        return self.inner.shift_rule(angle)

    def packed(self, angle: int) -> Family | None:
        """``inner``'s packed family of ``angle`` with the same channels, when every channel is real."""
        if not all(c.real for c in self.channels):
            return None
        p = self.inner.packed(angle)
        return None if p is None else Noisy(p, self.placements, name=f"{self.name} packed")

    def moment_elements(self) -> tuple[MomentElement, ...] | None:
        """``inner``'s elements with a :class:`~dqnn.model.protocol.MomentChannel` at each placement."""
        els = self.inner.moment_elements()
        if els is None or self._moment_refusal() is not None:
            return None
        out: list[MomentElement] = []
        for k, el in enumerate(els):
            out.append(el)
            out.extend(MomentChannel(pl.channel.kraus, pl.wires) for pl in self._at(k))
        out.extend(MomentChannel(pl.channel.kraus, pl.wires) for pl in self._at(None))
        return tuple(out)

    def _moment_refusal(self) -> str | None:
        els = self.inner.moment_elements()
        if els is None:
            return f"its wrapped family cannot: {self.inner.why_not('moments')}"
        if len(els) != self._num_ops and any(pl.after is not None for pl in self.placements):
            return "its wrapped family's moment elements do not match its ops one to one, and a channel sits inside"
        return None

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """Why: a channel is not a unitary (matrix parameter), or the wrapped family's reason."""
        if capability == "packed" and not all(c.real for c in self.channels):
            return "a channel has complex Kraus operators (packed mode needs real ones)"
        if capability == "moments":
            return self._moment_refusal() or "no reason known"
        return self.inner.why_not(capability, angle)

    def describe(self) -> dict[str, object]:
        """A canonical JSON-able description (for fingerprints): the wrapped family's and each channel's Kraus
        operators (rounded to 12 digits), wires and position."""
        from dqnn.spec.source import describe_family  # late: the spec sits above the model

        chans = [
            [
                np.round(pl.channel.kraus, 12).real.tolist(),
                np.round(pl.channel.kraus, 12).imag.tolist(),
                list(pl.wires),
                pl.after,
            ]
            for pl in self.placements
        ]
        return {"kind": "noisy", "wires": self.num_qubits, "inner": describe_family(self.inner), "channels": chans}

    def __repr__(self) -> str:
        return f"{self.name}[{len(self.placements)} channel(s)]"


def is_noisy(net: Network) -> bool:
    """Whether some perceptron of ``net`` has a channel among its ops (a :class:`Noisy` family, or any family whose
    ops hold a :class:`~dqnn.model.protocol.ChannelOp`): unitary-only engines must not take it."""
    seen: dict[int, bool] = {}
    for layer in net.layers:
        for p in layer:
            f = p.unitary
            if id(f) not in seen:
                seen[id(f)] = isinstance(f, Noisy) or _has_channel_op(f)
            if seen[id(f)]:
                return True
    return False


def _has_channel_op(family: Family) -> bool:
    from dqnn.model.families import Circuit, Fixed, HaarUnitary
    from dqnn.model.hamiltonian import HamiltonianRotation

    if type(family) in (Circuit, Fixed, HaarUnitary, HamiltonianRotation):  # unitary by construction
        return False
    found: list[bool] = []

    def trace(key: Array) -> int:
        found.append(any(isinstance(op, ChannelOp) for op in family.ops(family.init(key))))
        return 0

    jax.eval_shape(trace, jax.random.key(0))
    return found[0]


def _per_wire(ch: Channel, wires: Sequence[int]) -> Channel:
    return tensor([ch] * len(wires))


def _layer_wires(net: Network, l: int) -> dict[int, list[int]]:
    """Perceptron j of layer l -> local wires of the outputs it touches last."""
    last: dict[int, tuple[int, int]] = {}
    for j, p in enumerate(net.layers[l]):
        for k, q in enumerate(p.outputs):
            last[q] = (j, len(p.inputs) + k)
    out: dict[int, list[int]] = {}
    for j, w in last.values():
        out.setdefault(j, []).append(w)
    return {j: sorted(ws) for j, ws in out.items()}


def with_noise(
    net: Network,
    channel: Channel | None,
    where: Where = "after_gate",
    *,
    readout: Channel | None = None,
) -> Network:
    """``net`` with ``channel`` (one qubit) on each wire at the places ``where`` names (module doc), and
    ``readout`` (one qubit) on every output qubit at the end; the same widths, wiring and parameters.

    Perceptrons that share a family object still share one (noisy) family where their channels sit alike, so the
    simulator's scans and batched initialisation still apply. ``channel=None`` with a ``readout``: readout only.
    """
    if where not in WHERE:
        raise ValueError(f"with_noise: where={where!r} is not one of {', '.join(WHERE)}")
    for label, ch in (("channel", channel), ("readout", readout)):
        if ch is not None and not isinstance(ch, Channel):
            raise TypeError(f"with_noise: {label} must be a dqnn.model.channels.Channel, got {type(ch).__name__}")
        if ch is not None and ch.num_qubits != 1:
            raise ValueError(
                f"with_noise: {label} {ch.name!r} acts on {ch.num_qubits} qubits; with_noise copies a one-qubit "
                "channel onto each wire (place multi-qubit channels with Noisy(family, [Placement(...)]))"
            )
    cache: dict[tuple[object, ...], Family] = {}
    layers = []
    for l, layer in enumerate(net.layers):
        lw = _layer_wires(net, l) if where == "layer" else {}
        ro = _layer_wires(net, l) if readout is not None and l == net.depth - 1 else {}
        row = []
        for j, p in enumerate(layer):
            fam = p.unitary
            pls: list[Placement] = []
            if channel is not None:
                if where == "after_gate":
                    pls += [Placement(_per_wire(channel, ws), ws, k) for k, ws in enumerate(op_wires(fam))]
                elif where == "after_perceptron":
                    ws = tuple(range(fam.num_qubits))
                    pls.append(Placement(_per_wire(channel, ws), ws))
                elif j in lw:
                    pls.append(Placement(_per_wire(channel, lw[j]), tuple(lw[j])))
            if j in ro:
                assert readout is not None
                pls.append(Placement(_per_wire(readout, ro[j]), tuple(ro[j])))
            if pls:
                # within one call the channels are fixed, so the placements' wires decide the noisy family
                key = (id(fam), tuple((pl.wires, pl.after) for pl in pls), len(ro.get(j, [])))
                if key not in cache:
                    cache[key] = Noisy(fam, pls)
                fam = cache[key]
            row.append(Perceptron(p.inputs, p.outputs, fam))
        layers.append(row)
    return Network(net.widths, layers, strict=net.strict)


def noiseless(net: Network) -> Network:
    """``net`` with every :class:`Noisy` family replaced by the family it wraps (the noiseless twin)."""
    layers = []
    for layer in net.layers:
        row = []
        for p in layer:
            f = p.unitary
            while isinstance(f, Noisy):
                f = f.inner
            row.append(Perceptron(p.inputs, p.outputs, f))
        layers.append(row)
    return Network(net.widths, layers, strict=net.strict)


#: Channel names :func:`parse_noise` accepts, each with its one-number constructor.
NOISE_NAMES: dict[str, str] = {
    "depolarizing": "depolarizing",
    "dephasing": "dephasing",
    "amplitude_damping": "amplitude_damping",
    "amplitude-damping": "amplitude_damping",
    "ad": "amplitude_damping",
}


@dataclass(frozen=True)
class NoiseSpec:
    """A command-line noise model: ``channel`` on each wire at ``where`` (:func:`with_noise`); ``text`` as given."""

    channel: Channel
    where: Where
    text: str

    def apply(self, net: Network) -> Network:
        """``with_noise(net, channel, where)``."""
        return with_noise(net, self.channel, self.where)


def parse_noise(text: str) -> NoiseSpec:
    """``NAME:P[,WHERE]`` (e.g. ``depolarizing:0.01``, ``amplitude_damping:0.05,layer``) as a :class:`NoiseSpec`;
    names: ``depolarizing``, ``dephasing``, ``amplitude_damping`` (``ad``); ``WHERE`` one of :data:`WHERE`
    (default ``after_gate``). ValueError naming ``--noise`` otherwise."""
    from dqnn.model import channels

    head, _, where = text.partition(",")
    name, sep, num = head.partition(":")
    key = name.strip().lower()
    if not sep or key not in NOISE_NAMES:
        raise ValueError(f"--noise {text!r}: expected NAME:P[,WHERE] with NAME one of {', '.join(sorted(NOISE_NAMES))}")
    try:
        p = float(num)
    except ValueError:
        raise ValueError(f"--noise {text!r}: P = {num!r} is not a number") from None
    w = where.strip() or "after_gate"
    if w not in WHERE:
        raise ValueError(f"--noise {text!r}: WHERE = {w!r} is not one of {', '.join(WHERE)}")
    ch = getattr(channels, NOISE_NAMES[key])(p)
    return NoiseSpec(ch, w, text)  # type: ignore[arg-type]


__all__ = [
    "NOISE_NAMES",
    "WHERE",
    "NoiseSpec",
    "Noisy",
    "Placement",
    "Where",
    "is_noisy",
    "noiseless",
    "op_wires",
    "parse_noise",
    "with_noise",
]
