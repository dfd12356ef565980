"""Beer et al.'s experiments (Nat. Commun. 11, 808 (2020)) with their protocols, each a data set and a figure.

- :func:`generalisation`: ``total`` pairs ``(|phi_x>, Y|phi_x>)`` of one Haar-random unitary ``Y``; for each
  ``n = 1 .. total``, train on ``subsets`` random subsets of ``n`` pairs and score the fidelity on all ``total``
  pairs, averaged over the subsets (their subset-averaged protocol). Reference for random guessing: a network
  right on the ``n`` training pairs whose other outputs are Haar-random scores ``(n + (total - n) / D) / total``
  (``D = 2**n_out``; a random state has mean fidelity ``1/D`` with any target).
- :func:`noisy_data`: ``total`` pairs of which ``k`` are replaced by pairs with a random input *and* a random
  output (:func:`dqnn.datasets.noisy_pairs`), for each ``k``; trained on all, scored on the clean ones.
- The denoising autoencoder: :mod:`dqnn.training.autoencoder`.

Every run is a :func:`~dqnn.training.trainer.fit` of global Haar perceptrons by PMM (``pmm``; default Beer et al.'s
code convention with ``eps = 0.1``, ``lambda = 1``), seeded; :func:`write_figure` plots a result.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dqnn import datasets
from dqnn.presets import architectures
from dqnn.training.objectives import per_pair_fidelity
from dqnn.training.pmm import PMMConfig
from dqnn.training.trainer import fit

DEFAULT_PMM = PMMConfig.beer(0.1, 1.0, "code")


def _fidelities(net: Any, params: Any, x: Any, t: Any) -> np.ndarray:
    return np.asarray(jax.jit(lambda p: per_pair_fidelity(net, p, "global", x, t))(params))


def generalisation(
    widths: tuple[int, ...] = (2, 3, 2),
    total: int = 8,
    subsets: int = 5,
    steps: int = 200,
    pmm: PMMConfig = DEFAULT_PMM,
    seed: int = 0,
) -> dict[str, Any]:
    """The subset-averaged generalisation curve (module docstring): ``{"n", "fidelity", "std", "reference", ...}``
    (lists over ``n = 1 .. total``)."""
    if widths[0] != widths[-1]:
        raise ValueError(f"generalisation: widths {list(widths)} must have as many outputs as inputs")
    if total < 1 or subsets < 1 or steps < 1:
        raise ValueError(f"generalisation: total={total}, subsets={subsets}, steps={steps} must be >= 1")
    t0 = time.perf_counter()
    key = jax.random.key(seed)
    k_data, k_sub, k_init = jax.random.split(key, 3)
    _, data = datasets.unitary_data(k_data, widths[0], total, 0)
    x, t = np.asarray(data.train_inputs), np.asarray(data.train_targets)
    net = architectures.global_haar(widths)
    d = 2 ** widths[-1]
    means, stds = [], []
    for n in range(1, total + 1):
        scores = []
        for s in range(subsets):
            idx = np.sort(np.asarray(jax.random.permutation(jax.random.fold_in(k_sub, 1000 * n + s), total))[:n])
            res = fit(
                net,
                (x[idx], t[idx]),
                method="pmm",
                pmm_config=pmm,
                steps=steps,
                seed=int(jax.random.randint(jax.random.fold_in(k_init, 1000 * n + s), (), 0, 2**31 - 1)),
                plot=False,
            )
            scores.append(float(np.mean(_fidelities(net, res.params, jnp.asarray(x), jnp.asarray(t)))))
        means.append(float(np.mean(scores)))
        stds.append(float(np.std(scores)))
    ns = list(range(1, total + 1))
    return {
        "experiment": "generalisation",
        "widths": list(widths),
        "total": total,
        "subsets": subsets,
        "steps": steps,
        "n": ns,
        "fidelity": means,
        "std": stds,
        "reference": [(n + (total - n) / d) / total for n in ns],
        "seed": seed,
        "seconds": time.perf_counter() - t0,
    }


def noisy_data(
    widths: tuple[int, ...] = (2, 3, 2),
    total: int = 8,
    noisy: list[int] | None = None,
    steps: int = 200,
    pmm: PMMConfig = DEFAULT_PMM,
    seed: int = 0,
) -> dict[str, Any]:
    """Training on ``total`` pairs of which ``k`` (each of ``noisy``, default ``0 .. total - 1``) are random pairs;
    ``{"noisy", "fidelity"}``: the mean fidelity on the clean pairs after ``steps`` PMM steps."""
    if widths[0] != widths[-1]:
        raise ValueError(f"noisy_data: widths {list(widths)} must have as many outputs as inputs")
    ks = list(range(total)) if noisy is None else [int(k) for k in noisy]
    if any(not 0 <= k < total for k in ks):
        raise ValueError(f"noisy_data: every noisy count must lie in [0, {total - 1}], got {ks}")
    t0 = time.perf_counter()
    net = architectures.global_haar(widths)
    fids = []
    for k in ks:
        x, t, clean = datasets.noisy_pairs(jax.random.key(seed), widths[0], total, k)
        res = fit(net, (np.asarray(x), np.asarray(t)), method="pmm", pmm_config=pmm, steps=steps, seed=seed, plot=False)
        f = _fidelities(net, res.params, x, t)
        fids.append(float(np.mean(f[np.asarray(clean)])))
    return {
        "experiment": "noisy",
        "widths": list(widths),
        "total": total,
        "steps": steps,
        "noisy": ks,
        "fidelity": fids,
        "seed": seed,
        "seconds": time.perf_counter() - t0,
    }


def write_figure(result: dict[str, Any], path: Path) -> Path:
    """Plot a result of :func:`generalisation` or :func:`noisy_data` to ``path`` (PNG, labelled axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if result["experiment"] == "generalisation":
        ax.errorbar(result["n"], result["fidelity"], yerr=result["std"], fmt="o-", capsize=3, label="trained DQNN")
        ax.plot(result["n"], result["reference"], "--", label="random guessing (n pairs right)")
        ax.set_xlabel(f"training pairs n (of N = {result['total']})")
        ax.set_ylabel("mean fidelity on all N pairs")
        title = f"generalisation {result['widths']}, {result['subsets']} subsets per n, {result['steps']} steps"
    else:
        ax.plot(result["noisy"], result["fidelity"], "o-", label="trained DQNN")
        ax.set_xlabel(f"noisy pairs (of N = {result['total']})")
        ax.set_ylabel("mean fidelity on the clean pairs")
        title = f"noisy training data {result['widths']}, {result['steps']} steps"
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


__all__ = ["DEFAULT_PMM", "generalisation", "noisy_data", "write_figure"]
