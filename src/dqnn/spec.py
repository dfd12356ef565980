"""Networks described as data (JSON or TOML files), for the CLI and for sharing set-ups.

Two forms are accepted::

    {"architecture": "fig3b", "n": 4, "layers": 2, "seed": 0}          # fig3a | fig3b | global
    {"widths": [2, 3, 2], "seed": 0,
     "layers": [[{"inputs": [0, 1], "outputs": [0], "family": "haar"}, ...], ...]}

``family`` is ``"haar"``, ``"fig3a"``, ``"fig3b-v1"``, ``"fig3b-v2"``, ``{"npy": "U.npy"}`` (a fixed
matrix, path relative to the spec file) or ``{"circuit": [...]}`` with elements ``["rot", "Y", [0]]``,
``["gate", "CNOT", [0, 1]]`` or ``["random", [0, 1]]``. Optional ``"input"``: ``"zero"`` (default),
``"haar"`` (seeded), or a list of amplitudes ``[[re, im], ...]``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dqnn._jax import Array
from dqnn.model import families, states
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.presets import architectures


def load(path: str | Path) -> dict[str, Any]:
    """Read a JSON (``.json``) or TOML (``.toml``) spec file into a dict (with ``_base`` = its folder)."""
    p = Path(path)
    if not p.exists():
        raise ValueError(f"spec file {p} does not exist")
    text = p.read_text()
    data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"spec file {p}: top level must be a table/object")
    data["_base"] = str(p.parent)
    return data


def _family(desc: Any, n_wires: int, base: Path, where: str) -> families.Family:
    if desc == "haar":
        return families.HaarUnitary(n_wires)
    if desc == "fig3a":
        return families.fig3a_perceptron()
    if desc == "fig3b-v1":
        return families.fig3b_v1()
    if desc == "fig3b-v2":
        return families.fig3b_v2()
    if isinstance(desc, dict) and "npy" in desc:
        return families.Fixed(np.load(base / desc["npy"], allow_pickle=False), n_wires, name=where)
    if isinstance(desc, dict) and "circuit" in desc:
        els: list[families.Element] = []
        for k, e in enumerate(desc["circuit"]):
            kind = e[0]
            if kind == "rot":
                els.append(families.Rot(e[1], tuple(e[2])))
            elif kind == "gate":
                els.append(families.Gate(e[1], tuple(e[2])))
            elif kind == "random":
                els.append(families.RandomUnitary(tuple(e[1])))
            else:
                raise ValueError(f"{where}: circuit element {k} has unknown kind {kind!r} (rot, gate, random)")
        return families.Circuit(n_wires, els, name=where)
    raise ValueError(f"{where}: unknown family {desc!r}")


def build(spec: dict[str, Any]) -> Network:
    """The network a spec describes."""
    arch = spec.get("architecture")
    if arch is not None:
        n = int(spec["n"])
        layers = int(spec.get("layers", 1))
        if arch == "fig3a":
            return architectures.fig3a(n, layers)
        if arch == "fig3b":
            return architectures.fig3b(n, layers, spec.get("w", "haar-rotation"))
        if arch == "global":
            return architectures.global_haar([n] * (layers + 1))
        raise ValueError(f"spec: unknown architecture {arch!r} (fig3a, fig3b, global)")
    if "widths" not in spec or "layers" not in spec:
        raise ValueError("spec: give either 'architecture' or both 'widths' and 'layers'")
    base = Path(spec.get("_base", "."))
    rows: list[list[Perceptron]] = []
    for l, layer in enumerate(spec["layers"]):
        row = []
        for j, p in enumerate(layer):
            where = f"spec layers[{l}][{j}]"
            ins, outs = list(p.get("inputs", [])), list(p["outputs"])
            row.append(Perceptron(ins, outs, _family(p.get("family", "haar"), len(ins) + len(outs), base, where)))
        rows.append(row)
    return Network(spec["widths"], rows, strict=bool(spec.get("strict", False)))


def simulate(spec: dict[str, Any], seed: int | None = None) -> tuple[Network, NetworkParams, np.ndarray]:
    """Build the network of ``spec``, initialise it (``seed``, else the spec's ``"seed"``, else 0) and simulate
    its input state: ``(network, parameters, output density matrix (2**n_out, 2**n_out) as NumPy)``.

    Two compiled programs (the initialisation and the simulation), not one per operation; the input state is
    part of the simulation program (validated, and real inputs of real networks simulated in real arithmetic,
    as :func:`dqnn.sim.simulate.output_state` does).
    """
    from dqnn import _programs
    from dqnn.sim.simulate import output_state

    net = build(spec)
    s = int(seed if seed is not None else spec.get("seed", 0))
    params = _programs.init(net, jax.random.key(s))
    rho_in = input_state(spec, net.num_inputs)
    rho = jax.jit(lambda p: output_state(net, p, rho_in))(params)
    return net, params, np.asarray(rho)


def input_state(spec: dict[str, Any], n_in: int) -> Array:
    """The input state a spec asks for (default ``|0...0>``)."""
    desc = spec.get("input", "zero")
    if desc == "zero":
        return states.zero_state(n_in)
    if desc == "haar":
        return states.haar_state(jax.random.fold_in(jax.random.key(int(spec.get("seed", 0))), 1), n_in)
    amps = np.asarray(desc, dtype=float)
    if amps.ndim != 2 or amps.shape[1] != 2:
        raise ValueError("spec: 'input' must be 'zero', 'haar' or a list of [re, im] pairs")
    vec = amps[:, 0] + 1j * amps[:, 1]
    states.as_input(vec, n_in, name="spec input")
    return vec
