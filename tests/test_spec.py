"""dqnn.spec: safe expressions, n-dependent specs and patterns against the presets and hand-built networks,
parameters, save/load round trips, fingerprints, paths, Python networks and NetworkSource.

The one-line error messages of every spec problem are checked through the real command in test_cli_simulate.py.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqnn import spec
from dqnn.model import families, gates, states
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state
from dqnn.spec import expressions
from dqnn.training.loop import params_to_arrays

DOCS = Path(__file__).resolve().parents[1] / "docs" / "examples" / "specs"
BY_N = DOCS / "by_n"


def structure(net: Network) -> tuple:
    """Widths, strictness, and per perceptron: inputs, outputs, family class and name, parameter shapes."""
    key = jax.random.key(0)
    return (
        net.widths,
        net.strict,
        tuple(
            tuple(
                (
                    p.inputs,
                    p.outputs,
                    type(p.unitary).__name__,
                    getattr(p.unitary, "name", None),
                    jax.tree.map(lambda a: a.shape, jax.eval_shape(p.unitary.init, key)),
                )
                for p in row
            )
            for row in net.layers
        ),
    )


def same_init(a: Network, b: Network, seed: int = 3) -> None:
    """Same parameter pytree structure and the same numbers for the same seed."""
    pa, pb = a.init(jax.random.key(seed)), b.init(jax.random.key(seed))
    assert jax.tree.structure(pa) == jax.tree.structure(pb)
    for x, y in zip(jax.tree.leaves(pa), jax.tree.leaves(pb), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def write(tmp_path: Path, data: dict, name: str = "net.json") -> Path:
    f = tmp_path / name
    f.write_text(json.dumps(data))
    return f


# -- expressions ------------------------------------------------------------------------------------------------


def _oracle(text: str, env: dict[str, int]) -> int:
    """Python's own evaluation of an allowed expression (the test's independent reference)."""
    fns = {
        "min": min,
        "max": max,
        "cdiv": lambda a, b: math.ceil(a / b) if abs(a) < 2**50 else -(-a // b),
        "log2": lambda a: math.ceil(math.log2(a)),
    }
    return eval(text, {"__builtins__": {}}, {**fns, **env})  # test oracle only


_leaf = st.one_of(st.integers(0, 9).map(str), st.sampled_from(["n", "L", "l"]))


def _expr_strategy() -> st.SearchStrategy[str]:
    def extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binop = st.tuples(sub, st.sampled_from(["+", "-", "*", "//", "%"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        call = st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
        cdiv = st.tuples(sub, st.integers(1, 5)).map(lambda t: f"cdiv({t[0]}, {t[1]})")
        log2 = st.integers(1, 4096).map(lambda a: f"log2({a})")
        power = st.tuples(st.integers(0, 3), st.integers(0, 4)).map(lambda t: f"{t[0]} ** {t[1]}")
        return st.one_of(binop, call, cdiv, log2, power)

    return st.recursive(_leaf, extend, max_leaves=8)


@given(_expr_strategy(), st.integers(1, 64), st.integers(1, 8), st.integers(0, 8))
def test_expressions_agree_with_python(text, n, big_l, small_l):
    env = {"n": n, "L": big_l, "l": small_l}
    try:
        want = _oracle(text, env)
    except ZeroDivisionError:
        with pytest.raises(expressions.ExpressionError, match="division by zero"):
            expressions.evaluate(text, env)
        return
    assert expressions.evaluate(text, env) == want


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("__import__('os').system('true')", "only min, max, cdiv, log2 may be called"),
        ("n.real", "Attribute is not allowed"),
        ("n / 2", "use '//'"),
        ("1.5", "only integer literals"),
        ("True", "only integer literals"),
        ("n if n else 1", "IfExp is not allowed"),
        ("(lambda: 1)()", "may be called"),
        ("[n][0]", "is not allowed"),
        ("min(a=1)", "no keyword arguments"),
        ("n < 2", "Compare is not allowed"),
        ("m + 1", "unknown variable 'm'"),
        ("2 ** 50", "exceeds the limit"),
        ("2 ** 100", "exponent too large"),
        ("2 ** -1", "negative exponent"),
        ("log2(0)", "needs an argument >= 1"),
        ("cdiv(1, 0)", "division by zero"),
        ("n +", "does not parse"),
        ("x" * 300, "longer than"),
    ],
)
def test_expressions_refuse_what_is_not_allowed(text, match):
    with pytest.raises(expressions.ExpressionError, match=match):
        expressions.evaluate(text, {"n": 4})


def test_expression_variables_and_functions():
    assert expressions.variables_of("max(n, L) + l // 2") == {"n", "L", "l"}
    assert expressions.evaluate("log2(8) + log2(9)", {}) == 3 + 4
    assert expressions.evaluate("cdiv(7, 2) + cdiv(8, 2)", {}) == 4 + 4
    assert expressions.evaluate(12, {}) == 12


# -- n-dependent examples against the presets -------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_fig3a_and_global_examples_equal_the_presets(n):
    fa = spec.network_source(BY_N / "fig3a.json")
    gl = spec.network_source(BY_N / "global.json")
    assert fa.depends_on_n and gl.depends_on_n
    assert structure(fa.network(n)) == structure(architectures.fig3a(n, 2))
    assert structure(gl.network(n)) == structure(architectures.global_haar([n] * 3))
    if n <= 3:  # the same numbers for the same seed (Haar draws on n + 1 qubits get costly beyond)
        same_init(fa.network(n), architectures.fig3a(n, 2))
        same_init(gl.network(n), architectures.global_haar([n] * 3))


@pytest.mark.parametrize("n", [2, 3, 4, 7, 16])
def test_fig3b_example_equals_the_preset(n):
    src = spec.network_source(BY_N / "fig3b.toml")
    net = src.network(n)
    assert structure(net) == structure(architectures.fig3b(n, 4))
    if n == 3:
        same_init(net, architectures.fig3b(n, 4))
    # one family object per kind, as the preset shares its V1 and V2 (grouped initialisation, fused engines)
    assert len({id(p.unitary) for row in net.layers for p in row}) == 2
    assert src.fingerprint(n) == spec.fingerprint_network(architectures.fig3b(n, 4))


@pytest.mark.parametrize(("n", "depth"), [(3, 1), (4, 3), (6, 5)])
def test_depth_override_matches_presets_of_other_depths(n, depth, tmp_path):
    data = spec.load(BY_N / "fig3b.toml")
    assert structure(spec.build(data, n, L=depth)) == structure(architectures.fig3b(n, depth))
    data = spec.load(BY_N / "fig3a.json")
    assert structure(spec.build(data, n, L=depth)) == structure(architectures.fig3a(n, depth))
    arch = spec.load(write(tmp_path, {"architecture": "fig3b", "n": {"min": 2}, "layers": 2, "w": "ry-cz"}))
    assert structure(spec.build(arch, n, L=depth)) == structure(architectures.fig3b(n, depth, "ry-cz"))


def _pyramid(widths: list[int]) -> Network:
    """Hand-built pyramid: output j of layer l + 1 sees qubits floor(j a / b) .. floor((j + 1) a / b) - 1 of layer l
    (a, b the two widths): the documented rule."""
    rows = []
    for l in range(len(widths) - 1):
        a, b = widths[l], widths[l + 1]
        bounds = [j * a // b for j in range(b + 1)]
        rows.append(
            [
                Perceptron(range(bounds[j], bounds[j + 1]), [j], families.HaarUnitary(bounds[j + 1] - bounds[j] + 1))
                for j in range(b)
            ]
        )
    return Network(widths, rows, strict=True)


@pytest.mark.parametrize(("n", "widths"), [(2, [2, 1]), (6, [6, 3, 2, 1]), (8, [8, 4, 2, 1]), (16, [16, 8, 4, 2, 1])])
def test_pyramid_example(n, widths):
    net = spec.network_source(BY_N / "pyramid.toml").network(n)
    assert list(net.widths) == widths
    assert structure(net) == structure(_pyramid(widths))
    fixed = spec.build(spec.load(DOCS / "pyramid_8421.toml"))
    assert structure(fixed) == structure(_pyramid([8, 4, 2, 1]))


def _brick_k2(n: int) -> Network:
    """Hand-built k = 2 brick: pairs (j, j+1) from l % 2 on 2 inputs and 2 outputs, then the uncovered qubits."""
    rows = []
    for l in range(2):
        starts = list(range(l % 2, n - 1, 2))
        covered = {q for j in starts for q in (j, j + 1)}
        row = [Perceptron([j, j + 1], [j, j + 1], families.HaarUnitary(4)) for j in starts]
        row += [Perceptron([j], [j], families.HaarUnitary(2)) for j in range(n) if j not in covered]
        rows.append(row)
    return Network([n] * 3, rows, strict=True)


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_k2_example(n):
    net = spec.network_source(BY_N / "brick_k2.toml").network(n)
    assert structure(net) == structure(_brick_k2(n))
    assert any(len(p.outputs) == 2 for row in net.layers for p in row)
    if n == 3:
        same_init(net, _brick_k2(n))


def test_python_function_example():
    src = spec.network_source(f"{BY_N / 'networks.py'}:rx_rz_cnot")
    assert src.depends_on_n
    net = src.network(4)
    assert net.widths == (4, 4)
    assert [p.inputs for p in net.layers[0]] == [(0, 1), (1, 2), (2, 3), (3,)]
    assert src.parameters(4) is None
    assert src.fingerprint(4) == spec.fingerprint_network(net)


# -- patterns ---------------------------------------------------------------------------------------------------


def _wiring(data: dict, n: int | None = None) -> list[list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    net = spec.build(data, n)
    return [[(p.inputs, p.outputs) for p in row] for row in net.layers]


def test_window_boundaries_stride_offset_and_k():
    base = {"widths": [5, 3], "layers": [[{"pattern": "window", "size": 3, "stride": 2, "offset": -1}]]}
    assert _wiring(base) == [[((0, 1), (0,)), ((1, 2, 3), (1,)), ((3, 4), (2,))]]
    periodic = {**base, "layers": [[{**base["layers"][0][0], "boundary": "periodic"}]]}
    assert _wiring(periodic) == [[((4, 0, 1), (0,)), ((1, 2, 3), (1,)), ((3, 4, 0), (2,))]]
    k2 = {"widths": [4, 4], "layers": [[{"pattern": "window", "size": 2, "stride": 2, "k": 2}]]}
    assert _wiring(k2) == [[((0, 1), (0, 1)), ((2, 3), (2, 3))]]
    with pytest.raises(spec.SpecError, match=r"layers\[0\]\[0\]: perceptron 0's window \[-1, 0, 1\] leaves layer 0"):
        spec.build({**base, "layers": [[{**base["layers"][0][0], "boundary": "error"}]]})


def test_global_with_k_and_uneven_groups():
    data = {"widths": [2, 5], "layers": [{"pattern": "global", "k": 2}]}
    assert _wiring(data) == [[((0, 1), (0, 1)), ((0, 1), (2, 3)), ((0, 1), (4,))]]


def test_brick_parity_and_mixed_items_in_an_n_dependent_layer():
    data = {
        "n": {"min": 3},
        "widths": ["n", "n"],
        "layers": [
            [
                {"pattern": "brick", "parity": 1, "pair": "haar", "single": "haar"},
                {"inputs": ["n - 1", 0], "outputs": ["n // 2"], "family": {"circuit": [["gate", "CZ", [0, 2]]]}},
            ]
        ],
    }
    assert _wiring(data, 5) == [[((1, 2), (1,)), ((3, 4), (3,)), ((0,), (0,)), ((2,), (2,)), ((4,), (4,)),
                                 ((4, 0), (2,))]]  # fmt: skip


def test_fixed_n_with_expressions_and_widths_as_one_expression():
    data = {"n": 3, "widths": ["n", "2 * n - 1"], "layers": [[{"pattern": "global"}]]}
    net = spec.build(data)
    assert net.widths == (3, 5) and not spec.depends_on_n(data)
    data = {"n": {"min": 1}, "L": "n + 1", "widths": "n + l", "layers": {"each": {"pattern": "global"}}}
    assert spec.build(data, 2).widths == (2, 3, 4, 5)


def test_families_are_shared_and_equal_to_the_model_constructors(tmp_path):
    u = np.kron(gates.HADAMARD, gates.X)
    np.save(tmp_path / "u.npy", u)
    data = {
        "widths": [2, 2],
        "layers": [
            [
                {"inputs": [0], "outputs": [0], "family": {"npy": "u.npy"}},
                {"inputs": [1], "outputs": [1], "family": {"npy": "u.npy"}},
                {"inputs": [0], "outputs": [1], "family": {"hamiltonian": {"ZZ": 0.5, "XI": 1.0}}},
            ]
        ],
    }
    net = spec.build(spec.load(write(tmp_path, data)))
    a, b, c = net.layers[0]
    assert a.unitary is b.unitary
    np.testing.assert_array_equal(a.unitary.unitary, u)
    want = 0.5 * gates.pauli_string("ZZ") + gates.pauli_string("XI")
    assert isinstance(c.unitary, HamiltonianRotation)
    np.testing.assert_allclose(c.unitary.h, want)


# -- parameters, save and fingerprints --------------------------------------------------------------------------


def _mixed_network() -> Network:
    """Every family save() knows, shared and not, with a matrix generator and a matrix gate."""
    fixed = families.Fixed(np.kron(gates.HADAMARD, gates.X) @ gates.CNOT, 2)
    gen = 0.6 * gates.pauli_string("XZ") + 0.8 * gates.pauli_string("YY")  # squares to one
    circ = families.Circuit(
        3,
        [
            families.Rot("y", (2,)),
            families.Rot(gen, (0, 2)),
            families.Gate("CNOT", (1, 2)),
            families.Gate(gates.kron(gates.HADAMARD, gates.Z), (0, 2)),
            families.RandomUnitary((1, 2)),
        ],
    )
    ham = HamiltonianRotation(gates.pauli_string("ZX") + 0.3 * gates.pauli_string("YI"))
    rows = [
        [
            Perceptron([0, 1], [0], circ),
            Perceptron([1], [1], fixed),
            Perceptron([2], [1], fixed),
            Perceptron([0, 2], [2], families.fig3b_v1("ry-cz")),
            Perceptron([2], [2], ham),
        ],
        [
            Perceptron([0], [0], families.fig3a_perceptron()),
            Perceptron([1, 2], [0], families.fig3b_v1()),
            Perceptron([0, 1, 2], [1], families.HaarUnitary(4)),
            Perceptron([2], [1], families.fig3b_v2()),
        ],
    ]
    return Network([3, 3, 2], rows)


def test_save_load_round_trip_gives_the_same_output_state(tmp_path):
    net = _mixed_network()
    params = net.init(jax.random.key(11))
    path = spec.save(tmp_path / "trained.json", net, params)
    src = spec.network_source(path)
    assert not src.depends_on_n
    again, loaded = src.network(), src.parameters()
    assert loaded is not None
    assert structure(again)[0] == structure(net)[0]
    want = np.asarray(output_state(net, params, states.zero_state(3)))
    got = np.asarray(output_state(again, loaded, states.zero_state(3)))
    np.testing.assert_allclose(got, want, atol=1e-12, rtol=0)
    assert (
        np.linalg.norm(want - np.asarray(output_state(net, net.init(jax.random.key(12)), states.zero_state(3)))) > 1e-3
    )
    # the shared fixed matrix is one file and one family again; the named perceptrons come back by name
    saved = json.loads(path.read_text())
    fams = [p["family"] for row in saved["layers"] for p in row]
    assert fams[1] == fams[2] and fams[3] == {"fig3b-v1": "ry-cz"}
    assert fams[5:] == ["fig3a", "fig3b-v1", "haar", "fig3b-v2"]
    assert again.layers[0][1].unitary is again.layers[0][2].unitary
    assert src.fingerprint() == spec.fingerprint_network(net, params)
    # simulate() uses the stored parameters, not a fresh initialisation from its seed
    _, p2, rho = spec.simulate(spec.load(path), seed=999)
    np.testing.assert_allclose(rho, want, atol=1e-12, rtol=0)
    assert set(params_to_arrays(p2)) == set(params_to_arrays(params))


def test_parameters_of_a_preset_spec_and_their_errors(tmp_path):
    from dqnn.training.loop import save_params

    net = architectures.fig3b(4, 2)
    params = net.init(jax.random.key(2))
    save_params(tmp_path / "p.npz", params)
    f = write(tmp_path, {"architecture": "fig3b", "n": 4, "layers": 2, "parameters": "p.npz"})
    got = spec.network_source(f).parameters()
    for x, y in zip(jax.tree.leaves(got), jax.tree.leaves(params), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    bad = write(tmp_path, {"architecture": "fig3b", "n": 5, "layers": 2, "parameters": "p.npz"}, "bad.json")
    with pytest.raises(spec.SpecError, match=r"bad\.json: parameters: p\.npz: missing arrays layer0\.perceptron4"):
        spec.network_source(bad).parameters()
    arrays = params_to_arrays(params)
    arrays["layer0.perceptron0.theta"] = np.zeros(3)
    np.savez(tmp_path / "q.npz", **arrays)
    f = write(tmp_path, {"architecture": "fig3b", "n": 4, "layers": 2, "parameters": "q.npz"}, "q.json")
    with pytest.raises(
        spec.SpecError, match=r"'layer0\.perceptron0\.theta' has shape \(3,\), the network needs \(1,\)"
    ):
        spec.network_source(f).parameters()
    # n-dependent spec: {n} in the file name
    save_params(tmp_path / "p4.npz", params)
    f = write(tmp_path, {"architecture": "fig3b", "n": {"min": 2}, "layers": 2, "parameters": "p{n}.npz"}, "r.json")
    assert spec.network_source(f).parameters(4) is not None
    with pytest.raises(spec.SpecError, match=r"r\.json: parameters: file 'p5\.npz' does not exist"):
        spec.network_source(f).parameters(5)


def test_fingerprints_tell_networks_apart():
    fp = spec.fingerprint_network
    a = architectures.fig3b(4, 2)
    assert fp(a) == fp(architectures.fig3b(4, 2))
    assert fp(a) != fp(architectures.fig3b(4, 2, "ry-cz"))
    assert fp(a) != fp(architectures.fig3b(5, 2))
    assert fp(architectures.fig3a(3)) != fp(architectures.global_haar([3, 3]))
    p = a.init(jax.random.key(0))
    assert fp(a, p) == fp(a, a.init(jax.random.key(0))) != fp(a, a.init(jax.random.key(1))) != fp(a)
    u = np.eye(4, dtype=complex)
    v = np.diag([1, 1, 1, -1]).astype(complex)
    assert fp(Network.from_unitaries([1, 1], [[u]])) != fp(Network.from_unitaries([1, 1], [[v]]))
    assert len(fp(a)) == 64 and int(fp(a), 16) >= 0
    # content, not names: a circuit equal to the Fig. 3a perceptron has its fingerprint
    same = families.Circuit(2, [families.Gate(gates.SWAP, (0, 1)), families.Rot("Y", (1,))], name="mine")
    mine = Network([2, 2], [[Perceptron([j], [j], same) for j in range(2)]], strict=True)
    assert fp(mine) == fp(architectures.fig3a(2))


def test_save_refuses_what_a_spec_cannot_hold(tmp_path):
    class Odd:  # a family of its own: the protocol's core, nothing a spec names
        num_qubits, num_angles = 2, 0
        inner = families.HaarUnitary(2)

        def init(self, key):
            return self.inner.init(key)

        def ops(self, params):
            return self.inner.ops(params)

        def matrix(self, params):
            return self.inner.matrix(params)

    net = Network([1, 1], [[Perceptron([0], [0], Odd())]])
    with pytest.raises(ValueError, match="layer0.perceptron0 has family Odd"):
        spec.save(tmp_path / "x.json", net)
    with pytest.raises(ValueError, match="must end in .json"):
        spec.save(tmp_path / "x.toml", architectures.fig3a(2))
    assert len(spec.fingerprint_network(net)) == 64  # an unknown family still has a fingerprint


# -- paths, n, python refs --------------------------------------------------------------------------------------


def test_paths_stay_in_the_spec_folder_unless_allowed(tmp_path):
    inner = tmp_path / "specs"
    inner.mkdir()
    np.save(tmp_path / "u.npy", np.eye(4, dtype=complex))
    fam = {"widths": [1, 1], "layers": [[{"inputs": [0], "outputs": [0], "family": {"npy": "../u.npy"}}]]}
    f = write(inner, fam)
    with pytest.raises(spec.SpecError, match=r"layers\[0\]\[0\]\.family\.npy: path '\.\./u\.npy' leaves the spec's"):
        spec.load(f)
    assert spec.build(spec.load(f, allow_outside=True)).widths == (1, 1)
    absolute = json.loads(json.dumps(fam).replace("../u.npy", str(tmp_path / "u.npy")))
    with pytest.raises(spec.SpecError, match="leaves the spec's folder"):
        spec.network_source(write(inner, absolute, "abs.json"))
    assert spec.network_source(write(inner, absolute, "abs.json"), allow_outside=True).network().widths == (1, 1)
    os.symlink(tmp_path / "u.npy", inner / "link.npy")
    linked = json.loads(json.dumps(fam).replace("../u.npy", "link.npy"))
    with pytest.raises(spec.SpecError, match="leaves the spec's folder"):
        spec.load(write(inner, linked, "link.json"))
    with pytest.raises(spec.SpecError, match="reserved"):
        spec.load(write(inner, {**fam, "_allow_outside": True}, "sneaky.json"))


def test_network_source_n_rules(tmp_path):
    dep = spec.network_source(BY_N / "fig3b.toml")
    with pytest.raises(spec.SpecError, match=r"fig3b\.toml: n: the spec depends on n \(n >= 2\): give n"):
        dep.network()
    with pytest.raises(spec.SpecError, match=r"n: n = 1 is below the spec's minimum n\.min = 2"):
        dep.network(1)
    fixed = spec.network_source(DOCS / "fig3b.json")
    assert not fixed.depends_on_n
    with pytest.raises(spec.SpecError, match=r"n: the spec does not depend on n \(it fixes n = 4\)"):
        fixed.network(4)
    capped = write(tmp_path, {"architecture": "global", "n": {"min": 1, "max": 3}})
    with pytest.raises(spec.SpecError, match=r"n = 4 is above the spec's maximum n\.max = 3"):
        spec.network_source(capped).network(4)
    assert spec.network_source(capped).network(3).widths == (3, 3)


def test_python_refs_and_their_errors(tmp_path):
    py = tmp_path / "nets.py"
    py.write_text(
        "from dqnn.presets import architectures\n"
        "def good(n):\n    return architectures.fig3a(n)\n"
        "def bad(n):\n    return 42\n"
        "def refuses(n):\n    raise ValueError('n must be even')\n"
    )
    good = spec.network_source(f"{py}:good")
    assert structure(good.network(3)) == structure(architectures.fig3a(3))
    with pytest.raises(spec.SpecError, match=r":good: n: a Python network function takes n"):
        good.network()
    with pytest.raises(spec.SpecError, match=r"bad\(n=3\): returned int, not a dqnn Network"):
        spec.network_source(f"{py}:bad").network(3)
    with pytest.raises(spec.SpecError, match=r"refuses\(n=3\): n must be even"):
        spec.network_source(f"{py}:refuses").network(3)
    with pytest.raises(
        spec.SpecError, match=r"nets\.py: missing: no function 'missing' in the file \(functions: bad, "
    ):
        spec.network_source(f"{py}:missing")
    with pytest.raises(spec.SpecError, match=r"nope\.py: file does not exist"):
        spec.network_source(f"{tmp_path / 'nope.py'}:good")
    broken = tmp_path / "broken.py"
    broken.write_text("def f(n:\n")
    with pytest.raises(spec.SpecError, match=r"broken\.py: importing it failed: SyntaxError"):
        spec.network_source(f"{broken}:f")


def test_old_examples_still_load_and_simulate():
    for f in sorted(DOCS.glob("*.*")):
        if f.suffix in (".json", ".toml"):
            src = spec.network_source(f)
            assert not src.depends_on_n
            assert src.network().num_inputs >= 1
    net, _, rho = spec.simulate(spec.load(DOCS / "mixed_families.toml"))
    assert rho.shape == (2, 2) and abs(np.trace(rho) - 1) < 1e-12


def test_every_n_dependent_example_loads():
    files = sorted(p for p in BY_N.iterdir() if p.suffix in (".json", ".toml"))
    assert {p.name for p in files} >= {"fig3a.json", "fig3b.toml", "global.json", "pyramid.toml", "brick_k2.toml"}
    for f in files:
        src = spec.network_source(f)
        assert src.depends_on_n
        for n in (2, 4):
            assert src.network(n).num_inputs == n
