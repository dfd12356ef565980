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
