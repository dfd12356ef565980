"""A network's parameters as named arrays: ``.npz`` files without pickle (training runs, spec files).

Names are ``layer{l}.perceptron{j}.{leaf}`` (``{leaf}{i}`` for the items of a tuple leaf), for the pytree of
:meth:`dqnn.model.network.Network.init`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from dqnn.model.network import NetworkParams


def params_to_arrays(params: NetworkParams) -> dict[str, np.ndarray]:
    """Flat ``{"layer{l}.perceptron{j}.{leaf}": array}`` of a parameter pytree (for ``np.savez``)."""
    out: dict[str, np.ndarray] = {}
    for l, row in enumerate(params):
        for j, p in enumerate(row):
            for name, leaf in p.items():
                if isinstance(leaf, (tuple, list)):
                    for i, a in enumerate(leaf):
                        out[f"layer{l}.perceptron{j}.{name}{i}"] = np.asarray(a)
                else:
                    out[f"layer{l}.perceptron{j}.{name}"] = np.asarray(leaf)
    return out


def save_params(path: Path, params: NetworkParams) -> None:
    """Write ``params`` to an ``.npz`` (keys of :func:`params_to_arrays`; loads with ``allow_pickle=False``)."""
    with open(path, "wb") as fh:
        np.savez(fh, **params_to_arrays(params))  # type: ignore[arg-type]


def load_params(path: Path, template: NetworkParams) -> NetworkParams:
    """Read parameters saved by :func:`save_params` into the structure of ``template``."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    flat = params_to_arrays(template)
    missing = sorted(set(flat) - set(arrays))
    if missing:
        raise ValueError(f"{path}: missing parameter arrays {missing[:5]}")
    out = []
    for l, row in enumerate(template):
        new_row = []
        for j, p in enumerate(row):
            q: dict[str, Any] = {}
            for name, leaf in p.items():
                if isinstance(leaf, (tuple, list)):
                    q[name] = tuple(jnp.asarray(arrays[f"layer{l}.perceptron{j}.{name}{i}"]) for i in range(len(leaf)))
                else:
                    q[name] = jnp.asarray(arrays[f"layer{l}.perceptron{j}.{name}"])
            new_row.append(q)
        out.append(tuple(new_row))
    return tuple(out)
