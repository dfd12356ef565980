"""PNG plots of training runs (matplotlib, Agg backend): training curves and generalisation curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def draw_training(ax: Axes, rows: Sequence[dict[str, float]], label: str = "") -> None:
    """Cost and test fidelity against the step on ``ax`` (``rows``: metrics rows, row ``t`` after ``t`` steps)."""
    steps = list(range(len(rows)))
    pre = f"{label} " if label else ""
    ax.plot(steps, [r["cost"] for r in rows], label=f"{pre}training cost")
    ax.plot(steps, [r["test_fidelity"] for r in rows], "--", label=f"{pre}test fidelity")
    if "test_accuracy" in rows[0]:
        ax.plot(steps, [r["test_accuracy"] for r in rows], ":", label=f"{pre}test accuracy")
    ax.set_xlabel("training step")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_sweep(ax: Axes, runs: Sequence[dict[str, Any]], x: str) -> None:
    """Train and test fidelity against ``x`` (``"pairs"`` or ``"noise"``) of the ``runs`` (dicts with those keys)."""
    other = "noise" if x == "pairs" else "pairs"
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault(r[other], []).append(r)
    for g, rs in groups.items():
        rs = sorted(rs, key=lambda r: r[x])
        tag = f" ({other} {g:g})" if len(groups) > 1 else ""
        xs = [r[x] for r in rs]
        ax.plot(xs, [r["test_fidelity"] for r in rs], "o-", label=f"test fidelity{tag}")
        ax.plot(xs, [r["train_fidelity"] for r in rs], "s--", alpha=0.6, label=f"train fidelity{tag}")
    ax.set_xlabel("training pairs N" if x == "pairs" else "fraction of noisy pairs")
    ax.set_ylabel("fidelity")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def training_curve(rows: Sequence[dict[str, float]], path: Path, title: str = "") -> Path:
    """Write the training curve of one run to ``path`` (PNG) and return it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    draw_training(ax, rows)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def sweep_curve(runs: Sequence[dict[str, Any]], x: str, path: Path, title: str = "") -> Path:
    """Write a generalisation (``x="pairs"``) or noise (``x="noise"``) curve to ``path`` (PNG) and return it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    draw_sweep(ax, runs, x)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def metrics_curve(rows: Sequence[dict[str, float]], path: Path, title: str = "") -> Path:
    """Every metric of a :func:`dqnn.training.fit` run against the step (costs on a log scale when positive,
    accuracies beside them on a second panel) to ``path`` (PNG); returns ``path``."""
    steps = list(range(len(rows)))
    names = list(rows[0]) if rows else []
    accs = [k for k in names if "accuracy" in k]
    costs = [k for k in names if k not in accs]
    fig, axes = plt.subplots(1, 2 if accs else 1, figsize=(11 if accs else 6, 4), squeeze=False)
    ax = axes[0][0]
    for k in costs:
        ax.plot(steps, [r[k] for r in rows], label=k.replace("_", " "))
    if costs and all(r[k] > 0 for r in rows for k in costs):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if accs:
        ax2 = axes[0][1]
        for k in accs:
            ax2.plot(steps, [r[k] for r in rows], label=k.replace("_", " "))
        ax2.set_xlabel("training step")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(-0.02, 1.02)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
