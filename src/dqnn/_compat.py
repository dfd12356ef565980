"""Old import paths (before the ``model/ sim/ presets/ ...`` layout) keep working for one release, with a warning.

``import dqnn.simulate`` or ``from dqnn.trainability import PointSpec`` still work: a meta-path finder maps each
moved module to its new home and warns (DeprecationWarning) once per old name. Remove after release 0.2.
``dqnn.cost`` is the cost function (not a module) and ``dqnn.training.objective`` a function, as before;
their modules are :mod:`dqnn.costs` and :mod:`dqnn.training.objectives`.
"""

from __future__ import annotations
import __future__

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Any

#: Old top-level module name -> its new module.
MOVED: dict[str, str] = {
    "analytic": "dqnn.presets.analytic",
    "architectures": "dqnn.presets.architectures",
    "components": "dqnn.sim.components",
    "distributed": "dqnn.trainability.distributed",
    "estimate": "dqnn.estimators.shots",
    "fits": "dqnn.trainability.fits",
    "lightcone": "dqnn.sim.lightcone",  # and SPLIT
    "network": "dqnn.model.network",
    "packed": "dqnn.sim.packed",
    "plot": "dqnn.trainability.plot",
    "problems": "dqnn.presets.problems",
    "report": "dqnn.reproduce",
    "shadows": "dqnn.estimators.shadows",
    "simulate": "dqnn.sim.simulate",
    "statistics": "dqnn.trainability.statistics",
    "study": "dqnn.trainability.study",
    "sweep": "dqnn.trainability.sweep",
}
#: Old modules split over several new ones: the old path gives a module holding the public names of all of them.
SPLIT: dict[str, tuple[str, ...]] = {
    "lightcone": ("dqnn.sim.lightcone", "dqnn.sim.cone_engine", "dqnn.sim.cone_gradients"),
}


def load(old: str) -> ModuleType:
    """The new module of the old name ``dqnn.<old>``, with a DeprecationWarning naming both.

    For a module in :data:`SPLIT`, a module of its own holding the public names of the new ones (the first that
    defines a name wins), as the old module had them; setting a name on it changes none of the new modules.
    """
    parts = SPLIT.get(old, (MOVED[old],))
    where = ", ".join(parts)
    warnings.warn(f"dqnn.{old} moved to {where}; the old path goes away in dqnn 0.2", DeprecationWarning, stacklevel=3)
    if old not in SPLIT:
        return importlib.import_module(parts[0])
    merged = ModuleType(f"dqnn.{old}", f"Deprecated: the public names of {where}.")
    for name in reversed(parts):
        merged.__dict__.update(
            (k, v)
            for k, v in vars(importlib.import_module(name)).items()
            if not k.startswith("_") and not isinstance(v, (ModuleType, __future__._Feature))
        )
    return merged


class _Alias:  # an importlib Loader (not subclassed: importlib.abc costs ~0.1 s to import, dqnn --help pays it)
    def __init__(self, old: str) -> None:
        self.old = old

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return load(self.old)

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[f"dqnn.{self.old}"] = module


class _Finder:  # an importlib MetaPathFinder
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        head, _, old = fullname.partition(".")
        if head != "dqnn" or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(old))  # type: ignore[arg-type]  # a Loader by protocol


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
