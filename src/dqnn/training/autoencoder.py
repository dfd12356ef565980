"""The denoising quantum autoencoder of Bondarenko and Feldmann (PRL 124, 130502 (2020); ref. 38 of the paper).

An ``[n, m, n]`` DQNN of global Haar perceptrons (bottleneck ``m < n``) is trained by parameter-matrix
multiplication on noisy GHZ states (:func:`dqnn.datasets.noisy_ghz`: each qubit flipped by ``X``, spin flip, or
``Z``, dephasing, with probability ``p``). Protocols for the training pairs:

- ``"noisy"`` (theirs, ``DenoiseSpinFlips.m``): ``2N`` noisy states, the first ``N`` as inputs, the other ``N`` as
  targets; the network never sees the clean state;
- ``"clean"``: noisy inputs, the clean GHZ state as every target.

Scored on ``test`` fresh noisy states: the mean fidelity ``<GHZ|rho|GHZ>`` of the noisy inputs and of the
network's outputs (denoising works when the second is larger). :func:`denoising_curve` repeats this over noise
levels and plots both fidelities against ``p``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dqnn import datasets
from dqnn.presets import architectures
from dqnn.training.objectives import per_pair_fidelity
from dqnn.training.pmm import PMMConfig
from dqnn.training.pmm_optim import PMMOptimizer
from dqnn.training.trainer import fit

PROTOCOLS: tuple[str, ...] = ("noisy", "clean")


@dataclass(frozen=True)
class DenoiseConfig:
    """One denoising run: GHZ on ``num_qubits``, widths ``[n, *hidden, n]``, noise model and level ``p``, ``pairs``
    training pairs, ``test`` test states, ``steps`` PMM steps of ``pmm`` (with ``pmm_optimizer``), ``seed``."""

    num_qubits: int = 4
    hidden: tuple[int, ...] = (1,)
    noise: str = "spin-flip"
    p: float = 0.1
    protocol: str = "noisy"
    pairs: int = 40
    test: int = 200
    steps: int = 100
    pmm: PMMConfig = field(default_factory=lambda: PMMConfig(eps=0.2, eta=1.0))
    pmm_optimizer: PMMOptimizer = field(default_factory=PMMOptimizer)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"DenoiseConfig: protocol {self.protocol!r} is not one of {PROTOCOLS}")
        if self.noise not in datasets.GHZ_NOISE:
            raise ValueError(f"DenoiseConfig: noise {self.noise!r} is not one of {datasets.GHZ_NOISE}")
        if not 0.0 <= self.p <= 0.5:
            raise ValueError(f"DenoiseConfig: p={self.p} must lie in [0, 0.5]")
        if self.num_qubits < 2 or not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"DenoiseConfig: num_qubits={self.num_qubits} >= 2 and hidden widths >= 1 needed")
        for name in ("pairs", "test", "steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"DenoiseConfig: {name}={getattr(self, name)} must be >= 1")

    @property
    def widths(self) -> tuple[int, ...]:
        """``(n, *hidden, n)``."""
        return (self.num_qubits, *self.hidden, self.num_qubits)


def denoise(config: DenoiseConfig, out_dir: Path | None = None, resume: bool = True) -> dict[str, Any]:
    """Train one autoencoder (module docstring); ``{"input_fidelity", "output_fidelity", "initial_cost", "cost",
    "p", "noise", "widths", "seconds"}``. With ``out_dir`` the training run is written (and resumed) there."""
    t0 = time.perf_counter()
    n = config.num_qubits
    k_data, k_test, k_init = jax.random.split(jax.random.key(config.seed), 3)
    ghz = datasets.ghz_state(n)
    noisy = datasets.noisy_ghz(k_data, n, 2 * config.pairs, config.p, config.noise)
    x = noisy[: config.pairs]
    t = noisy[config.pairs :] if config.protocol == "noisy" else jnp.tile(jnp.asarray(ghz), (config.pairs, 1))
    net = architectures.global_haar(config.widths)
    res = fit(
        net,
        (np.asarray(x), np.asarray(t)),
        method="pmm",
        pmm_config=config.pmm,
        pmm_optimizer=config.pmm_optimizer,
        params=net.init(k_init),
        steps=config.steps,
        out_dir=out_dir,
        resume=resume,
        plot=False,
    )
    xte = datasets.noisy_ghz(k_test, n, config.test, config.p, config.noise)
    f_in = float(np.mean(np.abs(np.asarray(xte) @ ghz.conj()) ** 2))
    targets = jnp.tile(jnp.asarray(ghz), (config.test, 1))
    f_out = jax.jit(lambda p: jnp.mean(per_pair_fidelity(net, p, "global", xte, targets)))(res.params)
    return {
        "p": config.p,
        "noise": config.noise,
        "widths": list(config.widths),
        "protocol": config.protocol,
        "input_fidelity": f_in,
        "output_fidelity": float(f_out),
        "initial_cost": res.metrics[0]["cost"],
        "cost": res.metrics[-1]["cost"],
        "seconds": time.perf_counter() - t0,
    }


def denoising_curve(config: DenoiseConfig, ps: list[float], out_dir: Path) -> dict[str, Any]:
    """:func:`denoise` for every noise level in ``ps`` (runs in ``out_dir/p-<p>``, resumed); writes
    ``out_dir/denoising.png`` (fidelity of noisy input and denoised output against ``p``); returns the runs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = [denoise(dataclasses.replace(config, p=p), out / f"p-{p:g}") for p in ps]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ps, [r["input_fidelity"] for r in runs], "s--", label="noisy input")
    ax.plot(ps, [r["output_fidelity"] for r in runs], "o-", label=f"denoised output {list(config.widths)}")
    ax.set_xlabel(f"{config.noise} probability per qubit p")
    ax.set_ylabel(f"mean fidelity with GHZ({config.num_qubits})")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"denoising autoencoder, {config.protocol} training pairs, N={config.pairs}", fontsize=9)
    fig.tight_layout()
    path = out / "denoising.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return {"runs": runs, "plot": str(path)}


__all__ = ["PROTOCOLS", "DenoiseConfig", "denoise", "denoising_curve"]
