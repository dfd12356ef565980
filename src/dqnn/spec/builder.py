"""Spec files to networks: :func:`load` (read and validate), :func:`build` (the Network, for a given ``n`` when
the spec depends on it), :func:`input_state`, :func:`load_parameters`, :func:`simulate`.

Every problem is a :class:`~dqnn.spec.errors.SpecError` naming the file and key path; errors raised by the model's
constructors (a matrix that is not unitary, a wire out of range) are caught where the key is known and re-raised
with it. The format is documented in the user guide (``guide/spec.md``) and in :mod:`dqnn.spec`.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dqnn._jax import Array
from dqnn.model import families, gates, states
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.presets import architectures
from dqnn.spec import expressions, schema
from dqnn.spec.errors import SpecError, join, names

#: The file name used in messages for a spec given as a dict in Python.
NO_FILE = "<spec>"


def load(path: str | Path, *, allow_outside: bool = False) -> dict[str, Any]:
    """Read and validate a JSON (``.json``) or TOML (``.toml``) spec file.

    Returns the parsed dict plus ``_file`` (the path as given), ``_base`` (its folder: paths inside the spec are
    relative to it) and ``_allow_outside``. SpecError for a missing or unparsable file, a key a file may not hold
    (those starting with ``_``) and anything :func:`dqnn.spec.schema.validate` refuses.
    """
    p = Path(path)
    file = str(path)
    if p.suffix not in (".json", ".toml"):
        raise SpecError(file, "", f"a spec file ends in .json or .toml, not {p.suffix or 'nothing'!r}")
    if not p.is_file():
        raise SpecError(file, "", "file does not exist")
    text = p.read_text()
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise SpecError(file, "", f"not valid {p.suffix[1:].upper()}: {err}") from None
    if isinstance(data, dict):
        for k in data:
            if k in schema.RESERVED:
                raise SpecError(file, k, "keys starting with '_' are reserved for dqnn")
    schema.validate(data, file)
    data["_file"] = file
    data["_base"] = str(p.parent)
    data["_allow_outside"] = bool(allow_outside)
    _check_paths(data)
    return data


def depends_on_n(data: Mapping[str, Any]) -> bool:
    """Whether the spec is a family ``n -> Network`` (its ``n`` is a table ``{min, max}``)."""
    return isinstance(data.get("n"), dict)


def n_range(data: Mapping[str, Any]) -> tuple[int, int | None]:
    """``(min, max)`` of an n-dependent spec (``max`` None when unbounded)."""
    r = data.get("n")
    if not isinstance(r, dict):
        raise ValueError("n_range: the spec does not depend on n")
    return int(r.get("min", 1)), (int(r["max"]) if "max" in r else None)


@dataclass
class _Ctx:
    file: str
    base: Path
    allow_outside: bool
    cache: dict[Any, Any] = field(default_factory=dict)

    def fail(self, path: str, problem: str) -> SpecError:
        return SpecError(self.file, path, problem)

    def guard(self, path: str, fn: Callable[[], Any]) -> Any:
        """``fn()``, with a ValueError from the model re-raised as a SpecError at ``path``."""
        try:
            return fn()
        except SpecError:
            raise
        except ValueError as err:
            msg = str(err)
            raise self.fail(path, msg[len(path) + 2 :] if msg.startswith(path + ": ") else msg) from None

    def cached(self, key: Any, path: str, make: Callable[[], Any]) -> Any:
        """One object per description: perceptrons with the same family description share the family object."""
        if key not in self.cache:
            self.cache[key] = self.guard(path, make)
        return self.cache[key]


def _ctx(data: Mapping[str, Any], allow_outside: bool | None) -> _Ctx:
    file = str(data.get("_file", NO_FILE))
    schema.validate(data, file)
    allow = bool(data.get("_allow_outside", False)) if allow_outside is None else bool(allow_outside)
    return _Ctx(file, Path(str(data.get("_base", "."))), allow)


def resolve_path(ctx_file: str, base: Path, rel: str, path: str, allow_outside: bool) -> Path:
    """``base / rel``, refusing (SpecError at ``path``) an absolute path, a ``..`` or a link that leaves ``base``
    unless ``allow_outside``; also when the file does not exist."""
    p = Path(rel)
    if not allow_outside:
        leaves = p.is_absolute() or ".." in p.parts or not (base / p).resolve().is_relative_to(base.resolve())
        if leaves:
            raise SpecError(
                ctx_file,
                path,
                f"path {rel!r} leaves the spec's folder (absolute paths and '..' are refused; pass "
                "allow_outside=True, or --allow-outside on the command line, to allow it)",
            )
    full = p if p.is_absolute() else base / p
    if not full.is_file():
        raise SpecError(ctx_file, path, f"file {rel!r} does not exist (paths are relative to {str(base)!r})")
    return full


def _check_paths(data: Mapping[str, Any]) -> None:
    """Every path of a spec stays in its folder (unless allowed): checked once at load, before anything is built."""
    base, file, allow = Path(str(data["_base"])), str(data["_file"]), bool(data["_allow_outside"])

    def walk(v: Any, path: str, key: str | None) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("npy", "hamiltonian") and isinstance(x, str):
                    resolve_path(file, base, x, join(path, k), allow)
                else:
                    walk(x, join(path, k), k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, join(path, i), key)

    walk({k: v for k, v in data.items() if k not in schema.RESERVED and k != "parameters"}, "", None)
    if "parameters" in data and "{n}" not in data["parameters"]:
        resolve_path(file, base, data["parameters"], "parameters", allow)


def _npy(ctx: _Ctx, rel: str, path: str) -> np.ndarray:
    full = resolve_path(ctx.file, ctx.base, rel, path, ctx.allow_outside)
    try:
        return np.load(full, allow_pickle=False)
    except ValueError as err:
        raise ctx.fail(path, f"cannot read {rel!r} as a .npy array ({err})") from None


# -- n and the variables ----------------------------------------------------------------------------------------


def _env_n(data: Mapping[str, Any], n: int | None, file: str) -> dict[str, int]:
    spec_n = data.get("n")
    if isinstance(spec_n, dict):
        lo, hi = n_range(data)
        if n is None:
            raise SpecError(file, "n", f"the spec depends on n (n >= {lo}): give n (--n on the command line)")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise SpecError(file, "n", f"n must be an integer, got {type(n).__name__}")
        if n < lo:
            raise SpecError(file, "n", f"n = {n} is below the spec's minimum n.min = {lo}")
        if hi is not None and n > hi:
            raise SpecError(file, "n", f"n = {n} is above the spec's maximum n.max = {hi}")
        return {"n": int(n)}
    if n is not None:
        fixed = f"it fixes n = {spec_n}" if spec_n is not None else "it has no 'n' table"
        raise SpecError(file, "n", f"the spec does not depend on n ({fixed}); do not give n (--n)")
    return {} if spec_n is None else {"n": int(spec_n)}


def _expr(ctx: _Ctx, value: Any, env: Mapping[str, int], path: str, lo: int | None = None) -> int:
    try:
        v = expressions.evaluate(value, env)
    except expressions.ExpressionError as err:
        raise ctx.fail(path, str(err)) from None
    if lo is not None and v < lo:
        shown = f"{value!r} = {v}" if isinstance(value, str) else str(v)
        raise ctx.fail(path, f"must be >= {lo}, got {shown}")
    return v


# -- families ---------------------------------------------------------------------------------------------------

_WIRES = {"fig3a": 2, "fig3b-v1": 3, "fig3b-v2": 2}


def _family(ctx: _Ctx, desc: Any, n_wires: int, path: str) -> families.Family:
    key = (json.dumps(desc, sort_keys=True), n_wires)
    if desc == "haar":
        return ctx.cached(key, path, lambda: families.HaarUnitary(n_wires))
    fixed = desc if isinstance(desc, str) else ("fig3b-v1" if "fig3b-v1" in desc else None)
    if fixed is not None:
        if _WIRES[fixed] != n_wires:
            ins = _WIRES[fixed] - 1
            raise ctx.fail(
                path,
                f"family {fixed!r} acts on {_WIRES[fixed]} wires ({ins} input(s), 1 output), but this "
                f"perceptron has {n_wires}",
            )
        make: dict[str, Callable[[], families.Family]] = {
            "fig3a": families.fig3a_perceptron,
            "fig3b-v1": lambda: families.fig3b_v1(desc["fig3b-v1"] if isinstance(desc, dict) else "haar-rotation"),
            "fig3b-v2": families.fig3b_v2,
        }
        return ctx.cached(key, path, make[fixed])
    kind = next(iter(desc))
    where = join(path, kind)
    if kind == "npy":
        return ctx.cached(key, where, lambda: families.Fixed(_npy(ctx, desc["npy"], where), n_wires, name=desc["npy"]))
    if kind == "hamiltonian":
        return ctx.cached(key, where, lambda: _hamiltonian(ctx, desc["hamiltonian"], n_wires, where))
    return ctx.cached(key, where, lambda: _circuit(ctx, desc["circuit"], n_wires, where))


def _hamiltonian(ctx: _Ctx, desc: Any, n_wires: int, path: str) -> HamiltonianRotation:
    if isinstance(desc, str):
        h = _npy(ctx, desc, path)
    else:
        h = np.zeros((2**n_wires, 2**n_wires), dtype=np.complex128)
        for label, c in desc.items():
            if len(label) != n_wires:
                raise ctx.fail(
                    join(path, label),
                    f"Pauli string {label!r} has {len(label)} letters, the perceptron has {n_wires} wires",
                )
            h = h + float(c) * gates.pauli_string(label)
    fam = HamiltonianRotation(h, name=path)
    if fam.num_qubits != n_wires:
        raise ctx.fail(path, f"a Hamiltonian on {fam.num_qubits} qubit(s), but the perceptron has {n_wires} wires")
    return fam


def _circuit(ctx: _Ctx, desc: list[Any], n_wires: int, path: str) -> families.Circuit:
    els: list[families.Element] = []
    for i, e in enumerate(desc):
        where = join(path, i)
        wires = e[-1]
        wpath = join(where, len(e) - 1)
        for pos, w in enumerate(wires):
            if w >= n_wires:
                raise ctx.fail(
                    join(wpath, pos),
                    f"wire {w} is out of range for a perceptron on {n_wires} wires (local wires "
                    f"0..{n_wires - 1}: its inputs, then its outputs)",
                )
        if len(set(wires)) != len(wires):
            raise ctx.fail(wpath, f"wires {wires} repeat a wire")
        kind = e[0]
        if kind == "random":
            els.append(families.RandomUnitary(tuple(wires)))
            continue
        what = e[1]
        mat = _npy(ctx, what["npy"], join(join(where, 1), "npy")) if isinstance(what, dict) else None
        if kind == "gate":
            m: np.ndarray = gates.NAMED_GATES[what] if mat is None else mat
            if m.shape != (2 ** len(wires),) * 2:
                name = repr(what) if mat is None else "the matrix"
                raise ctx.fail(
                    where,
                    f"gate {name} has shape {m.shape}: it acts on {m.shape[0].bit_length() - 1} "
                    f"wire(s), but {len(wires)} are given",
                )
            ctx.guard(join(where, 1), functools.partial(gates.check_unitary, m, "gate matrix", len(wires)))
            els.append(families.Gate(what if mat is None else mat, tuple(wires)))
        else:
            if mat is None and len(what) != len(wires):
                raise ctx.fail(
                    where, f"Pauli string {what!r} has {len(what)} letter(s), but {len(wires)} wire(s) are given"
                )
            els.append(families.Rot(what.upper() if mat is None else mat, tuple(wires)))
    return families.Circuit(n_wires, els, name=path)


# -- layers -----------------------------------------------------------------------------------------------------


def _qubits(ctx: _Ctx, qs: list[Any], width: int, layer: int, env: Mapping[str, int], path: str) -> list[int]:
    out = []
    for m, q in enumerate(qs):
        v = _expr(ctx, q, env, join(path, m))
        if not 0 <= v < width:
            raise ctx.fail(
                join(path, m), f"qubit {v} is out of range for layer {layer} of width {width} (0..{width - 1})"
            )
        out.append(v)
    if len(set(out)) != len(out):
        raise ctx.fail(path, f"qubits {out} repeat a qubit")
    return out


def _out_groups(ctx: _Ctx, item: Mapping[str, Any], w_out: int, env: Mapping[str, int], path: str) -> list[list[int]]:
    k = _expr(ctx, item.get("k", 1), env, join(path, "k"), lo=1)
    return [list(range(s, min(s + k, w_out))) for s in range(0, w_out, k)]


def _expand(
    ctx: _Ctx, item: Mapping[str, Any], l: int, w_in: int, w_out: int, env: Mapping[str, int], path: str
) -> list[tuple[list[int], list[int], Any, str]]:
    """``(inputs, outputs, family description, key path)`` of the perceptrons an item stands for."""
    pat = item.get("pattern")
    fam = item.get("family", "haar")
    fpath = join(path, "family")
    if pat is None:
        ins = _qubits(ctx, item.get("inputs", []), w_in, l, env, join(path, "inputs"))
        outs = _qubits(ctx, item["outputs"], w_out, l + 1, env, join(path, "outputs"))
        return [(ins, outs, fam, fpath)]
    if pat == "global":
        return [(list(range(w_in)), o, fam, fpath) for o in _out_groups(ctx, item, w_out, env, path)]
    if pat == "pyramid":
        groups = _out_groups(ctx, item, w_out, env, path)
        p = len(groups)
        if w_in < p:
            raise ctx.fail(
                path,
                f"a pyramid needs at least one input per perceptron: layer {l} has {w_in} "
                f"qubit(s) for {p} perceptron(s)",
            )
        return [(list(range(j * w_in // p, (j + 1) * w_in // p)), o, fam, fpath) for j, o in enumerate(groups)]
    if pat == "window":
        size = _expr(ctx, item["size"], env, join(path, "size"), lo=0)
        stride = _expr(ctx, item.get("stride", 1), env, join(path, "stride"), lo=0)
        offset = _expr(ctx, item.get("offset", 0), env, join(path, "offset"))
        boundary = item.get("boundary", "clip")
        out = []
        for j, o in enumerate(_out_groups(ctx, item, w_out, env, path)):
            idx = [offset + j * stride + i for i in range(size)]
            if boundary == "periodic":
                if size > w_in:
                    raise ctx.fail(
                        join(path, "size"), f"a periodic window of {size} inputs does not fit layer {l} of width {w_in}"
                    )
                idx = [q % w_in for q in idx]
            elif boundary == "error" and any(not 0 <= q < w_in for q in idx):
                raise ctx.fail(
                    path, f"perceptron {j}'s window {idx} leaves layer {l} of width {w_in} (boundary 'error')"
                )
            out.append(([q for q in idx if 0 <= q < w_in], o, fam, fpath))
        return out
    # brick
    if w_in != w_out:
        raise ctx.fail(path, f"a brick layer keeps the width, but layer {l} has {w_in} and layer {l + 1} {w_out}")
    parity = _expr(ctx, item.get("parity", "l % 2"), env, join(path, "parity"), lo=0)
    starts = list(range(parity, w_in - 1, 2))
    pair, single = item.get("pair", "haar"), item.get("single", "fig3b-v2")
    both = item.get("outputs", "first") == "both"
    covered = {q for j in starts for q in (j, j + 1)} if both else set(starts)
    rows = [([j, j + 1], [j, j + 1] if both else [j], pair, join(path, "pair")) for j in starts]
    rows += [([j], [j], single, join(path, "single")) for j in range(w_in) if j not in covered]
    return rows


def _layer_items(layer: Any) -> list[tuple[Any, str]]:
    return [(x, f"[{i}]") for i, x in enumerate(layer)] if isinstance(layer, list) else [(layer, "")]


# -- the network ------------------------------------------------------------------------------------------------


def build(
    data: Mapping[str, Any], n: int | None = None, *, L: int | None = None, allow_outside: bool | None = None
) -> Network:
    """The network a spec describes (for ``n`` when the spec depends on n; SpecError if ``n`` is missing, given
    for a fixed spec, or out of the spec's range).

    ``L`` overrides the number of DQNN layers of a spec that has one (``layers`` of an architecture spec, ``L`` of
    a widths spec), for depth sweeps. ``allow_outside`` defaults to what :func:`load` was given.
    """
    ctx = _ctx(data, allow_outside)
    env = _env_n(data, n, ctx.file)
    if "architecture" in data:
        return _architecture(ctx, data, env, L)
    if "L" in data:
        depth = int(L) if L is not None else _expr(ctx, data["L"], env, "L", lo=1)
    elif L is not None:
        raise ctx.fail("L", "the spec has no 'L' to override (its depth is the length of 'widths')")
    else:
        depth = len(data["widths"]) - 1
    env = {**env, "L": depth}
    wd = data["widths"]
    if isinstance(wd, list):
        if len(wd) != depth + 1:
            raise ctx.fail("widths", f"{len(wd)} widths, but L = {depth} layers need {depth + 1}")
        widths = [_expr(ctx, w, env, join("widths", i), lo=1) for i, w in enumerate(wd)]
    else:
        widths = [_expr(ctx, wd, {**env, "l": l}, f"widths (l = {l})", lo=1) for l in range(depth + 1)]
    lay = data["layers"]
    if isinstance(lay, dict):
        per_layer = [(lay["each"], "layers.each")] * depth
    else:
        if len(lay) != depth:
            raise ctx.fail("layers", f"{len(lay)} layer(s) of perceptrons, but widths {widths} need {depth}")
        per_layer = [(x, join("layers", i)) for i, x in enumerate(lay)]
    rows: list[list[Perceptron]] = []
    for l, (layer, lpath) in enumerate(per_layer):
        lenv = {**env, "l": l}
        row = []
        for item, sub in _layer_items(layer):
            for ins, outs, fam, fpath in _expand(ctx, item, l, widths[l], widths[l + 1], lenv, lpath + sub):
                f = _family(ctx, fam, len(ins) + len(outs), fpath)
                row.append(ctx.guard(lpath + sub, functools.partial(Perceptron, ins, outs, f)))
        if not row:
            raise ctx.fail(lpath, f"layer {l} has no perceptron")
        rows.append(row)
    strict = bool(data.get("strict", False))
    return ctx.guard("layers", lambda: Network(widths, rows, strict=strict))


def _architecture(ctx: _Ctx, data: Mapping[str, Any], env: Mapping[str, int], L: int | None) -> Network:
    n = env["n"]
    layers = int(L) if L is not None else _expr(ctx, data.get("layers", 1), env, "layers", lo=1)
    arch = data["architecture"]
    if "w" in data and arch != "fig3b":
        raise ctx.fail("w", f"'w' picks the Fig. 3b block; the {arch!r} architecture has none")
    make: dict[str, Callable[[], Network]] = {
        "fig3a": lambda: architectures.fig3a(n, layers),
        "fig3b": lambda: architectures.fig3b(n, layers, data.get("w", "haar-rotation")),
        "global": lambda: architectures.global_haar([n] * (layers + 1)),
    }
    return ctx.guard("architecture", make[arch])


# -- input state and parameters ---------------------------------------------------------------------------------


def input_state(data: Mapping[str, Any], n_in: int) -> Array:
    """The input state a spec asks for (default ``|0...0>``) as a ``(2**n_in,)`` vector."""
    file = str(data.get("_file", NO_FILE))
    desc = data.get("input", "zero")
    if desc == "zero":
        return states.zero_state(n_in)
    if desc == "haar":
        return states.haar_state(jax.random.fold_in(jax.random.key(int(data.get("seed", 0))), 1), n_in)
    if not isinstance(desc, list):
        raise SpecError(file, "input", f"expected 'zero', 'haar' or a list of [re, im] pairs, got {desc!r}")
    amps = np.asarray(desc, dtype=float)
    if amps.ndim != 2 or amps.shape[-1] != 2:
        raise SpecError(file, "input", "expected a list of [re, im] pairs")
    vec = amps[:, 0] + 1j * amps[:, 1]
    try:
        states.as_input(vec, n_in, name="amplitudes")
    except ValueError as err:
        raise SpecError(file, "input", str(err)) from None
    return vec


def parameters_path(data: Mapping[str, Any], n: int | None = None) -> Path | None:
    """The spec's parameter file (``{n}`` in its name replaced by ``n``), checked to stay in the spec's folder."""
    if "parameters" not in data:
        return None
    rel = str(data["parameters"])
    if "{n}" in rel:
        rel = rel.replace("{n}", str(n))
    base = Path(str(data.get("_base", ".")))
    return resolve_path(str(data.get("_file", NO_FILE)), base, rel, "parameters", bool(data.get("_allow_outside")))


def load_parameters(data: Mapping[str, Any], net: Network, n: int | None = None) -> NetworkParams | None:
    """The stored parameters of a spec (its ``parameters`` .npz, arrays named as
    :func:`dqnn.training.loop.params_to_arrays` names them), checked against ``net``; None when it has none."""
    from dqnn.model.params_io import load_params, params_to_arrays

    path = parameters_path(data, n)
    if path is None:
        return None
    file = str(data.get("_file", NO_FILE))
    shapes = jax.eval_shape(net.init, jax.random.key(0))  # the structure, without drawing random numbers
    template = jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), shapes)
    want = {k: np.asarray(v) for k, v in params_to_arrays(template).items()}
    try:
        with np.load(path, allow_pickle=False) as z:
            have = {k: z[k] for k in z.files}
    except (ValueError, OSError) as err:
        raise SpecError(file, "parameters", f"cannot read {path.name!r} as an .npz ({err})") from None
    extra = sorted(set(have) - set(want))
    missing = sorted(set(want) - set(have))
    if missing or extra:
        what = f"missing arrays {names(missing[:4])}" if missing else f"arrays {names(extra[:4])} name no parameter"
        raise SpecError(
            file,
            "parameters",
            f"{path.name}: {what} of this network (expected: {names(list(want)[:6])}"
            f"{', ...' if len(want) > 6 else ''})",
        )
    for k, v in want.items():
        if have[k].shape != v.shape:
            raise SpecError(
                file, "parameters", f"{path.name}: array {k!r} has shape {have[k].shape}, the network needs {v.shape}"
            )
        if np.iscomplexobj(have[k]) and not np.iscomplexobj(v) and np.any(have[k].imag):
            raise SpecError(file, "parameters", f"{path.name}: array {k!r} is complex, the network needs real values")
    params = load_params(path, template)
    return jax.tree.map(lambda a, t: jax.numpy.asarray(a, dtype=t.dtype), params, template)


def simulate(
    spec: Mapping[str, Any], seed: int | None = None, n: int | None = None
) -> tuple[Network, NetworkParams, np.ndarray]:
    """Build the network of ``spec`` (for ``n`` if it depends on n), take its stored parameters or initialise it
    (``seed``, else the spec's ``"seed"``, else 0) and simulate its input state: ``(network, parameters, output
    density matrix (2**n_out, 2**n_out) as NumPy)``.

    Two compiled programs (the initialisation and the simulation), not one per operation; the input state is
    part of the simulation program (validated, and real inputs of real networks simulated in real arithmetic,
    as :func:`dqnn.sim.simulate.output_state` does).
    """
    from dqnn import _programs
    from dqnn.sim.simulate import output_state

    net = build(spec, n)
    params = load_parameters(spec, net, n)
    if params is None:
        params = _programs.init(net, jax.random.key(int(seed if seed is not None else spec.get("seed", 0))))
    rho_in = input_state(spec, net.num_inputs)
    rho = jax.jit(lambda p: output_state(net, p, rho_in))(params)
    return net, params, np.asarray(rho)
