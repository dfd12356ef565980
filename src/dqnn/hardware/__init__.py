"""A DQNN on a quantum computer: Qiskit export with qubit reuse, measurement circuits, Qiskit Aer (issue 21).

- :mod:`dqnn.hardware.order`: the one map between dqnn's qubit order and Qiskit's little-endian order;
- :mod:`dqnn.hardware.layout`: the ``reuse`` (mid-circuit reset) and ``fresh`` (one qubit per node) layouts,
  :func:`~dqnn.hardware.layout.reuse_width`;
- :mod:`dqnn.hardware.export`: :func:`~dqnn.hardware.export.to_circuit`, OpenQASM 3;
- :mod:`dqnn.hardware.backends`: Aer simulators (ideal, generic noise, fake backends), exact density matrices;
- :mod:`dqnn.hardware.measure`: measurement circuits per estimator and
  :func:`~dqnn.hardware.measure.estimate_on_backend`.

Needs ``qiskit`` and ``qiskit-aer`` (OpenQASM 3 import: ``qiskit_qasm3_import``); imported on use.
"""

from __future__ import annotations

from dqnn.hardware.backends import BACKENDS as BACKENDS
from dqnn.hardware.backends import NoiseSpec as NoiseSpec
from dqnn.hardware.backends import aer_density_matrix as aer_density_matrix
from dqnn.hardware.backends import check_backend as check_backend
from dqnn.hardware.export import Exported as Exported
from dqnn.hardware.export import from_qasm3 as from_qasm3
from dqnn.hardware.export import to_circuit as to_circuit
from dqnn.hardware.export import to_qasm3 as to_qasm3
from dqnn.hardware.export import with_input as with_input
from dqnn.hardware.layout import LAYOUTS as LAYOUTS
from dqnn.hardware.layout import plan as plan
from dqnn.hardware.layout import reuse_width as reuse_width
from dqnn.hardware.measure import BACKEND_METHODS as BACKEND_METHODS
from dqnn.hardware.measure import estimate_on_backend as estimate_on_backend
from dqnn.hardware.measure import gradient_on_backend as gradient_on_backend
from dqnn.hardware.order import qiskit_qargs as qiskit_qargs
