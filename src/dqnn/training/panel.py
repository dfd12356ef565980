"""A Beer-style learning and generalisation panel for ``dqnn reproduce``.

Beer et al. (Nat. Commun. 11, 808 (2020)) train a [2, 3, 2] DQNN of global Haar perceptrons by
parameter-matrix multiplication to learn a random two-qubit unitary, and plot the test fidelity against
the number N of training pairs (it rises to 1 once N reaches the dimension, 4) and against the
fraction of noisy pairs. :func:`beer_panel` runs a small version of both and writes one PNG.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from dqnn.training.loop import TrainConfig, train
from dqnn.training.plots import draw_sweep, draw_training


def beer_panel(
    out_dir: Path,
    quick: bool = True,
    seed: int = 0,
    resume: bool = True,
    steps: int | None = None,
    pairs: list[int] | None = None,
) -> dict[str, Any]:
    """Train [2, 3, 2] by PMM for several N (and, unless ``quick``, several noise fractions); plot and report.

    Returns ``{"pairs", "train_fidelity", "test_fidelity", "noise", "noise_test_fidelity", "steps",
    "seconds", "plot"}`` (lists aligned with ``pairs`` / ``noise``); writes ``out_dir/beer_panel.png``.
    ``quick``: N in 1..6, 200 steps (well under a minute on two cores); otherwise N in 1..8, 500 steps,
    plus a noise curve at N = 8 (``steps`` and ``pairs`` override these). Each run has its folder
    (``out_dir/pairs-N``, ``out_dir/noise-f``) with its checkpoint; with ``resume`` (default) a rerun, e.g. of a
    resumed ``dqnn reproduce``, continues or reuses them: the same numbers, no finished run trained again.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = (200 if quick else 500) if steps is None else steps
    pairs = (list(range(1, 7)) if quick else list(range(1, 9))) if pairs is None else pairs
    noise = [] if quick else [0.0, 0.25, 0.5, 0.75]
    base = TrainConfig(task="unitary", widths=(2, 3, 2), method="pmm", test_pairs=32, steps=steps, seed=seed)
    runs = []
    curves = {}
    for n in pairs:
        res = train(dataclasses.replace(base, pairs=n), out / f"pairs-{n}", resume=resume, plot=False)
        runs.append({"pairs": n, "noise": 0.0} | {k: res.summary[k] for k in ("train_fidelity", "test_fidelity")})
        curves[n] = res.metrics
    noise_runs = []
    for f in noise:
        cfg = dataclasses.replace(base, task="noisy-unitary", pairs=8, noise=f)
        res = train(cfg, out / f"noise-{f:g}", resume=resume, plot=False)
        noise_runs.append({"pairs": 8, "noise": f} | {k: res.summary[k] for k in ("train_fidelity", "test_fidelity")})
    ncols = 3 if noise_runs else 2
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 4))
    n_show = pairs[-1]
    draw_training(axes[0], curves[n_show], label=f"N={n_show}")
    axes[0].set_title(f"[2,3,2] PMM learning a random unitary, N={n_show}", fontsize=9)
    draw_sweep(axes[1], runs, "pairs")
    axes[1].set_title(f"generalisation after {steps} steps", fontsize=9)
    if noise_runs:
        draw_sweep(axes[2], noise_runs, "noise")
        axes[2].set_title("noisy training pairs (N=8)", fontsize=9)
    fig.tight_layout()
    path = out / "beer_panel.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return {
        "pairs": pairs,
        "train_fidelity": [r["train_fidelity"] for r in runs],
        "test_fidelity": [r["test_fidelity"] for r in runs],
        "noise": noise,
        "noise_test_fidelity": [r["test_fidelity"] for r in noise_runs],
        "steps": steps,
        "seed": seed,
        "seconds": time.perf_counter() - t0,
        "plot": str(path),
    }
