"""The one registry of the paper's architectures: per preset, everything a study needs to know about it.

A :class:`Preset` names a network builder ``(n, layers, angle) -> Network`` (``angle``: the differentiated
angle, for builders that place it, such as Theorem 1's ``A R_y B``) and what the paper says about it: the
differentiated parameter (a circuit angle, or parameter-matrix-multiplication directions for Theorem 2),
the depth of ``"log"`` layers, the smallest width, the exact closed form and the scaling bound of each cost,
and the source equation. Everything below this registry (engines, samplers, exact moments) sees only the
network, the parameter and the data, never a preset's name.

``key_id`` is folded into the PRNG key of a study point (:meth:`dqnn.trainability.sampling.PointSpec.key`);
it is fixed per preset, so adding or reordering presets never changes anyone's samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dqnn.model.angles import AngleIndex
from dqnn.model.network import Network
from dqnn.presets import analytic, architectures

#: What a preset differentiates: one circuit angle, or the PMM direction ``s`` of Eq. (13) (Theorem 2).
Parameter = Literal["angle", "pmm"]


@dataclass(frozen=True)
class Preset:
    """One of the paper's architectures as a builder plus its analytic results (module doc)."""

    name: str
    key_id: int
    build: Callable[[int, int, AngleIndex | None], Network]
    parameter: Parameter
    source: str
    min_n: int = 1
    layers_per_brick: int = 1
    exact: Callable[[str, int], float | None] = lambda cost, n: None
    bounds: tuple[tuple[str, str], ...] = ()  # (cost, key of analytic.BOUNDS)

    def angle(self) -> AngleIndex | None:
        """The differentiated angle (layer 0, perceptron 0, angle 0 for every angle preset), or None for PMM."""
        return AngleIndex(0, 0, 0) if self.parameter == "angle" else None

    def network(self, n: int, layers: int, angle: AngleIndex | None = None) -> Network:
        """The network at width ``n`` and depth ``layers``, differentiating ``angle`` (default :meth:`angle`).

        ValueError naming the preset when ``n`` or ``layers`` is too small.
        """
        if n < self.min_n or layers < 1:
            raise ValueError(f"preset {self.name!r}: n={n}, layers={layers} too small (need n >= {self.min_n})")
        return self.build(n, layers, angle if angle is not None else self.angle())

    def layers(self, n: int, layers: str | int) -> int:
        """Depth at width ``n``: an integer, or ``"log"`` = ``ceil(log2 n)`` brick layers of this preset."""
        if isinstance(layers, int) or str(layers).isdigit():
            v = int(layers)
            if v < 1:
                raise ValueError(f"layers must be >= 1 or 'log', got {layers!r}")
            return v
        if layers != "log":
            raise ValueError(f"layers must be a positive integer or 'log', got {layers!r}")
        return self.layers_per_brick * max(1, math.ceil(math.log2(max(n, 2))))

    def exact_variance(self, cost: str, n: int) -> float | None:
        """The paper's exact closed form for ``Var`` at width ``n`` with ``cost``, if there is one."""
        return self.exact(cost, n)

    def bound(self, cost: str) -> analytic.Bound | None:
        """The paper's scaling law for ``cost``, if there is one."""
        return next((analytic.BOUNDS[k] for c, k in self.bounds if c == cost), None)


def _place(angle: AngleIndex | None) -> tuple[int, int]:
    """The perceptron ``(layer, perceptron)`` that Theorem 1's network makes ``A R_y B``."""
    return (0, 0) if angle is None else (angle.layer, angle.perceptron)


def _theorem1(n: int, layers: int, angle: AngleIndex | None) -> Network:
    return architectures.global_haar([n] * (layers + 1), differentiate=_place(angle))


def _fig3a_exact(cost: str, n: int) -> float | None:
    return analytic.fig3a_global(n) if cost == "global" else analytic.fig3a_local(n)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "fig3a",
            0,
            lambda n, layers, _: architectures.fig3a(n, layers),
            "angle",
            "Fig. 3a, text after Eq. (10)",
            exact=_fig3a_exact,
        ),
        Preset(
            "fig3b",
            1,
            lambda n, layers, _: architectures.fig3b(n, layers),
            "angle",
            "Fig. 3b, Eqs. (11)-(12)",
            min_n=2,
            layers_per_brick=2,
            bounds=(("global", "fig3b-global"), ("local", "fig3b-local")),
        ),
        Preset(
            "global",
            2,
            _theorem1,
            "angle",
            "Theorem 1, Eqs. (9)-(10)",
            bounds=(("global", "theorem1-global"), ("local", "theorem1-local")),
        ),
        Preset(
            "pmm",
            3,
            lambda n, layers, _: architectures.global_haar([n] * (layers + 1)),
            "pmm",
            "Theorem 2, Eq. (14)",
            bounds=(("global", "pmm-global"), ("local", "pmm-local")),
        ),
    )
}
#: Names of the presets with a circuit angle to differentiate.
ANGLE_PRESETS: tuple[str, ...] = tuple(k for k, p in PRESETS.items() if p.parameter == "angle")


def preset(name: str) -> Preset:
    """The preset called ``name`` (ValueError listing the valid names otherwise)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}: valid names are {', '.join(PRESETS)}") from None
