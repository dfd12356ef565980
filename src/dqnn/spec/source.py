"""One entry point for "a network the user names": :func:`network_source` (a spec file or a Python function) and
the :class:`NetworkSource` it returns; :func:`fingerprint_network` for networks built in Python.

``ref`` is ``FILE.json``, ``FILE.toml`` (:mod:`dqnn.spec.builder`) or ``path/to/file.py:function`` (the file is
imported from its path with ``importlib``; ``function(n)`` returns a :class:`~dqnn.model.network.Network`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dqnn._jax import Array
from dqnn.model import families, gates, states
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, NetworkParams
from dqnn.spec import builder
from dqnn.spec.errors import SpecError

_PY_REF = re.compile(r"^(?P<file>.+\.py):(?P<fn>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class NetworkSource:
    """Where networks come from: a spec file (fixed or n-dependent) or a Python function ``n -> Network``.

    ``origin`` is the ref as given; ``depends_on_n`` is True for n-dependent specs and for Python functions.
    """

    origin: str
    depends_on_n: bool
    _network: Callable[[int | None], Network] = field(repr=False, compare=False)
    _parameters: Callable[[Network, int | None], NetworkParams | None] = field(repr=False, compare=False)
    _input: Callable[[int], Array] = field(repr=False, compare=False)
    _seed: int = field(default=0, repr=False, compare=False)

    def network(self, n: int | None = None) -> Network:
        """The network (for ``n`` when :attr:`depends_on_n`); SpecError if ``n`` is missing, extra or too small."""
        return self._network(n)

    def parameters(self, n: int | None = None) -> NetworkParams | None:
        """The parameters stored with the spec (its ``parameters`` file), else None."""
        return self._parameters(self.network(n), n)

    def fingerprint(self, n: int | None = None) -> str:
        """sha256 hex of the network and its stored parameters (:func:`fingerprint_network`)."""
        net = self.network(n)
        return fingerprint_network(net, self._parameters(net, n))

    def simulate(self, n: int | None = None, seed: int | None = None) -> tuple[Network, NetworkParams, np.ndarray]:
        """``(network, parameters, output density matrix)`` of the source's input state (a spec's ``input``,
        ``|0...0>`` for a Python function). Parameters: the stored ones, else an initialisation from ``seed`` (else
        the spec's ``seed``, else 0). One compiled program for the simulation."""
        from dqnn import _programs
        from dqnn.sim.simulate import output_state

        net = self.network(n)
        params = self._parameters(net, n)
        if params is None:
            params = _programs.init(net, jax.random.key(int(self._seed if seed is None else seed)))
        rho_in = self._input(net.num_inputs)
        rho = jax.jit(lambda p: output_state(net, p, rho_in))(params)
        return net, params, np.asarray(rho)


def network_source(ref: str | Path, *, allow_outside: bool = False) -> NetworkSource:
    """The :class:`NetworkSource` of ``ref``: ``FILE.json``, ``FILE.toml`` or ``path/to/file.py:function``.

    A spec file is read and validated now (SpecError naming the file and key); a Python file is imported now
    (SpecError for a missing file, a file that fails to import, a missing function); its function is called by
    :meth:`NetworkSource.network` (SpecError when it does not return a Network). ``allow_outside`` lets the paths
    inside a spec leave its folder.
    """
    text = str(ref)
    m = _PY_REF.match(text)
    if m is not None:
        return _python_source(text, Path(m["file"]), m["fn"])
    if text.endswith(".py"):
        raise SpecError(text, "", "a Python network is given as path/to/file.py:function")
    data = builder.load(text, allow_outside=allow_outside)
    dep = builder.depends_on_n(data)
    return NetworkSource(
        origin=text,
        depends_on_n=dep,
        _network=lambda n: builder.build(data, n),
        _parameters=lambda net, n: builder.load_parameters(data, net, n),
        _input=lambda n_in: builder.input_state(data, n_in),
        _seed=int(data.get("seed", 0)),
    )


def _python_source(origin: str, path: Path, fn_name: str) -> NetworkSource:
    if not path.is_file():
        raise SpecError(str(path), "", "file does not exist")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    mod_name = f"dqnn_user_network_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise SpecError(str(path), "", "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except Exception as err:  # the user's file: any failure is reported as one line naming it
        sys.modules.pop(mod_name, None)
        raise SpecError(str(path), "", f"importing it failed: {type(err).__name__}: {err}") from None
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        found = sorted(k for k, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == mod_name)
        raise SpecError(
            str(path), fn_name, f"no function {fn_name!r} in the file (functions: {', '.join(found) or 'none'})"
        )

    def network(n: int | None) -> Network:
        if n is None:
            raise SpecError(origin, "n", "a Python network function takes n: give n (--n on the command line)")
        try:
            net = fn(int(n))
        except ValueError as err:
            raise SpecError(origin, f"{fn_name}(n={n})", str(err)) from None
        if not isinstance(net, Network):
            raise SpecError(origin, f"{fn_name}(n={n})", f"returned {type(net).__name__}, not a dqnn Network")
        return net

    return NetworkSource(
        origin=origin,
        depends_on_n=True,
        _network=network,
        _parameters=lambda net, n: None,
        _input=states.zero_state,
        _seed=0,
    )


# -- fingerprints -----------------------------------------------------------------------------------------------


def _array(a: Any) -> dict[str, Any]:
    m = np.ascontiguousarray(np.asarray(a))
    return {"dtype": m.dtype.str, "shape": list(m.shape), "sha256": hashlib.sha256(m.tobytes()).hexdigest()}


def _generator(g: str | np.ndarray) -> np.ndarray:
    return gates.pauli_string(g) if isinstance(g, str) else np.asarray(g, dtype=np.complex128)


def _matrix(a: Any) -> dict[str, Any]:
    return _array(np.asarray(a, dtype=np.complex128))


def describe_family(fam: families.Family) -> dict[str, Any]:
    """A canonical, JSON-able description of a family's content (not its name or object identity): two families
    with equal descriptions make the same unitaries from the same parameters."""
    if isinstance(fam, families.HaarUnitary):
        return {"kind": "haar", "wires": fam.num_qubits}
    if isinstance(fam, families.Fixed):
        return {"kind": "fixed", "wires": fam.num_qubits, "matrix": _matrix(fam.unitary)}
    if isinstance(fam, HamiltonianRotation):
        return {"kind": "hamiltonian", "wires": fam.num_qubits, "h": _matrix(fam.h)}
    if isinstance(fam, families.Circuit):
        els: list[Any] = []
        for el in fam.elements:
            wires = [int(w) for w in el.wires]
            if isinstance(el, families.Rot):
                els.append(["rot", _matrix(_generator(el.generator)), wires])
            elif isinstance(el, families.Gate):
                m = gates.NAMED_GATES[el.matrix] if isinstance(el.matrix, str) else el.matrix
                els.append(["gate", _matrix(m), wires])
            else:
                els.append(["random", wires])
        return {"kind": "circuit", "wires": fam.num_qubits, "elements": els}
    describe = getattr(fam, "describe", None)
    if callable(describe):  # a family that describes itself (e.g. dqnn.model.noise.Noisy: wrapped family + channels)
        return dict(describe())
    # another family: its class and its matrix at a fixed initialisation (deterministic, content-based)
    p = fam.init(jax.random.key(20260101))
    return {
        "kind": f"{type(fam).__module__}.{type(fam).__qualname__}",
        "wires": fam.num_qubits,
        "angles": int(fam.num_angles),
        "matrix_at_key": _matrix(np.round(np.asarray(fam.matrix(p)), 12)),
    }


def describe_network(net: Network, params: NetworkParams | None = None) -> dict[str, Any]:
    """The canonical description :func:`fingerprint_network` hashes: widths, each perceptron's wiring and family
    (:func:`describe_family`), and the parameter arrays (names of :func:`dqnn.training.loop.params_to_arrays`)."""
    from dqnn.model.params_io import params_to_arrays

    desc: dict[str, Any] = {
        "widths": list(net.widths),
        "layers": [
            [{"inputs": list(p.inputs), "outputs": list(p.outputs), "family": describe_family(p.unitary)} for p in row]
            for row in net.layers
        ],
    }
    if params is not None:
        desc["parameters"] = {k: _array(v) for k, v in sorted(params_to_arrays(params).items())}
    return desc


def fingerprint_network(net: Network, params: NetworkParams | None = None) -> str:
    """sha256 hex of :func:`describe_network` (sorted-key JSON): the same network and parameters give the same
    fingerprint, however they were built (a spec, a preset, Python); any change of widths, wiring, family content
    (fixed matrices' bytes, gates, generators) or parameter values changes it."""
    text = json.dumps(describe_network(net, params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
