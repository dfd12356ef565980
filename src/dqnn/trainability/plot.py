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

from dqnn.trainability.fits import LineFit, log10_variance


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
    exact = [p for p in points if p.get("method") == "exact" and log10_variance(p) is not None]
    # exact values below the double range (variance 0, log10_variance finite) are drawn on a log10 axis
    log_axis = any(not (p.get("variance") or 0) > 0 for p in exact)
    if sampled:
        n = np.array([p["n"] for p in sampled], dtype=float)
        v = np.array([p["variance"] for p in sampled])
        se = np.array([p["stderr"] for p in sampled])
        if log_axis:
            v, se = np.log10(np.where(v > 0, v, np.nan)), se / (np.where(v > 0, v, np.nan) * np.log(10.0))
        bad = np.array([not p.get("trusted", True) for p in sampled])
        ax.errorbar(n[~bad], v[~bad], yerr=se[~bad], fmt="o", capsize=3, label="sampled (± 1 s.e.)")
        if bad.any():
            ax.errorbar(
                n[bad], v[bad], yerr=se[bad], fmt="x", color="tab:red", capsize=3, label="sampled, s.e. not trusted"
            )
    if exact:
        ys = [log10_variance(p) if log_axis else p["variance"] for p in exact]
        ax.plot([p["n"] for p in exact], ys, "s", mfc="none", color="k", label="exact")
    all_n = np.array([p["n"] for p in points], dtype=float)
    if all_n.size:
        grid = np.linspace(all_n.min(), all_n.max(), 200)
        if reference is not None:
            ref = np.asarray(reference(grid), dtype=float)
            if log_axis:
                ref = np.log10(np.where(ref > 0, ref, np.nan))
            ax.plot(grid, ref, "-", color="tab:green", label=reference_label)
        if fit is not None:
            lab = f"fit: base {fit.base:.3g}/qubit" if fit.model == "exponential" else f"fit: n^{fit.slope:.2f}"
            xx = grid if fit.model == "exponential" else np.log2(grid)
            log2_fit = fit.intercept + fit.slope * xx
            ax.plot(grid, log2_fit * np.log10(2.0) if log_axis else 2.0**log2_fit, "--", color="tab:orange", label=lab)
    if not log_axis:
        ax.set_yscale("log")
    ax.set_xlabel("n (qubits per layer)")
    ax.set_ylabel("log10 Var[∂C]" if log_axis else "Var[∂C]")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def variance_map_figure(points: Sequence[dict[str, Any]], title: str, ax: Any = None) -> Any:
    """The per-parameter map: ``log10 Var`` of every parameter (rows, in layer, perceptron, angle order, labelled
    ``L<l>P<j>A<a>``) at every ``n`` (columns); exact values where there are, else sampled. Untrusted sampled
    cells are hatched. Which layers' gradients vanish first reads off the rows."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 + 0.9 * max(1, len({p["n"] for p in points})), 1.5 + 0.28 * 8))
    else:
        fig = ax.figure
    best: dict[tuple[str, int], dict[str, Any]] = {}
    for p in points:
        if p.get("variance") is None:
            continue
        k = (p.get("param", "-"), p["n"])
        if k not in best or p.get("method") == "exact":
            best[k] = p
    params = list(dict.fromkeys(p.get("param", "-") for p in points))
    ns = sorted({p["n"] for p in points})
    grid = np.full((len(params), len(ns)), np.nan)
    for (par, n), p in best.items():
        v = p["variance"]
        grid[params.index(par), ns.index(n)] = np.log10(v) if v > 0 else np.nan
    im = ax.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    for (par, n), p in best.items():
        if not p.get("trusted", True):
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (ns.index(n) - 0.5, params.index(par) - 0.5), 1, 1, fill=False, hatch="//", edgecolor="w"
                )
            )
    ax.set_xticks(range(len(ns)), [str(n) for n in ns])
    ax.set_yticks(range(len(params)), params, fontsize=max(4, 9 - len(params) // 12))
    ax.set_xlabel("n (qubits per layer)")
    ax.set_ylabel("parameter (layer, perceptron, angle)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="log10 Var[∂C]")
    fig.tight_layout()
    return fig


def plot_variance_map(points: Sequence[dict[str, Any]], path: str | Path, title: str) -> Path:
    """:func:`variance_map_figure` written to ``path`` (PNG, 120 dpi)."""
    fig = variance_map_figure(points, title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
