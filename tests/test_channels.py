"""Kraus channels (dqnn.model.channels) and their application to factored states (dqnn.sim.channels).

Ready-made channels against their textbook action on random states; validation messages; the simulator's two
ways of applying a channel (stacking Kraus images, superoperator on the density matrix) against the plain sum.
"""

from __future__ import annotations

import numpy as np
import pytest

from bruteforce import embed_full
from dqnn.model import channels as C
from dqnn.sim import channels as S


def _rho(seed: int, d: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    r = g @ g.conj().T
    return r / np.trace(r)


def _bloch(r: np.ndarray) -> np.ndarray:
    return np.array([np.trace(r @ C._PAULI[p]).real for p in "XYZ"])


def test_ready_made_channels_act_as_textbook() -> None:
    r = _rho(1)
    p, g = 0.23, 0.37
    np.testing.assert_allclose(_bloch(C.depolarizing(p).apply(r)), (1 - p) * _bloch(r), atol=1e-14)
    np.testing.assert_allclose(C.depolarizing(1.0).apply(r), np.eye(2) / 2, atol=1e-14)
    b = _bloch(r)
    np.testing.assert_allclose(
        _bloch(C.dephasing(p).apply(r)), [(1 - 2 * p) * b[0], (1 - 2 * p) * b[1], b[2]], atol=1e-14
    )
    ad = C.amplitude_damping(g).apply(r)
    np.testing.assert_allclose(ad[1, 1], (1 - g) * r[1, 1], atol=1e-14)
    np.testing.assert_allclose(ad[0, 1], np.sqrt(1 - g) * r[0, 1], atol=1e-14)
    thermal = np.diag([0.8, 0.2])
    np.testing.assert_allclose(C.generalized_amplitude_damping(g, 0.8).apply(thermal), thermal, atol=1e-14)
    np.testing.assert_allclose(
        C.generalized_amplitude_damping(g, 1.0).apply(r), C.amplitude_damping(g).apply(r), atol=1e-14
    )
    pc = C.pauli_channel({"I": 0.5, "X": 0.2, "Y": 0.3})
    want = 0.5 * r + 0.2 * C._PAULI["X"] @ r @ C._PAULI["X"] + 0.3 * C._PAULI["Y"] @ r @ C._PAULI["Y"]
    np.testing.assert_allclose(pc.apply(r), want, atol=1e-14)
    # flags: depolarizing is unital and (after removing phases) real; amplitude damping is not unital
    assert C.depolarizing(p).unital and C.depolarizing(p).real
    assert not C.amplitude_damping(g).unital and C.amplitude_damping(g).real
    assert C.random_channel(0).num_kraus == 3 and not C.random_channel(0).real


def test_readout_error_matches_confusion_matrix() -> None:
    r4 = _rho(2, 4)
    ch = C.tensor([C.readout_error(0.1, 0.3), C.readout_error(0.02, 0.05)])
    got = np.real(np.diag(ch.apply(r4)))
    m = [[[0.9, 0.3], [0.1, 0.7]], [[0.98, 0.05], [0.02, 0.95]]]
    np.testing.assert_allclose(got, C.apply_confusion(np.real(np.diag(r4)), m), atol=1e-14)
    # a brute-force confusion: M0 (x) M1 on the probability vector
    np.testing.assert_allclose(got, np.kron(m[0], m[1]) @ np.real(np.diag(r4)), atol=1e-14)
    assert abs(ch.apply(r4)[0, 1]) < 1e-15  # coherences destroyed


def test_tensor_and_superoperator() -> None:
    a, b = C.random_channel(3), C.amplitude_damping(0.4)
    r = _rho(4, 4)
    want = sum(np.kron(x, y) @ r @ np.kron(x, y).conj().T for x in a.kraus for y in b.kraus)
    np.testing.assert_allclose(C.tensor([a, b]).apply(r), want, atol=1e-14)
    sup = a.superoperator()
    r2 = _rho(5)
    np.testing.assert_allclose((sup @ r2.reshape(-1)).reshape(2, 2), a.apply(r2), atol=1e-14)


def test_validation_names_the_channel() -> None:
    with pytest.raises(ValueError, match="'leaky'.*not trace preserving"):
        C.channel([np.diag([1.0, 0.9])], name="leaky")
    with pytest.raises(ValueError, match="'odd'.*2\\*\\*w"):
        C.channel([np.eye(3)], name="odd")
    with pytest.raises(ValueError, match="'bad'.*square"):
        C.channel(np.ones((2, 2, 4)), name="bad")
    with pytest.raises(ValueError, match="depolarizing: p"):
        C.depolarizing(1.5)
    with pytest.raises(ValueError, match="sum to"):
        C.pauli_channel({"I": 0.5, "X": 0.4})
    with pytest.raises(ValueError, match="not a Pauli string"):
        C.pauli_channel({"I": 0.5, "Q": 0.5})
    # a tolerance: a channel off by 1e-12 passes the default, fails a tighter one
    k = [np.eye(2) * np.sqrt(1 + 1e-12)]
    assert C.channel(k, "near").num_kraus == 1
    with pytest.raises(ValueError, match="'near'"):
        C.channel(k, "near", atol=1e-14)


@pytest.mark.parametrize("wires", [(1,), (2, 0)])
def test_sim_channel_forms_agree(wires: tuple[int, ...]) -> None:
    """stack (purified and a b^dagger forms) and on_density against sum_i K_i rho K_i^dagger, 3 qubits."""
    rng = np.random.default_rng(7)
    q, r = 3, 2
    ch = C.random_channel(11, len(wires), 2)
    a = rng.normal(size=(2,) * q + (r,)) + 1j * rng.normal(size=(2,) * q + (r,))
    b = rng.normal(size=(2,) * q + (r,)) + 1j * rng.normal(size=(2,) * q + (r,))
    ks = [embed_full(k, list(wires), q) for k in ch.kraus]
    d = 2**q

    def dense(x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        xm = x.reshape(d, -1)
        ym = xm if y is None else y.reshape(d, -1)
        return xm @ ym.conj().T

    for bb in (None, b):
        want = sum(k @ dense(a, bb) @ k.conj().T for k in ks)
        a2, b2 = S.stack(a, bb, ch.kraus, list(wires))
        assert a2.shape == (2,) * q + (r * ch.num_kraus,) and (b2 is None) == (bb is None)
        np.testing.assert_allclose(dense(np.asarray(a2), None if b2 is None else np.asarray(b2)), want, atol=1e-12)
        rho = dense(a, bb).reshape((2,) * q + (d,))
        np.testing.assert_allclose(
            np.asarray(S.on_density(rho, ch.kraus, list(wires), q)).reshape(d, d), want, atol=1e-12
        )
    assert S.stack_cheaper(2, 2, 3) and not S.stack_cheaper(4, 2, 3)
