"""Training data for :func:`dqnn.training.fit`: arrays or ``.npy``/``.npz`` files, checked against a network and cost.

Inputs are ``(N, 2**n_in)`` state vectors or ``(N, 2**n_in, 2**n_in)`` density matrices. Targets, by cost:

- ``"global"`` (Eq. 3): ``(N, 2**n_out)`` target vectors, or ``(N, 2**n_out, 2**n_out)`` target density
  matrices ``sigma_x`` (then the per-pair cost is ``1 - Tr[sigma_x rho_x]``, the fidelity for a pure ``sigma_x``);
- ``"local"`` (Eq. 4): ``(N, n_out, 2)`` single-qubit target factors;
- ``"observable"``: ``(N, 2**n_out, 2**n_out)`` Hermitian ``O_x``, per-pair cost ``Tr[O_x rho_x]``;
- ``"label"``: ``(N,)`` integer labels in {0, 1} (output qubit 0 measured in Z, :mod:`dqnn.training.objectives`).

Every cost is written ``C_x = c_x - Tr[Pi_x rho_x]`` with a fidelity observable ``Pi_x >= 0``
(:func:`fidelity_observables`): ``c_x = 1`` and ``Pi_x`` of :mod:`~dqnn.training.objectives` for global, local and
label costs, ``Pi_x = sigma_x`` for mixed targets, and ``Pi_x = lambda_max(O_x) 1 - O_x``, ``c_x = lambda_max(O_x)``
for an observable (the identity does not change the cost's gradient); ``Pi_x`` is what parameter-matrix
multiplication propagates backwards.

A ``.npz`` file holds ``inputs`` and ``targets`` (or ``labels``), optionally ``val_inputs`` and ``val_targets``
(or ``val_labels``) for a validation set. Files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dqnn.model.network import Network

#: The cost kinds :func:`dqnn.training.fit` takes.
COSTS: tuple[str, ...] = ("global", "local", "observable", "label")


@dataclass(frozen=True, eq=False)
class TrainData:
    """Training pairs and an optional validation set (NumPy arrays; shapes in the module docstring)."""

    inputs: np.ndarray
    targets: np.ndarray
    val_inputs: np.ndarray | None = None
    val_targets: np.ndarray | None = None

    @property
    def num_pairs(self) -> int:
        """Number of training pairs ``N``."""
        return int(self.inputs.shape[0])

    @property
    def has_validation(self) -> bool:
        """Whether a validation set is given (and not empty)."""
        return self.val_inputs is not None and int(self.val_inputs.shape[0]) > 0

    def fingerprint(self) -> str:
        """SHA-256 of every array's dtype, shape and bytes (a resumed run checks its data with it)."""
        h = hashlib.sha256()
        for a in (self.inputs, self.targets, self.val_inputs, self.val_targets):
            if a is None:
                h.update(b"none")
                continue
            c = np.ascontiguousarray(a)
            h.update(f"{c.dtype.str}{c.shape}".encode())
            h.update(c.tobytes())
        return h.hexdigest()


def _npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"data file {path}: cannot be read as .npz without pickles ({err})") from err


def load_data(path: str | os.PathLike[str], targets: str | os.PathLike[str] | None = None) -> TrainData:
    """A :class:`TrainData` from an ``.npz`` file (module docstring), or from two ``.npy`` files (inputs, targets)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data file {p} does not exist")
    if targets is not None:
        t = Path(targets)
        if not t.is_file():
            raise ValueError(f"targets file {t} does not exist")
        try:
            return TrainData(np.load(p, allow_pickle=False), np.load(t, allow_pickle=False))
        except ValueError as err:
            raise ValueError(f"data files {p}, {t}: cannot be read without pickles ({err})") from err
    if p.suffix != ".npz":
        raise ValueError(f"data file {p}: give an .npz (inputs, targets) or two .npy files (inputs, targets)")
    z = _npz(p)
    if "inputs" not in z:
        raise ValueError(f"data file {p}: no 'inputs' array (has {sorted(z)})")
    tkey = "targets" if "targets" in z else "labels" if "labels" in z else None
    if tkey is None:
        raise ValueError(f"data file {p}: no 'targets' or 'labels' array (has {sorted(z)})")
    vt = "val_targets" if "val_targets" in z else "val_labels" if "val_labels" in z else None
    if ("val_inputs" in z) != (vt is not None):
        raise ValueError(f"data file {p}: give both 'val_inputs' and 'val_targets' (or 'val_labels'), or neither")
    return TrainData(z["inputs"], z[tkey], z.get("val_inputs"), None if vt is None else z[vt])


def save_data(path: str | os.PathLike[str], data: TrainData) -> Path:
    """Write ``data`` as the ``.npz`` :func:`load_data` reads."""
    arrays = {"inputs": data.inputs, "targets": data.targets}
    if data.val_inputs is not None and data.val_targets is not None:
        arrays |= {"val_inputs": data.val_inputs, "val_targets": data.val_targets}
    p = Path(path)
    with open(p, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    return p


def as_data(data: Any, validation: Any = None) -> TrainData:
    """A :class:`TrainData` from a :class:`TrainData`, a path, an ``(inputs, targets)`` pair, or a
    :class:`dqnn.datasets.Split` (its test part becomes the validation set); ``validation``: an
    ``(inputs, targets)`` pair that replaces the validation set."""
    if isinstance(data, TrainData):
        out = data
    elif isinstance(data, (str, os.PathLike)):
        out = load_data(data)
    elif hasattr(data, "train_inputs") and hasattr(data, "test_inputs"):
        out = TrainData(*(np.asarray(a) for a in data))
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        out = TrainData(np.asarray(data[0]), np.asarray(data[1]))
    else:
        raise TypeError(
            "data: expected TrainData, a path, an (inputs, targets) pair or a datasets.Split, got "
            f"{type(data).__name__}"
        )
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise TypeError("validation: expected an (inputs, targets) pair")
        out = TrainData(out.inputs, out.targets, np.asarray(validation[0]), np.asarray(validation[1]))
    return out


def _check_inputs(x: np.ndarray, n_in: int, where: str) -> np.ndarray:
    d = 2**n_in
    if x.ndim == 2 and x.shape[1] == d:
        norms = np.linalg.norm(x, axis=1)
        if x.shape[0] and not np.allclose(norms, 1.0, atol=1e-8):
            raise ValueError(
                f"{where}: input states must have unit norm (worst {norms[np.argmax(abs(norms - 1))]:.3g})"
            )
    elif x.ndim == 3 and x.shape[1:] == (d, d):
        if x.shape[0]:
            tr = np.trace(x, axis1=1, axis2=2)
            if not np.allclose(tr, 1.0, atol=1e-8) or not np.allclose(x, np.conj(np.swapaxes(x, 1, 2)), atol=1e-8):
                raise ValueError(f"{where}: input density matrices must be Hermitian with unit trace")
    else:
        raise ValueError(f"{where}: inputs must be (N, {d}) vectors or (N, {d}, {d}) density matrices, got {x.shape}")
    return x.astype(np.complex128)


def _check_targets(t: np.ndarray, cost: str, n: int, n_out: int, where: str) -> np.ndarray:
    d = 2**n_out
    if t.shape[:1] != (n,):
        raise ValueError(f"{where}: {t.shape[0] if t.ndim else 0} targets for {n} inputs")
    if cost == "label":
        if t.ndim != 1 or not np.all(np.isin(t, (0, 1))):
            raise ValueError(f"{where}: label cost needs (N,) labels in {{0, 1}}, got shape {t.shape}")
        return t.astype(np.int32)
    shapes: dict[str, list[tuple[int, ...]]] = {
        "global": [(n, d), (n, d, d)],
        "local": [(n, n_out, 2)],
        "observable": [(n, d, d)],
    }
    ok = shapes[cost]
    if t.shape not in ok:
        raise ValueError(f"{where}: {cost} cost needs targets of shape {' or '.join(map(str, ok))}, got {t.shape}")
    t = t.astype(np.complex128)
    if t.ndim == 3 and t.shape[1] == t.shape[2] and not np.allclose(t, np.conj(np.swapaxes(t, 1, 2)), atol=1e-8):
        raise ValueError(f"{where}: target matrices must be Hermitian")
    return t


def check_data(data: TrainData, net: Network, cost: str) -> TrainData:
    """``data`` with inputs and targets checked against the network's widths and the cost (complex128 / int32).

    ValueError naming the offending array (``inputs``, ``targets``, ``val_inputs``, ``val_targets``).
    """
    if cost not in COSTS:
        raise ValueError(f"cost {cost!r} is not one of {COSTS}")
    x = _check_inputs(np.asarray(data.inputs), net.num_inputs, "inputs")
    if x.shape[0] < 1:
        raise ValueError("inputs: no training pair")
    t = _check_targets(np.asarray(data.targets), cost, x.shape[0], net.num_outputs, "targets")
    vx = vt = None
    if data.val_inputs is not None:
        if data.val_targets is None:
            raise ValueError("val_targets: missing (val_inputs given)")
        vx = _check_inputs(np.asarray(data.val_inputs), net.num_inputs, "val_inputs")
        vt = _check_targets(np.asarray(data.val_targets), cost, vx.shape[0], net.num_outputs, "val_targets")
    return TrainData(x, t, vx, vt)


def fidelity_observables(cost: str, targets: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Pi, c)``: fidelity observables ``(N, 2**n_out, 2**n_out)`` and offsets ``(N,)`` with
    ``C_x = c_x - Tr[Pi_x rho_x]`` (module docstring)."""
    from dqnn.training import objectives

    n = targets.shape[0]
    if cost == "observable":
        lam = np.linalg.eigvalsh(targets)[:, -1]
        eye = np.eye(2**n_out)[None]
        return lam[:, None, None] * eye - targets, lam
    if cost == "global" and targets.ndim == 3:
        return targets, np.ones(n)
    pis = np.asarray(objectives.fidelity_observables(cost, targets, n_out))  # type: ignore[arg-type]
    return pis, np.ones(n)


def observable_factors(pis: np.ndarray) -> np.ndarray:
    """Factors ``S_x`` ``(N, D, D)`` with ``Pi_x = S_x S_x^dagger`` of PSD observables (``eigh``; NumPy)."""
    w, v = np.linalg.eigh(0.5 * (pis + np.conj(np.swapaxes(pis, 1, 2))))
    return v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]


__all__ = [
    "COSTS",
    "TrainData",
    "as_data",
    "check_data",
    "fidelity_observables",
    "load_data",
    "observable_factors",
    "save_data",
]
