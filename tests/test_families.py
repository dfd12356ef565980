"""Perceptron families: matrices against hand-built products."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn.model import families, gates
from dqnn.model.families import Circuit, Gate, RandomUnitary, Rot


def test_circuit_matrix_is_time_ordered_product():
    c = Circuit(2, [Gate("SWAP", (0, 1)), Rot("Y", (1,)), Gate("CNOT", (1, 0))])
    p = c.init(jax.random.key(0))
    t = float(p["theta"][0])
    ry = np.asarray(gates.pauli_rotation("Y", t))
    cnot_10 = gates.SWAP @ gates.CNOT @ gates.SWAP  # control on wire 1
    want = cnot_10 @ np.kron(np.eye(2), ry) @ gates.SWAP
    np.testing.assert_allclose(np.asarray(c.matrix(p)), want, atol=1e-14)


def test_fig3a_perceptron_moves_input_and_rotates():
    p = families.fig3a_perceptron()
    prm = {"theta": np.array([0.4]), "haar": ()}
    u = np.asarray(p.matrix(prm))
    ry = np.asarray(gates.pauli_rotation("Y", 0.4))
    np.testing.assert_allclose(u, np.kron(np.eye(2), ry) @ gates.SWAP, atol=1e-14)


def test_random_unitary_and_rotation_in_w_block():
    c = Circuit(2, families.two_qubit_w("haar-rotation"))
    p = c.init(jax.random.key(3))
    a, b = (np.asarray(x) for x in p["haar"][::-1])
    r = np.kron(np.asarray(gates.pauli_rotation("Y", float(p["theta"][0]))), np.eye(2))
    np.testing.assert_allclose(np.asarray(c.matrix(p)), a @ r @ b, atol=1e-13)
    assert c.random_blocks == ((0, 1), (0, 1))
    assert c.shift_rule_ok == (True,)


def test_general_hermitian_generator_and_shift_rule_flag():
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    c = Circuit(2, [Rot(h, (0, 1))])
    t = 0.3
    u = np.asarray(c.matrix({"theta": np.array([t]), "haar": ()}))
    np.testing.assert_allclose(u, np.diag(np.exp(-0.5j * t * np.diag(h))), atol=1e-14)
    assert c.shift_rule_ok == (False,)


def test_circuit_errors_name_the_element():
    with pytest.raises(ValueError, match="element 0: wire 2 is out of range"):
        Circuit(2, [Rot("Y", (2,))])
    with pytest.raises(ValueError, match="element 1 generator.*not Hermitian"):
        Circuit(1, [Rot("Y", (0,)), Rot(np.array([[0, 1], [0, 0]]), (0,))])
    with pytest.raises(ValueError, match="element 0.*not unitary"):
        Circuit(1, [Gate(np.diag([1.0, 2.0]), (0,))])
    with pytest.raises(ValueError, match="repeat"):
        Circuit(2, [RandomUnitary((1, 1))])
    with pytest.raises(ValueError, match="unknown kind"):
        families.two_qubit_w("nope")


def test_fixed_swap_is_recognised_as_relabelling():
    f = families.Fixed(gates.SWAP)
    assert isinstance(f.ops({})[0], families.SwapOp)
    g = families.Fixed(gates.CNOT)
    assert isinstance(g.ops({})[0], families.GateOp)


def test_embed_matches_kron():
    u = np.asarray(gates.haar_unitary(jax.random.key(0), 4))
    full = np.asarray(families.embed(u, (2, 0), 3))
    # u on (2, 0): permute so that wire 2 is most significant
    want = np.kron(u, np.eye(2)).reshape((2,) * 6)  # axes: (2, 0, 1) -> out
    want = want.transpose(1, 2, 0, 4, 5, 3).reshape(8, 8)
    np.testing.assert_allclose(full, want, atol=1e-14)


def test_fuse_keeps_the_unitary_and_concrete_gates_concrete():  # type: ignore[no-untyped-def]
    from dqnn.model.families import GateOp, SwapOp, fuse, ops_matrix

    c = Circuit(3, [Rot("Y", (0,)), Rot("X", (1,)), Gate("CZ", (0, 1)), Gate("SWAP", (1, 2)), Rot("Z", (2,))])
    params = c.init(jax.random.key(0))
    ops = c.ops(params)
    fused = fuse(ops)
    assert [type(o) for o in fused] == [GateOp, SwapOp, GateOp]
    assert fused[0].wires == (0, 1)
    np.testing.assert_allclose(np.asarray(ops_matrix(fused, 3)), np.asarray(ops_matrix(ops, 3)), atol=1e-14)
    fixed = fuse([GateOp(np.asarray(gates.CZ), (0, 1)), GateOp(np.asarray(gates.HADAMARD), (1,))])
    assert len(fixed) == 1 and isinstance(fixed[0].matrix, np.ndarray)
    assert len(fuse(ops, max_wires=1)) == len(ops)  # nothing spans one wire here


def test_every_family_speaks_the_protocol():
    from dqnn.model.protocol import PAULI_RULE, Family, MomentGate, MomentRotation, MomentTwirl

    fixed = families.Fixed(gates.CNOT)
    haar = families.HaarUnitary(2)
    circ = Circuit(2, [Rot("Y", (0,)), Gate("CZ", (0, 1)), RandomUnitary((0, 1)), Rot(np.diag([0.0, 1, 2, 3]), (0, 1))])
    for fam in (fixed, haar, circ):
        assert isinstance(fam, Family)
    assert fixed.moment_elements() == (MomentGate(fixed.unitary, (0, 1)),)
    assert (fixed.shift_rule(0), fixed.packed(0), fixed.matrix_parameter, fixed.fusable) == (None, None, None, False)
    assert haar.matrix_parameter == "u" and haar.moment_elements() == (MomentTwirl((0, 1)),)
    assert haar.packed(0) is None and not haar.fusable
    assert circ.fusable and circ.matrix_parameter is None
    assert circ.shift_rule(0) == PAULI_RULE and circ.shift_rule(1) is None
    assert "element 3" in circ.why_not("shift_rule", 1) and "eigenvalues +-1" in circ.why_not("shift_rule", 1)
    assert circ.packed(0) is None and "not real" in circ.why_not("packed", 0)
    assert circ.moment_elements() is None and "element 3" in circ.why_not("moments")
    good = Circuit(2, [Rot("Y", (0,)), Gate("CZ", (0, 1)), RandomUnitary((0, 1)), Rot("XZ", (0, 1))])
    els = good.moment_elements()
    assert els is not None
    assert [type(e) for e in els] == [MomentRotation, MomentGate, MomentTwirl, MomentRotation]
    assert [e.angle for e in els if isinstance(e, MomentRotation)] == [0, 1]
    np.testing.assert_array_equal(els[3].generator, gates.pauli_string("XZ"))
    real = Circuit(2, [Gate("CZ", (0, 1)), Rot("Y", (1,)), Rot("Y", (0,))])
    assert real.angle_position(1) == 2
    pk = real.packed(1)
    assert isinstance(pk, families.Packed) and (pk.position, pk.angle, pk.real) == (2, 1, False)
    with pytest.raises(ValueError, match="angle 2 out of range"):
        real.angle_position(2)


def test_random_blocks_of_one_size_drawn_together_give_the_per_block_numbers():
    """Circuit.init draws same-size blocks in one vmapped call: the numbers of one haar_unitary call per block key."""
    c = Circuit(
        3,
        [RandomUnitary((0, 1)), Rot("Y", (2,)), RandomUnitary((2,)), RandomUnitary((1, 2)), RandomUnitary((0,))],
    )
    key = jax.random.key(11)
    p = c.init(key)
    _, kh = jax.random.split(key)
    keys = jax.random.split(kh, 4)
    expected = [gates.haar_unitary(k, 2 ** len(w)) for k, w in zip(keys, c.random_blocks, strict=True)]
    assert [u.shape for u in p["haar"]] == [(4, 4), (2, 2), (4, 4), (2, 2)]
    for got, want in zip(p["haar"], expected, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        np.testing.assert_allclose(np.asarray(got) @ np.asarray(got).conj().T, np.eye(got.shape[0]), atol=1e-12)
