r"""Parameter-matrix multiplication (Eq. 13; Beer et al., Nat. Commun. 11, 808 (2020)).

Every trainable perceptron (a family with a ``matrix_parameter``, :class:`~dqnn.model.protocol.Family`:
:class:`~dqnn.model.families.HaarUnitary`, key ``"u"``) is updated at once by

.. math::  V_j^l \to e^{i \varepsilon K_j^l} V_j^l ,                                            (P1)

with the closed-form parameter matrix of Beer et al. Derivation (conventions: :mod:`dqnn`).

Objective. The fidelity ``F = (1/N) sum_x Tr[Pi_x rho_x^out]`` of the fidelity observables ``Pi_x`` of
:mod:`dqnn.training.objectives` (``Pi_x = |phi_x><phi_x|`` for the global cost of Eq. 3); the cost is
``C = 1 - F``.

Two adjacent layers. Layer ``l -> l+1`` acts on the register ``l (x) l+1`` (layer ``l`` first). With
perceptrons ``V_1 .. V_M`` of the layer (in order, each embedded on its wires) and ``U^l = V_M ... V_1``,

.. math::  \rho^{l+1} = \mathcal{E}^l(\rho^l) = \mathrm{Tr}_l[U^l (\rho^l \otimes |0\rangle\langle 0|) U^{l\dagger}],
           \qquad \mathcal{E}^{l\dagger}(Y) = \langle 0|_{l+1} U^{l\dagger} (1_l \otimes Y) U^l |0\rangle_{l+1}.

Forward and backward states of perceptron ``j`` of layer ``l`` and pair ``x``:

.. math::  A_x = V_j \cdots V_1 (\rho_x^l \otimes |0\rangle\langle 0|) V_1^\dagger \cdots V_j^\dagger ,    (P2)

.. math::  B_x = V_{j+1}^\dagger \cdots V_M^\dagger (1_l \otimes \sigma_x^{l+1}) V_M \cdots V_{j+1},
           \qquad \sigma_x^{L} = \Pi_x,\ \ \sigma_x^{l} = \mathcal{E}^{l\dagger}(\sigma_x^{l+1}),          (P3)

so that ``Tr[Pi_x rho_x^out] = Tr[A_x B_x]`` for every ``j``. Replacing ``V_j`` by ``e^{i eps K} V_j``
(``K`` Hermitian on the perceptron's wires) maps ``A_x -> e^{i eps K} A_x e^{-i eps K}``, hence

.. math::  \frac{dF}{d\varepsilon}\Big|_0 = \frac1N \sum_x \mathrm{Tr}\big[K\, i[A_x, B_x]\big]
           = \mathrm{Tr}[K G_j^l], \qquad
           G_j^l = \frac{i}{N} \sum_x \mathrm{Tr}_{\mathrm{rest}} [A_x, B_x]                        (P4)

(``Tr_rest``: partial trace over every qubit of the register the perceptron does not touch; ``G`` is
Hermitian). Beer et al. maximise ``dF/d eps`` over ``K = sum_a k_a sigma^a`` (Pauli strings on the
perceptron's wires) with a Lagrange multiplier ``lambda = 1/eta`` on ``sum_a k_a^2``, which gives
``K`` parallel to ``G``. With their prefactor (``m`` = number of input qubits of the perceptron, the
width ``m_{l-1}`` of the previous layer for their global perceptrons):

.. math::  K_j^l = \frac{\eta\, 2^{m}}{2N}\, i \sum_x \mathrm{Tr}_{\mathrm{rest}}[A_x, B_x]
           = \frac{\eta\, 2^{m}}{2}\, G_j^l .                                                   (P5)

This is the ``K`` of Beer et al.'s text. Their published code (QuTiP notebook, MATLAB ``TrainNetwork.m``) applies
``K = (2^m / (lambda N)) i sum_x Tr_rest[A_x, B_x] = eta 2^m G``, twice (P5) at the same ``lambda = 1/eta``:
:class:`PMMConfig` ``(convention="code")`` (or ``PMMConfig.beer(eps, lam)``) selects it; with the default
(``"text"``) ``eta = 2/lambda`` gives their code's step. Their momentum, RMSprop, Adam and Nadam variants are
:mod:`dqnn.training.pmm_optim`.

When all perceptrons move together, ``dC/d eps = -sum_{l,j} (eta 2^m / 2) Tr[(G_j^l)^2] <= 0``: a small
step never increases the cost to first order (tests check this against ``jax.jvp`` and check ``G``
against a gradient obtained by automatic differentiation, :func:`generators_autodiff`).

Implementation. Two adjacent layers at a time (``widths[l] + widths[l+1]`` qubits, register dimension
``d``). The forward states are kept as factors ``A_j = Psi_j Psi_j^dagger`` (rank axis at most ``d``,
compressed by a QR decomposition when tracing makes it larger). Since ``V_M .. V_{j+1} Psi_j = Psi_M``,

.. math::  B_j \Psi_j = V_{j+1}^\dagger \cdots V_M^\dagger (1_l \otimes \sigma^{l+1}) \Psi_M ,

so one backward sweep of ``V^dagger`` gates gives every ``B_j Psi_j`` and
``Tr_rest(A_j B_j) = Tr_rest(Psi_j (B_j Psi_j)^dagger)``; no ``d x d`` matrix is formed. All N pairs travel
together: their factors are stacked on the rank axis, so a gate is one ``tensordot`` for every pair and the sum
over pairs in (P4) is part of the ``Tr_rest`` contraction. The adjoint channel
``sigma^l = E^dagger(sigma^{l+1})`` (not needed for ``l = 0``) is propagated in factored form through the layer's
isometry ``W = U^l (1 (x) |0>)`` (``d_l`` columns, the same for every pair). Gates act as ``tensordot`` on the
register's qubit axes, and an output qubit joins the state when a perceptron first touches it (only the columns of
``V`` acting on its ``|0>``); the update (P1) is :func:`dqnn.training.expm.rotate` (one batched exponential per
size). Perceptrons without a matrix parameter (Fixed, Circuit, ...) take part in both passes through their
``matrix(params)`` and are not updated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from dqnn._jax import Array
from dqnn.costs import per_pair
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.model.noise import is_noisy
from dqnn.model.protocol import capability_error
from dqnn.model.states import psd_factor as factor_psd  # its old name here, kept for callers
from dqnn.training.expm import rotate

#: ``generators[l][j]``: a ``(2**w, 2**w)`` Hermitian matrix per perceptron (``None`` when not trainable).
Generators = tuple[tuple[Any, ...], ...]


#: The two PMM conventions of Beer et al.: ``"text"`` (their paper, (P5)) and ``"code"`` (their published code).
CONVENTIONS: tuple[str, ...] = ("text", "code")
#: Which ``m`` enters the prefactor ``2**m``: the perceptron's own inputs, or the whole previous layer.
PREFACTORS: tuple[str, ...] = ("inputs", "layer")


@dataclass(frozen=True)
class PMMConfig:
    r"""Step size ``eps``, learning rate ``eta = 1/lambda`` and the convention of the parameter matrix ``K``.

    With ``G`` of (P4) (``G = (i/N) sum_x Tr_rest[A_x, B_x]``) and ``m`` the prefactor's qubit count:

    - ``convention="text"`` (default; Beer et al.'s paper, Nat. Commun. 11, 808, Methods):
      ``K = (eta 2**m / 2) G = (2**m / (2 lambda N)) i sum_x Tr_rest[A_x, B_x]``;
    - ``convention="code"`` (their QuTiP notebook and MATLAB ``TrainNetwork.m``):
      ``K = eta 2**m G = (2**m / (lambda N)) i sum_x Tr_rest[A_x, B_x]``, twice the text's ``K``.

    In both, ``V -> expm(i eps K) V`` (P1), ``eps`` and ``lambda = 1/eta`` mean what they mean in Beer et al.
    (:meth:`beer` takes ``lambda``), so ``PMMConfig.beer(eps, lam, "code")`` reproduces a run of their code number
    for number, and ``PMMConfig(eps, eta=2 / lam)`` (text convention) is the same step. ``prefactor="inputs"``
    (default): ``m`` = the perceptron's number of inputs (equal to the previous layer's width for their global
    perceptrons); ``"layer"``: ``m`` = the previous layer's width ``widths[l]`` also for sparse (local)
    perceptrons, as their MATLAB code's ``sparse`` option does.
    """

    eps: float = 0.1
    eta: float = 1.0
    convention: str = "text"
    prefactor: str = "inputs"

    def __post_init__(self) -> None:
        if not self.eps > 0 or not self.eta > 0:
            raise ValueError(f"PMMConfig: eps={self.eps} and eta={self.eta} must be > 0")
        if self.convention not in CONVENTIONS:
            raise ValueError(f"PMMConfig: convention {self.convention!r} is not one of {CONVENTIONS}")
        if self.prefactor not in PREFACTORS:
            raise ValueError(f"PMMConfig: prefactor {self.prefactor!r} is not one of {PREFACTORS}")

    @classmethod
    def beer(cls, eps: float, lam: float, convention: str = "code", prefactor: str = "inputs") -> PMMConfig:
        """The configuration of Beer et al.'s step ``eps`` and Lagrange multiplier ``lambda`` (``eta = 1/lam``)."""
        if not lam > 0:
            raise ValueError(f"PMMConfig.beer: lam={lam} must be > 0")
        return cls(eps=eps, eta=1.0 / lam, convention=convention, prefactor=prefactor)

    @property
    def lam(self) -> float:
        """Beer et al.'s ``lambda = 1 / eta``."""
        return 1.0 / self.eta

    def factor(self, net: Network, l: int, p: Perceptron) -> float:
        """The number ``c`` with ``K = c G`` for perceptron ``p`` of layer ``l`` (class docstring)."""
        m = net.widths[l] if self.prefactor == "layer" else len(p.inputs)
        return self.eta * 2**m / 2 if self.convention == "text" else self.eta * 2**m


def matrix_key(p: Perceptron) -> str | None:
    """The parameter key of the unitary PMM updates (the family's ``matrix_parameter``: ``"u"`` for HaarUnitary),
    or None when the perceptron is not trained."""
    return p.unitary.matrix_parameter


def trainable(p: Perceptron) -> bool:
    """Whether parameter-matrix multiplication updates this perceptron (its family has a matrix parameter)."""
    return matrix_key(p) is not None


def check_trainable(net: Network) -> None:
    """ValueError unless some perceptron has a matrix parameter (e.g. :class:`~dqnn.model.families.HaarUnitary`)."""
    if not any(trainable(p) for layer in net.layers for p in layer):
        raise ValueError(
            "parameter-matrix multiplication: the network has no perceptron with a matrix parameter "
            "(family matrix_parameter, e.g. HaarUnitary) to train"
        )


def _wires(net: Network, l: int, p: Perceptron) -> list[int]:
    n_in = net.widths[l]
    return list(p.inputs) + [n_in + q for q in p.outputs]


def _left_transposed(u: Array, wires: Sequence[int], t: Array) -> Array:
    """Apply ``u^T`` ((2**g, 2**g) ``u``) on the tensor axes ``wires`` of ``t`` (shape (2,)*k): the backward sweep
    carries ``conj(C)``, so ``C -> V^dagger C`` is ``conj(C) -> V^T conj(C)`` and no conjugate of ``V`` is formed."""
    g = len(wires)
    ut = jnp.reshape(u, (2,) * (2 * g))
    t = jnp.tensordot(ut, t, axes=(list(range(g)), list(wires)))
    return jnp.moveaxis(t, list(range(g)), list(wires))


def _compress(f: Array) -> Array:
    """``f`` (N, d, r), or per pair a (d, d) factor ``R^dagger`` of ``f f^dagger`` (QR of ``f^dagger``) if ``r > d``."""
    _, d, r = f.shape
    if r <= d:
        return f
    return jnp.conj(jnp.swapaxes(jnp.linalg.qr(jnp.conj(jnp.swapaxes(f, -1, -2)), mode="r"), -1, -2))


@dataclass(frozen=True)
class _Partial:
    """A factored state of some of the register's qubits, the others in ``|0>`` (outputs not yet touched):
    ``t`` has one axis per qubit of ``qubits`` (in that order) and a last axis (pairs x rank)."""

    t: Array
    qubits: tuple[int, ...]


def _apply_fresh(u: Array, wires: Sequence[int], state: _Partial) -> _Partial:
    """``u`` (2**g, 2**g) on ``wires``; a wire not yet in the state enters in ``|0>``, so only the columns of ``u``
    with a 0 there are used (an isometry) and no zero amplitudes are multiplied."""
    g = len(wires)
    fresh = [q not in state.qubits for q in wires]
    ut = jnp.reshape(u, (2,) * (2 * g))[(slice(None),) * g + tuple(0 if f else slice(None) for f in fresh)]
    old = [q for q, f in zip(wires, fresh, strict=True) if not f]
    t = jnp.tensordot(ut, state.t, axes=(list(range(g, g + len(old))), [state.qubits.index(q) for q in old]))
    return _Partial(t, tuple(wires) + tuple(q for q in state.qubits if q not in wires))


def _complete(state: _Partial, n: int) -> Array:
    """The (2,)*n + (last,) tensor of ``state`` in register order, untouched qubits in ``|0>``."""
    missing = [q for q in range(n) if q not in state.qubits]
    # axes: the state's qubits, its last axis, then one |0> axis (index 0 of 2) per missing qubit
    t = jnp.pad(
        jnp.reshape(state.t, state.t.shape + (1,) * len(missing)), [(0, 0)] * state.t.ndim + [(0, 1)] * len(missing)
    )
    axis = {q: i for i, q in enumerate(state.qubits)} | {q: state.t.ndim + i for i, q in enumerate(missing)}
    return jnp.transpose(t, [axis[q] for q in range(n)] + [len(state.qubits)])


def _layer_forward(net: Network, mats: tuple[tuple[Array, ...], ...], l: int, f: Array) -> tuple[list[_Partial], Array]:
    """The perceptrons of layer ``l`` on factors ``f`` (d_in, c) of its input register, outputs fresh in ``|0>``:
    the state after each perceptron (:class:`_Partial`) and the last one as a (2,)*n + (c,) tensor."""
    n_in, n_out = net.widths[l], net.widths[l + 1]
    state = _Partial(jnp.reshape(f, (2,) * n_in + (f.shape[-1],)), tuple(range(n_in)))
    states = []
    for j, p in enumerate(net.layers[l]):
        state = _apply_fresh(mats[l][j], _wires(net, l, p), state)
        states.append(state)
    return states, _complete(state, n_in + n_out)


def _partial_rows(state: _Partial, c: Array, wires: Sequence[int]) -> Array:
    """``Tr_rest(Psi C^dagger)`` (2**g, 2**g) of a partial ``Psi`` and ``c = conj(C)``, a full (2,)*n + (last,)
    tensor: the rest (every other qubit and the last axis) is contracted, ``C`` read at 0 on qubits ``Psi`` lacks."""
    n = c.ndim - 1
    rest = [q for q in state.qubits if q not in wires]
    order = [state.qubits.index(q) for q in wires] + [state.qubits.index(q) for q in rest]
    psi = jnp.transpose(state.t, order + [len(state.qubits)])
    psi = jnp.reshape(psi, (2 ** len(wires), -1))
    c = c[tuple(slice(None) if q in state.qubits else 0 for q in range(n))]
    kept = [q for q in range(n) if q in state.qubits]
    c = jnp.transpose(c, [kept.index(q) for q in wires] + [kept.index(q) for q in rest] + [len(kept)])
    return psi @ jnp.reshape(c, (2 ** len(wires), -1)).T


def _generators(
    net: Network, mats: tuple[tuple[Array, ...], ...], facs: Array, obs: Array
) -> tuple[Array, tuple[tuple[Array | None, ...], ...]]:
    """``F = mean_x Tr[Pi_x rho_x^out]`` and ``G[l][j]`` of (P4) for all N pairs at once.

    ``rho_x = P_x P_x^dagger`` and ``Pi_x = S_x S_x^dagger`` come as factors ``facs`` (N, d_in, r) and ``obs``
    (N, d_out, k). The pairs ride on the rank axis: a layer's forward states ``Psi_j`` of every pair form one
    tensor, so each gate is one ``tensordot`` and ``sum_x Tr_rest(A_x B_x)`` one product
    ``Tr_rest(Psi_j (B_j Psi_j)^dagger)`` contracted over the rest, the pairs and the rank (module docstring).
    Output qubits enter when a perceptron first touches them (only the columns of ``V`` acting on ``|0>`` there).
    The adjoint channel uses the layer's isometry ``W = U^l (1 (x) |0>)``, the same for every pair:
    ``sigma_x^l = W^dagger (1 (x) S_x S_x^dagger) W = T_x T_x^dagger``.
    """
    nb = facs.shape[0]
    forward: list[tuple[list[_Partial], Array]] = []  # per layer: Psi_j of (P2) (all pairs), and Psi_M in full
    f = facs
    for l in range(net.depth):
        n_in, n_out = net.widths[l], net.widths[l + 1]
        r = f.shape[-1]
        states, last = _layer_forward(net, mats, l, jnp.reshape(jnp.transpose(f, (1, 0, 2)), (2**n_in, nb * r)))
        forward.append((states, last))
        t4 = jnp.reshape(last, (2**n_in, 2**n_out, nb, r))
        f = jnp.reshape(jnp.transpose(t4, (2, 1, 0, 3)), (nb, 2**n_out, 2**n_in * r))
        if l < net.depth - 1:  # the output's factors feed only the fidelity, which needs no compression
            f = _compress(f)
    fid = jnp.sum(jnp.abs(jnp.einsum("xbk,xbr->xkr", obs.conj(), f)) ** 2) / nb
    s = obs
    gens: list[tuple[Array | None, ...]] = [() for _ in net.layers]
    for l in reversed(range(net.depth)):
        layer = net.layers[l]
        n_in, n_out = net.widths[l], net.widths[l + 1]
        states, last = forward[l]
        # C_M = (1 (x) sigma) Psi_M, then C_{j-1} = V_j^dagger C_j: C_j = B_j Psi_j of (P3) (B_j is never formed);
        # carried as c = conj(C)
        psi = jnp.reshape(last, (2**n_in, 2**n_out, nb, -1))
        c = jnp.reshape(jnp.einsum("xbk,xck,acxr->abxr", s.conj(), s, psi.conj()), last.shape)
        row: list[Array | None] = [None] * len(layer)
        for j in reversed(range(len(layer))):
            p = layer[j]
            w = _wires(net, l, p)
            if trainable(p):
                x = _partial_rows(states[j], c, w)  # sum_x Tr_rest(A_j B_j)
                row[j] = (1j / nb) * (x - x.conj().T)
            c = _left_transposed(mats[l][j], w, c)
        gens[l] = tuple(row)
        if l == 0:
            break
        _, u = _layer_forward(net, mats, l, jnp.eye(2**n_in, dtype=jnp.complex128))
        iso = jnp.reshape(u, (2**n_in, 2**n_out, 2**n_in))  # W[a, b, c] = <a b| U^l |c 0>
        k = s.shape[-1]
        s = _compress(jnp.reshape(jnp.einsum("abc,xbk->xcak", iso.conj(), s), (nb, 2**n_in, 2**n_in * k)))
    return fid, tuple(gens)


def _matrices(net: Network, params: NetworkParams) -> tuple[tuple[Array, ...], ...]:
    return tuple(
        tuple(p.unitary.matrix(params[l][j]) for j, p in enumerate(layer)) for l, layer in enumerate(net.layers)
    )


def _input_factors(inputs: Array) -> Array:
    """``(N, d, r)`` factors ``P`` (``rho = P P^dagger``) of ``(N, d)`` vectors (r = 1) or ``(N, d, d)`` matrices."""
    x = jnp.asarray(inputs, dtype=jnp.complex128)
    if x.ndim == 2:
        return x[:, :, None]
    if x.ndim == 3:
        return jax.vmap(factor_psd)(x)
    raise ValueError(f"PMM: inputs must be (N, d) vectors or (N, d, d) density matrices, got shape {x.shape}")


def input_factors(inputs: Array) -> Array:
    """Public name of the input factoring: ``(N, d, r)`` factors ``P`` with ``rho_x = P_x P_x^dagger``."""
    return _input_factors(inputs)


def generators_from_factors(
    net: Network, params: NetworkParams, facs: Array, obs_factors: Array
) -> tuple[Array, Generators]:
    """:func:`fidelity_and_generators` from input factors (:func:`input_factors`) instead of states."""
    return _from_factors(net, params, facs, obs_factors)


def _from_factors(net: Network, params: NetworkParams, facs: Array, obs_factors: Array) -> tuple[Array, Generators]:
    obs = jnp.asarray(obs_factors, dtype=jnp.complex128)
    if obs.ndim != 3 or obs.shape[:2] != (facs.shape[0], 2**net.num_outputs):
        raise ValueError(
            f"PMM: observable factors must have shape ({facs.shape[0]}, {2**net.num_outputs}, k), got {obs.shape}"
        )
    if is_noisy(net):
        return _noisy_generators(net, params, facs, obs)
    return _generators(net, _matrices(net, params), facs, obs)


def fidelity_and_generators(
    net: Network, params: NetworkParams, inputs: Array, obs_factors: Array
) -> tuple[Array, Generators]:
    """``F = mean_x Tr[Pi_x rho_x]`` and ``G[l][j]`` of (P4) (``None`` for untrained perceptrons).

    ``inputs``: (N, 2**n_in) vectors or (N, 2**n_in, 2**n_in) matrices; ``obs_factors``: (N, 2**n_out, k)
    factors ``S_x`` of the fidelity observables ``Pi_x = S_x S_x^dagger``
    (:func:`dqnn.training.objectives.observable_factors`).
    """
    return _from_factors(net, params, _input_factors(inputs), obs_factors)


def beer_generators(net: Network, params: NetworkParams, inputs: Array, obs_factors: Array, eta: float) -> Generators:
    """The parameter matrices ``K[l][j] = (eta 2**m / 2) G[l][j]`` of (P5), ``m`` = the perceptron's input count."""
    _, gens = fidelity_and_generators(net, params, inputs, obs_factors)
    return scale_generators(net, gens, eta)


def scale_generators(net: Network, gens: Generators, eta: float) -> Generators:
    """Apply Beer's prefactor ``eta 2**m / 2`` to each ``G`` (``None`` entries kept)."""
    return tuple(
        tuple(None if g is None else (eta * 2 ** len(p.inputs) / 2) * g for p, g in zip(layer, row, strict=True))
        for layer, row in zip(net.layers, gens, strict=True)
    )


def _noisy_generators(net: Network, params: NetworkParams, facs: Array, obs: Array) -> tuple[Array, Generators]:
    """``(F, G)`` of a network with channels (:func:`dqnn.model.noise.with_noise`). (P2)-(P4) assume unitary layers,
    so the closed form does not hold; ``G`` is still ``dF/d eps`` along ``u -> expm(i eps K) u`` for every
    ``K``, which :func:`generators_autodiff` gives from the simulated noisy fidelity."""
    rhos = facs @ jnp.conj(jnp.swapaxes(facs, -1, -2))
    pis = obs @ jnp.conj(jnp.swapaxes(obs, -1, -2))

    def fidelity(p: NetworkParams) -> Array:
        return jnp.mean(per_pair(net, p, rhos, pis, "observable"))

    return fidelity(params), generators_autodiff(lambda p: 1.0 - fidelity(p), net, params)


def apply_generators(net: Network, params: NetworkParams, ks: Generators, eps: Array | float) -> NetworkParams:
    """(P1): ``u -> expm(i eps K) u`` for every trainable perceptron (:func:`dqnn.training.expm.rotate`: one batched
    exponential per matrix size)."""
    slots: list[tuple[int, int, str]] = []
    gens: list[Array] = []
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            if ks[l][j] is None:
                continue
            key = matrix_key(p)
            if key is None:
                raise capability_error(f"apply_generators: perceptron L{l}P{j}", p.unitary, "matrix_parameter")
            slots.append((l, j, key))
            gens.append(ks[l][j])
    new = rotate(gens, [params[l][j][key] for l, j, key in slots], eps)
    out = [list(row) for row in params]
    for (l, j, key), u in zip(slots, new, strict=True):
        out[l][j] = {**params[l][j], key: u}
    return tuple(tuple(row) for row in out)


def parameter_matrices(net: Network, gens: Generators, config: PMMConfig) -> Generators:
    """``K[l][j] = c G[l][j]`` with ``c`` = :meth:`PMMConfig.factor` (the configuration's convention and prefactor)."""
    if config.convention == "text" and config.prefactor == "inputs":
        return scale_generators(net, gens, config.eta)
    return tuple(
        tuple(None if g is None else config.factor(net, l, p) * g for p, g in zip(layer, row, strict=True))
        for l, (layer, row) in enumerate(zip(net.layers, gens, strict=True))
    )


def _step(
    net: Network, params: NetworkParams, facs: Array, obs_factors: Array, config: PMMConfig
) -> tuple[NetworkParams, Array]:
    fid, gens = _from_factors(net, params, facs, obs_factors)
    ks = parameter_matrices(net, gens, config)
    return apply_generators(net, params, ks, config.eps), 1.0 - fid


def pmm_update(
    net: Network, params: NetworkParams, inputs: Array, obs_factors: Array, config: PMMConfig
) -> tuple[NetworkParams, Array]:
    """One step (P1) of every trainable perceptron at once; returns ``(new params, cost before the step)``.

    ``inputs`` and ``obs_factors`` as in :func:`fidelity_and_generators`.
    """
    return _step(net, params, _input_factors(inputs), obs_factors, config)


def make_pmm_update(
    net: Network, config: PMMConfig
) -> Callable[[NetworkParams, Array, Array], tuple[NetworkParams, Array]]:
    """:func:`pmm_update` for a fixed network and configuration, jitted.

    Density-matrix inputs are factored (``eigh``) in a separate jitted call before the step, so the step
    itself holds only factors.
    """
    check_trainable(net)
    core = jax.jit(lambda params, facs, obs: _step(net, params, facs, obs, config))
    factor = jax.jit(_input_factors)

    def update(params: NetworkParams, inputs: Array, obs_factors: Array) -> tuple[NetworkParams, Array]:
        return core(params, factor(inputs), obs_factors)

    return update


def generators_autodiff(cost_fn: Callable[[NetworkParams], Array], net: Network, params: NetworkParams) -> Generators:
    """``G[l][j]`` with ``dC/d eps = -Tr[K G]`` along ``u -> expm(i eps K) u``, from ``jax.grad`` of any cost.

    For a real ``C(u)``, ``dC = 2 Re Tr[D^T du]`` with ``D = dC/du`` (Wirtinger; for real ``C`` ``jax.grad``
    returns ``2 D``). With ``du = i K u``: ``dC = Tr[K i (X - X^dagger)]``, ``X = u D^T``, so
    ``G = -i (X - X^dagger)`` for the fidelity ``F = 1 - C``. A reference for (P4), independent of it.
    """
    grads = jax.grad(lambda p: jnp.real(cost_fn(p)))(params)
    out = []
    for l, layer in enumerate(net.layers):
        row: list[Array | None] = []
        for j, p in enumerate(layer):
            key = matrix_key(p)
            if key is None:
                row.append(None)
                continue
            u = params[l][j][key]
            d = grads[l][j][key] / 2
            x = u @ d.T
            row.append(-1j * (x - x.conj().T))
        out.append(tuple(row))
    return tuple(out)


__all__ = [
    "CONVENTIONS",
    "PREFACTORS",
    "Generators",
    "PMMConfig",
    "apply_generators",
    "beer_generators",
    "check_trainable",
    "factor_psd",
    "fidelity_and_generators",
    "generators_autodiff",
    "generators_from_factors",
    "input_factors",
    "make_pmm_update",
    "matrix_key",
    "parameter_matrices",
    "pmm_update",
    "scale_generators",
    "trainable",
]
