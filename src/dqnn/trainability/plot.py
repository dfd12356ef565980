"""Plots of variance studies (matplotlib, Agg backend; no physics here).

Points are the dicts of :meth:`dqnn.trainability.sampling.VariancePoint.to_dict` (sampled) or of exact points
(``method == "exact"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from dqnn.trainability.fits import LineFit


def plot_variance(
    points: Sequence[dict[str, Any]],
    path: str | Path,
    title: str,
    fit: LineFit | None = None,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
    reference_label: str = "analytic",
) -> Path:
    """Log-scale ``Var`` against ``n``: sampled points with error bars, exact points, a reference curve, a fit.

    Written to ``path`` (PNG, 120 dpi); see :func:`variance_figure` for the figure itself.
    """
    fig = variance_figure(points, title, fit, reference, reference_label)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def variance_figure(
    points: Sequence[dict[str, Any]],
    title: str,
    fit: LineFit | None = None,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
    reference_label: str = "analytic",
    ax: Any = None,
) -> Any:
    """The matplotlib Figure of :func:`plot_variance` (drawn on ``ax`` when given, else on a new figure).

    The caller owns the figure (``matplotlib.pyplot.close(fig)`` when done with a new one).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.2))
    else:
        fig = ax.figure
    sampled = [p for p in points if p.get("method") != "exact" and p.get("variance") is not None]
    exact = [p for p in points if p.get("method") == "exact" and p.get("variance") is not None]
    if sampled:
        n = np.array([p["n"] for p in sampled], dtype=float)
        v = np.array([p["variance"] for p in sampled])
        se = np.array([p["stderr"] for p in sampled])
        bad = np.array([not p.get("trusted", True) for p in sampled])
        ax.errorbar(n[~bad], v[~bad], yerr=se[~bad], fmt="o", capsize=3, label="sampled (± 1 s.e.)")
        if bad.any():
            ax.errorbar(
                n[bad], v[bad], yerr=se[bad], fmt="x", color="tab:red", capsize=3, label="sampled, s.e. not trusted"
            )
    if exact:
        ax.plot([p["n"] for p in exact], [p["variance"] for p in exact], "s", mfc="none", color="k", label="exact")
    all_n = np.array([p["n"] for p in points], dtype=float)
    if all_n.size:
        grid = np.linspace(all_n.min(), all_n.max(), 200)
        if reference is not None:
            ax.plot(grid, reference(grid), "-", color="tab:green", label=reference_label)
        if fit is not None:
            lab = f"fit: base {fit.base:.3g}/qubit" if fit.model == "exponential" else f"fit: n^{fit.slope:.2f}"
            ax.plot(grid, fit.predict(grid), "--", color="tab:orange", label=lab)
    ax.set_yscale("log")
    ax.set_xlabel("n (qubits per layer)")
    ax.set_ylabel("Var[∂C]")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
