"""Networks to spec files: :func:`save` writes a JSON spec (plus ``.npy`` matrices and an ``.npz`` of parameters
beside it) that :func:`dqnn.spec.builder.build` turns back into the same network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dqnn.model import families, gates
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, NetworkParams

_NAMED = {
    "fig3a": families.fig3a_perceptron(),
    "fig3b-v2": families.fig3b_v2(),
}
_V1 = {w: families.fig3b_v1(w) for w in ("haar-rotation", "ry-cz")}


def _same_matrix(u: object, v: object) -> bool:
    if isinstance(u, str) and isinstance(v, str):
        return u.upper() == v.upper()
    if isinstance(u, str) or isinstance(v, str):
        return False
    return bool(np.array_equal(np.asarray(u), np.asarray(v)))


def _same_elements(a: families.Circuit, b: families.Circuit) -> bool:
    if a.num_qubits != b.num_qubits or len(a.elements) != len(b.elements):
        return False
    for x, y in zip(a.elements, b.elements, strict=True):
        if type(x) is not type(y) or tuple(x.wires) != tuple(y.wires):
            return False
        if not isinstance(x, families.RandomUnitary) and not _same_matrix(x[0], y[0]):
            return False
    return True


class _Writer:
    def __init__(self, path: Path):
        self.path = path
        self.files: dict[int, str] = {}  # id(matrix owner) -> file name: one file per shared matrix

    def npy(self, owner: object, matrix: np.ndarray, stem: str) -> str:
        if id(owner) not in self.files:
            name = f"{self.path.stem}.{stem}.npy"
            np.save(self.path.parent / name, np.asarray(matrix, dtype=np.complex128), allow_pickle=False)
            self.files[id(owner)] = name
        return self.files[id(owner)]

    def family(self, fam: Any, where: str) -> Any:
        if isinstance(fam, families.HaarUnitary):
            return "haar"
        if isinstance(fam, families.Fixed):
            return {"npy": self.npy(fam, fam.unitary, where)}
        if isinstance(fam, HamiltonianRotation):
            return {"hamiltonian": self.npy(fam, fam.h, where + ".h")}
        if isinstance(fam, families.Circuit):
            for name, ref in _NAMED.items():
                if _same_elements(fam, ref):
                    return name
            for w, ref in _V1.items():
                if _same_elements(fam, ref):
                    return "fig3b-v1" if w == "haar-rotation" else {"fig3b-v1": w}
            return {"circuit": [self.element(el, f"{where}.element{i}") for i, el in enumerate(fam.elements)]}
        raise ValueError(
            f"save: {where} has family {type(fam).__name__}, which a spec cannot describe (haar, fixed matrices, "
            "circuits, the Fig. 3a/3b perceptrons, HamiltonianRotation)"
        )

    def element(self, el: families.Element, where: str) -> list[Any]:
        wires = [int(w) for w in el.wires]
        if isinstance(el, families.RandomUnitary):
            return ["random", wires]
        what = el[0]
        if isinstance(what, str):
            if isinstance(el, families.Gate) and what not in gates.NAMED_GATES:
                raise ValueError(f"save: {where} names an unknown gate {what!r}")
            return ["rot" if isinstance(el, families.Rot) else "gate", what, wires]
        return [
            "rot" if isinstance(el, families.Rot) else "gate",
            {"npy": self.npy(el, np.asarray(what), where)},
            wires,
        ]


def save(path: str | Path, net: Network, params: NetworkParams | None = None) -> Path:
    """Write ``net`` (and ``params``, if given) as a JSON spec at ``path`` and return the path.

    Fixed matrices (and matrix generators, Hamiltonians) go to ``<stem>.layer{l}.perceptron{j}....npy`` beside it,
    one file per shared matrix; parameters to ``<stem>.params.npz`` (arrays named by
    :func:`dqnn.training.loop.params_to_arrays`), named in the spec's ``parameters``. Perceptrons that share a
    family object share it again when the spec is loaded. ValueError for a family a spec cannot describe.
    """
    from dqnn.model.params_io import save_params

    p = Path(path)
    if p.suffix != ".json":
        raise ValueError(f"save: path {str(p)!r} must end in .json")
    p.parent.mkdir(parents=True, exist_ok=True)
    w = _Writer(p)
    layers = []
    for l, row in enumerate(net.layers):
        out = []
        for j, pc in enumerate(row):
            fam = w.family(pc.unitary, f"layer{l}.perceptron{j}")
            out.append({"inputs": list(pc.inputs), "outputs": list(pc.outputs), "family": fam})
        layers.append(out)
    spec: dict[str, Any] = {"widths": list(net.widths), "strict": net.strict, "layers": layers}
    if params is not None:
        pname = f"{p.stem}.params.npz"
        save_params(p.parent / pname, params)
        spec["parameters"] = pname
    p.write_text(json.dumps(spec, indent=1) + "\n")
    return p
