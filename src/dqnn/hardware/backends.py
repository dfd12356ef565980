"""Running exported circuits on Qiskit Aer: exact density matrices, and samplers with or without noise.

Backend names (:func:`check_backend`): ``"aer"`` (ideal ``AerSimulator``), ``"aer-noisy:<name>"`` with ``<name>``
either ``generic`` (a depolarizing + readout-error ``NoiseModel`` built here, :func:`generic_noise_model`) or a fake
backend of ``qiskit_ibm_runtime.fake_provider`` (e.g. ``aer-noisy:FakeManilaV2``; needs ``qiskit-ibm-runtime``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dqnn.hardware.export import Exported, with_input
from dqnn.hardware.order import qiskit_qargs
from dqnn.model.network import NetworkParams

#: Backend names accepted besides ``aer-noisy:<fake backend>``.
BACKENDS: tuple[str, ...] = ("aer", "aer-noisy:generic")


@dataclass(frozen=True)
class NoiseSpec:
    """The generic noise model: depolarizing probability ``p1`` after every one-qubit gate and ``p2`` after every
    two-qubit gate, and a symmetric readout error ``readout`` (probability of a flipped bit)."""

    p1: float = 1e-3
    p2: float = 1e-2
    readout: float = 2e-2


def generic_noise_model(spec: NoiseSpec | None = None) -> Any:
    """A ``qiskit_aer.noise.NoiseModel``: depolarizing errors on the gates of :data:`NOISY_BASIS`, readout error."""
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    s = spec or NoiseSpec()
    for name, v in (("p1", s.p1), ("p2", s.p2), ("readout", s.readout)):
        if not 0 <= v < 1:
            raise ValueError(f"NoiseSpec.{name}={v!r} must lie in [0, 1)")
    model = NoiseModel(basis_gates=list(NOISY_BASIS))
    model.add_all_qubit_quantum_error(depolarizing_error(s.p1, 1), ["rz", "sx", "x"])
    model.add_all_qubit_quantum_error(depolarizing_error(s.p2, 2), ["cx"])
    r = s.readout
    model.add_all_qubit_readout_error(ReadoutError([[1 - r, r], [r, 1 - r]]))
    return model


#: The basis circuits are transpiled to under the generic noise model.
NOISY_BASIS: tuple[str, ...] = ("rz", "sx", "x", "cx", "reset", "measure")


def check_backend(backend: str) -> str:
    """``backend`` when it names an Aer backend (module doc); ValueError naming it otherwise."""
    if not isinstance(backend, str) or not (backend == "aer" or backend.startswith("aer-noisy:")):
        raise ValueError(f"backend={backend!r} is not 'aer' or 'aer-noisy:<name>' (e.g. 'aer-noisy:generic')")
    if backend.startswith("aer-noisy:") and not backend.split(":", 1)[1]:
        raise ValueError(f"backend={backend!r}: name the noise model after 'aer-noisy:' (e.g. 'aer-noisy:generic')")
    return backend


#: Sampling method: the density-matrix method applies mid-circuit resets and noise as channels, so all shots are
#: sampled from one final state (the statevector method would simulate every shot of a circuit with resets).
SAMPLING_METHOD = "density_matrix"


def simulator(backend: str = "aer", seed: int | None = None, method: str = SAMPLING_METHOD) -> Any:
    """An ``AerSimulator`` for ``backend`` (module doc), seeded by ``seed`` (``seed_simulator``); ``method`` is
    Aer's (default :data:`SAMPLING_METHOD`; at most about 14 qubits)."""
    from qiskit_aer import AerSimulator

    check_backend(backend)
    opts: dict[str, Any] = {"method": method}
    if seed is not None:
        opts["seed_simulator"] = int(seed)
    if backend == "aer":
        return AerSimulator(**opts)
    name = backend.split(":", 1)[1]
    if name == "generic":
        return AerSimulator(noise_model=generic_noise_model(), basis_gates=list(NOISY_BASIS), **opts)
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError as err:
        raise ValueError(
            f"backend={backend!r}: fake backends need qiskit-ibm-runtime (pip install qiskit-ibm-runtime); "
            "'aer-noisy:generic' needs nothing more"
        ) from err
    cls = getattr(fake_provider, name, None)
    if cls is None:
        raise ValueError(f"backend={backend!r}: qiskit_ibm_runtime.fake_provider has no {name!r}")
    return AerSimulator.from_backend(cls(), **opts)


def transpile_for(circuit: Any, sim: Any) -> Any:
    """``circuit`` transpiled for the simulator ``sim`` (optimisation level 0 for ideal Aer: no gate merging)."""
    from qiskit import transpile

    level = 0 if sim.options.noise_model is None else 1
    return transpile(circuit, sim, optimization_level=level)


def density_matrix(circuit: Any, qubits: list[Any], backend: str = "aer") -> np.ndarray:
    """The reduced density matrix ``(2**n,)*2`` of ``qubits`` (dqnn order: the first most significant) at the end of
    ``circuit`` (no measurements), by Aer's density-matrix method on ``backend``'s noise model."""
    from qiskit_aer.library import SaveDensityMatrix

    qc = circuit.copy()
    qargs = qiskit_qargs([qc.qubits[q] if isinstance(q, int) else q for q in qubits])
    qc.append(SaveDensityMatrix(len(qargs), label="rho"), qargs)
    sim = simulator(backend, method="density_matrix")
    res = sim.run(transpile_for(qc, sim)).result()
    return np.asarray(res.data(0)["rho"], dtype=np.complex128)


def aer_density_matrix(
    exported: Exported, params: NetworkParams, rho_in: ArrayLike, backend: str = "aer"
) -> np.ndarray:
    """The output state ``(2**n_out,)*2`` (dqnn order) of the exported circuit on input ``rho_in``, computed by
    Aer's density-matrix method (``save_density_matrix`` on the output qubits; resets and the purification of a
    mixed input traced out by Aer itself)."""
    return density_matrix(with_input(exported, rho_in, params), list(exported.layout.outputs), backend)


__all__ = [
    "BACKENDS",
    "NOISY_BASIS",
    "NoiseSpec",
    "aer_density_matrix",
    "check_backend",
    "density_matrix",
    "generic_noise_model",
    "simulator",
    "transpile_for",
]
