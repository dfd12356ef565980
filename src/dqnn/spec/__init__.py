"""Networks described as data (JSON or TOML spec files), fixed or as a family ``n -> Network``.

Three forms (the user guide's *Spec files* page documents every key):

- a preset: ``{"architecture": "fig3b", "n": 4, "layers": 2, "seed": 0}`` (``fig3a | fig3b | global``);
- explicit widths and perceptrons: ``{"widths": [2, 3, 2], "layers": [[{"inputs": [0, 1], "outputs": [0],
  "family": "haar"}, ...], ...]}``;
- either of them depending on ``n``: ``"n": {"min": 2}`` makes the spec a family of networks, whose widths, depth
  ``L`` and qubit indices are integer expressions in ``n`` (:mod:`dqnn.spec.expressions`) and whose layers may be
  wiring *patterns* (``global``, ``window``, ``brick``, ``pyramid``, with ``k`` outputs per perceptron) as well as
  perceptrons.

Families: ``"haar"``, ``"fig3a"``, ``"fig3b-v1"``, ``"fig3b-v2"``, ``{"fig3b-v1": "ry-cz"}``, ``{"npy": "U.npy"}``,
``{"circuit": [["rot", "Y", [0]], ["gate", "CNOT", [0, 1]], ["random", [0, 1]]]}``, ``{"hamiltonian": "H.npy"}``
or ``{"hamiltonian": {"ZZ": 1.0}}``. A spec may carry ``"parameters": "params.npz"``. Paths are relative to the
spec file and may not leave its folder unless ``allow_outside=True``.

Every problem is a :class:`SpecError` (a ValueError) whose message is one line ``<file>: <key path>: <problem>``.

Entry points: :func:`network_source` (a spec file or ``file.py:function``, the one other code calls),
:func:`load`, :func:`build`, :func:`input_state`, :func:`simulate`, :func:`save`, :func:`fingerprint_network`.
Modules: :mod:`dqnn.spec.errors`, :mod:`dqnn.spec.expressions`, :mod:`dqnn.spec.schema`,
:mod:`dqnn.spec.builder`, :mod:`dqnn.spec.source`, :mod:`dqnn.spec.writer`.
"""

from __future__ import annotations

from dqnn.spec.builder import build, depends_on_n, input_state, load, load_parameters, simulate
from dqnn.spec.errors import SpecError
from dqnn.spec.source import NetworkSource, describe_network, fingerprint_network, network_source
from dqnn.spec.writer import save

__all__ = [
    "NetworkSource",
    "SpecError",
    "build",
    "depends_on_n",
    "describe_network",
    "fingerprint_network",
    "input_state",
    "load",
    "load_parameters",
    "network_source",
    "save",
    "simulate",
]
